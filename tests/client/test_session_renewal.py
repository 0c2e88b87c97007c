"""Renewing the platform session: only a refusal ends it; an outage, a gateway's 429 or a lost
connection keep it, and a platform served under a path prefix renews under that prefix.

The platform is the real app; `Gateway` plays what stands between it and the console (a proxy
or load balancer), passing every request through except while it is told to fail renewals.
"""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import MalformedResponse, PlatformUnreachable, SessionExpired
from ikan_console.api.models import Tokens

OPS = "priya.nair@ikan.example"
REFRESH = "/v1/auth/refresh"


class Gateway(httpx.AsyncBaseTransport):
    """Forwards to the platform app; records what passed; fails renewals while `failure` is set."""

    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        self.failure: int | Exception | httpx.Response | None = None
        self.seen: list[tuple[str, str, bool]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """One request: recorded, then answered by the platform or by the failure."""
        self.seen.append((request.method, request.url.path, "authorization" in request.headers))
        if self.failure is not None and request.url.path.endswith(REFRESH):
            if isinstance(self.failure, Exception):
                raise self.failure
            if isinstance(self.failure, httpx.Response):
                return self.failure
            headers = {"Retry-After": "30"} if self.failure == 429 else {}
            return httpx.Response(self.failure, text="upstream unavailable", headers=headers)
        return await self._inner.handle_async_request(request)

    def renewals(self) -> list[str]:
        """The paths renewals were sent to."""
        return [path for _, path, _ in self.seen if path.endswith(REFRESH)]


@pytest.fixture
def gateway(platform_app) -> Gateway:  # type: ignore[no-untyped-def]
    """The real platform behind a gateway the test can make fail."""
    return Gateway(platform_app)


@pytest.fixture
async def signed_in(gateway):  # type: ignore[no-untyped-def]
    """Priya signed in through the gateway; `stored` receives what the token store would."""
    stored: list[Tokens | None] = []
    client = PlatformClient("http://platform", transport=gateway, on_tokens=stored.append)
    await client.exchange("sandbox", OPS)
    yield client, stored
    await client.aclose()


@pytest.mark.parametrize(
    "failure",
    [
        503,
        500,
        429,
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("no answer"),
    ],
    ids=["unavailable", "server-error", "rate-limited", "connection-refused", "timeout"],
)
async def test_a_failed_renewal_keeps_the_session_and_says_the_platform_is_unavailable(
    signed_in, gateway, clock, failure
):
    client, stored = signed_in
    kept = client.auth.tokens
    clock.advance(minutes=20)  # the 15-minute access token has expired
    gateway.failure = failure

    with pytest.raises(PlatformUnreachable):
        await client.me()

    assert client.auth.tokens is kept and client.user is not None
    assert None not in stored  # the token store was never told to forget the session
    gateway.failure = None  # the outage ends: the kept refresh token still renews
    assert (await client.me()).email == OPS
    assert client.auth.tokens.refresh_token != kept.refresh_token


async def test_a_refused_renewal_ends_the_session_and_forgets_its_tokens(signed_in, clock):
    client, stored = signed_in
    clock.advance(hours=9)  # past the refresh token's working day: the platform answers 401

    with pytest.raises(SessionExpired):
        await client.queues()

    assert client.user is None and stored[-1] is None


async def test_a_renewal_answer_outside_the_contract_is_malformed_and_keeps_the_session(
    signed_in, gateway, clock
):
    client, stored = signed_in
    kept = client.auth.tokens
    clock.advance(minutes=20)
    gateway.failure = httpx.Response(200, json={"access_token": "only half a session"})

    with pytest.raises(MalformedResponse):
        await client.me()

    assert client.auth.tokens is kept and None not in stored


@pytest.fixture
def prefixed_gateway(platform_app) -> Gateway:  # type: ignore[no-untyped-def]
    """The platform served under /ikan (as behind a reverse proxy): nothing answers outside it."""
    return Gateway(Starlette(routes=[Mount("/ikan", app=platform_app)]))


async def test_a_platform_under_a_path_prefix_renews_the_session_under_that_prefix(
    prefixed_gateway, clock
):
    client = PlatformClient("http://platform/ikan", transport=prefixed_gateway)
    await client.exchange("sandbox", OPS)
    first = client.auth.tokens
    clock.advance(minutes=20)

    assert (await client.me()).email == OPS

    assert prefixed_gateway.renewals() == ["/ikan/v1/auth/refresh"]
    assert client.auth.tokens.access_token != first.access_token
    await client.aclose()


async def test_sign_in_routes_under_a_path_prefix_are_sent_without_the_session(
    prefixed_gateway,
):
    client = PlatformClient("http://platform/ikan", transport=prefixed_gateway)
    await client.exchange("sandbox", OPS)
    prefixed_gateway.seen.clear()

    await client.exchange("sandbox", OPS)  # signing in again over a live session
    await client.sign_out()

    assert prefixed_gateway.seen == [
        ("POST", "/ikan/v1/auth/exchange", False),
        ("POST", "/ikan/v1/auth/logout", False),
    ]
    await client.aclose()


@pytest.mark.parametrize("failure", [503, 429], ids=["unavailable", "rate-limited"])
async def test_resuming_a_stored_session_during_an_outage_is_unreachable_not_ended(
    signed_in, gateway, failure
):
    stored_refresh = signed_in[0].auth.tokens.refresh_token
    gateway.failure = failure
    restarted = PlatformClient("http://platform", transport=gateway)

    with pytest.raises(PlatformUnreachable):
        await restarted.resume(stored_refresh)

    gateway.failure = None
    assert (await restarted.resume(stored_refresh)).email == OPS
    await restarted.aclose()
