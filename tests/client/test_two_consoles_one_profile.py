"""Two consoles on one profile (the TUI, and `whoami` in another terminal) share one session.

Each "process" is its own `SessionKeeper` and `PlatformClient`, with its own view of the
keychain, on one in-memory keychain backend and one lock directory; the platform is the real
app with its reuse detection (a rotated refresh token that comes back ends the whole session).
AUTH-NOTES pitfall 7: a console that spends the refresh token it holds in memory after another
one rotated it ends both sessions; these tests show it spends the stored one instead, one
process at a time, and that a refusal still ends the session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import keyring.errors
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import SessionExpired
from ikan_console.auth.token_store import PLATFORM_REFRESH_TOKEN, KeyringTokenStore
from ikan_console.config import Profile
from ikan_console.session import SessionKeeper
from tests.auth.conftest import MemoryKeyring

OPS = "priya.nair@ikan.example"
OPS_2 = "tom.becker@ikan.example"
API_URL = "https://api.ikan.example"
ACCESS_TOKEN_LIFETIME = {"minutes": 16}  # the platform's access tokens last 15 minutes


class Keychain(MemoryKeyring):
    """The user's keychain, shared by every process; writes can be made to fail."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse_writes = False

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store, unless told to fail like a keychain that locked itself."""
        if self.refuse_writes:
            raise keyring.errors.PasswordSetError("the keychain is locked")
        super().set_password(service, username, password)


class Console:
    """One process on profile ``prod``: a keeper with its own store object, and a client."""

    def __init__(self, platform: httpx.AsyncBaseTransport, keychain: Keychain, locks: Path):
        profile = Profile(name="prod", api_url=API_URL, production=False)
        self.keeper = SessionKeeper(profile, store=KeyringTokenStore(keychain), lock_dir=locks)
        self.client = self.keeper.connect(API_URL, transport=platform)

    async def close(self) -> None:
        """Quit."""
        await self.client.aclose()
        await asyncio.to_thread(self.keeper.close)


@pytest.fixture
def keychain() -> Keychain:
    """The one keychain both consoles use."""
    return Keychain()


@pytest.fixture
async def console(platform_app, keychain, tmp_path) -> AsyncIterator[Callable[..., Console]]:  # type: ignore[no-untyped-def]
    """Start consoles on the same profile, machine and platform; closed at the end."""
    started: list[Console] = []

    def start(platform: httpx.AsyncBaseTransport | None = None) -> Console:
        transport = platform or httpx.ASGITransport(app=platform_app)
        started.append(Console(transport, keychain, tmp_path / "locks"))
        return started[-1]

    yield start
    for each in started:
        await each.close()


def stored(keychain: Keychain) -> str | None:
    """The platform refresh token in the keychain."""
    return KeyringTokenStore(keychain).get("prod", PLATFORM_REFRESH_TOKEN)


async def can_renew(platform_app: Any, refresh_token: str | None) -> bool:
    """Whether the platform still accepts this refresh token (it rotates: used only at the end)."""
    transport = httpx.ASGITransport(app=platform_app)
    async with httpx.AsyncClient(transport=transport, base_url=API_URL) as http:
        answer = await http.post("/v1/auth/refresh", json={"refresh_token": refresh_token})
    return answer.status_code == 200


async def test_whoami_beside_the_open_console_leaves_both_signed_in(
    console, keychain, clock, platform_app
):
    tui = console()
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    whoami = console()
    assert (await whoami.keeper.restore(whoami.client)).email == OPS  # rotates the stored token
    assert stored(keychain) != tui.client.auth.tokens.refresh_token

    clock.advance(**ACCESS_TOKEN_LIFETIME)  # the open console's access token runs out
    assert (await tui.client.me()).email == OPS

    await tui.keeper.flush()
    assert stored(keychain) == tui.client.auth.tokens.refresh_token
    assert (await whoami.client.me()).email == OPS  # the other one is still signed in too
    clock.advance(**ACCESS_TOKEN_LIFETIME)
    assert (await whoami.client.me()).email == OPS  # and renews from what the TUI stored
    again = console()
    assert (await again.keeper.restore(again.client)).email == OPS  # a second whoami


async def test_without_reading_the_store_a_rotated_token_ends_the_whole_session(
    console, keychain, clock, platform_app
):
    """What the platform does to a console that spends its stale copy: nothing is weakened."""
    tui = console()
    tui.client.auth.latest_refresh_token = None  # the console before the fix
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    whoami = console()
    await whoami.keeper.restore(whoami.client)
    clock.advance(**ACCESS_TOKEN_LIFETIME)

    with pytest.raises(SessionExpired):
        await tui.client.me()

    await tui.keeper.flush()
    assert stored(keychain) is None
    with pytest.raises(SessionExpired):  # the reuse revoked the other console's session too
        await whoami.client.me()


class HoldsExpiredRequests(httpx.AsyncBaseTransport):
    """The platform, but each 401 for an expired access token waits until `count` have come,
    so that every console starts its renewal at the same moment."""

    def __init__(self, app: Any, count: int) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._waiting = 0
        self._count = count
        self._all_expired = asyncio.Event()
        self.renewals: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer; hold a 401 until every console has had one; record renewals' statuses."""
        response = await self._inner.handle_async_request(request)
        if request.url.path.endswith("/v1/auth/refresh"):
            self.renewals.append(response.status_code)
        elif response.status_code == 401:
            self._waiting += 1
            if self._waiting >= self._count:
                self._all_expired.set()
            await asyncio.wait_for(self._all_expired.wait(), timeout=10)
        return response


async def test_two_consoles_renewing_at_once_take_turns_and_neither_is_revoked(
    console, keychain, clock, platform_app
):
    platform = HoldsExpiredRequests(platform_app, count=2)
    tui = console(platform)
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    other_tui = console(platform)
    await other_tui.keeper.restore(other_tui.client)
    platform.renewals.clear()
    clock.advance(**ACCESS_TOKEN_LIFETIME)

    first, second = await asyncio.gather(tui.client.me(), other_tui.client.me())

    assert first.email == second.email == OPS
    assert platform.renewals == [200, 200]  # one after the other, each with the newest token
    await tui.keeper.flush()
    await other_tui.keeper.flush()
    assert stored(keychain) in {
        tui.client.auth.tokens.refresh_token,
        other_tui.client.auth.tokens.refresh_token,
    }
    assert await can_renew(platform_app, stored(keychain))


async def test_a_renewal_the_platform_refuses_still_ends_the_session(
    console, keychain, clock, platform_app
):
    tui = console()
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    whoami = console()
    await whoami.keeper.restore(whoami.client)
    logout = console()
    assert await logout.keeper.log_out_stored(logout.client)  # `ikan-console logout`
    clock.advance(**ACCESS_TOKEN_LIFETIME)

    with pytest.raises(SessionExpired):
        await tui.client.me()

    assert tui.client.user is None
    with pytest.raises(SessionExpired):
        await whoami.client.me()
    assert stored(keychain) is None


async def test_a_session_past_its_working_day_ends_in_every_console(console, keychain, clock):
    tui = console()
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    clock.advance(hours=9)  # past the refresh token's 8 hours: the platform answers 401

    with pytest.raises(SessionExpired):
        await tui.client.queues()

    await tui.keeper.flush()
    assert stored(keychain) is None
    whoami = console()
    assert await whoami.keeper.restore(whoami.client) is None


async def test_a_token_this_console_already_spent_is_never_sent_again(
    console, keychain, clock, platform_app
):
    tui = console()
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    spent = stored(keychain)
    keychain.refuse_writes = True  # the renewed tokens cannot be saved: the keychain keeps the old

    for _ in range(2):
        clock.advance(**ACCESS_TOKEN_LIFETIME)
        assert (await tui.client.me()).email == OPS

    assert "Could not write to the keychain" in (await tui.keeper.flush() or "")
    assert stored(keychain) == spent
    assert tui.client.user is not None


async def test_someone_else_signing_in_elsewhere_ends_this_session_and_keeps_theirs(
    console, keychain, clock, platform_app
):
    tui = console()
    await tui.client.exchange("sandbox", OPS)
    await tui.keeper.flush()
    terminal = console()
    await terminal.keeper.log_out_stored(terminal.client)  # logout, then login as Tom
    await terminal.client.exchange("sandbox", OPS_2)
    await terminal.keeper.flush()
    clock.advance(**ACCESS_TOKEN_LIFETIME)

    with pytest.raises(SessionExpired, match="Someone else signed in on this profile"):
        await tui.client.me()

    assert tui.client.user is None  # never Tom's session under Priya's name
    await tui.keeper.flush()
    whoami = console()
    assert (await whoami.keeper.restore(whoami.client)).email == OPS_2  # Tom's is kept


async def test_a_session_only_sign_in_renews_with_nothing_stored(
    platform_app, keychain, clock, tmp_path
):
    profile = Profile(name="prod", api_url=API_URL, production=False)
    keeper = SessionKeeper(profile, lock_dir=tmp_path / "locks")
    keeper.keep_in_memory()  # no keychain: "sign in for this session only"
    client: PlatformClient = keeper.connect(
        API_URL, transport=httpx.ASGITransport(app=platform_app)
    )
    await client.exchange("sandbox", OPS)

    for _ in range(2):
        clock.advance(**ACCESS_TOKEN_LIFETIME)
        assert (await client.me()).email == OPS

    assert keychain.entries == {}
    await client.aclose()
    keeper.close()
