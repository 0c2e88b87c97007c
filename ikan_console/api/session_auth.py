"""Bearer auth with one silent refresh: the only place that touches platform tokens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import httpx
from pydantic import ValidationError

from ikan_console.api.errors import MalformedResponse, PlatformUnreachable, SessionExpired
from ikan_console.api.models import Tokens

REFRESH_PATH = "/v1/auth/refresh"
_NO_AUTH_PATHS = ("/v1/auth/exchange", REFRESH_PATH, "/v1/auth/logout", "/v1/auth/nonce")
# The platform refuses a refresh token with 401 (docs/errors.md: refresh_refused); 400 is the
# OAuth spelling of the same refusal (invalid_grant). Anything else (a 5xx, a 429 from a gateway,
# a 404 from a proxy) says nothing about the session, so the stored tokens are kept.
REFUSED = frozenset({400, 401})

LatestRefreshToken = Callable[[], Awaitable[str | None]]
RefreshLock = Callable[[], AbstractAsyncContextManager[object]]


class PlatformAuth(httpx.Auth):
    """Adds the access token; on a 401, refreshes once, retries once, else raises SessionExpired.

    A lock makes concurrent requests that all see a 401 share one refresh, so a rotating
    refresh token is never spent twice. `base_path` is the API URL's path (``/ikan`` for
    ``https://host/ikan``): the platform's routes live under it.

    Other processes on the same profile (``ikan-console whoami`` beside the TUI) rotate the same
    stored session: the platform treats a rotated token that comes back as stolen and ends the
    whole session. So when the keeper provides them, every refresh runs inside `refresh_lock()`
    (held across this profile's processes, until the renewed token is stored), and spends
    the token `latest_refresh_token()` returns, a refresh token another process stored
    after this one's, instead of the one in memory. Without them (the sandbox, tests of the
    client alone) the token in memory is spent, as before.
    """

    def __init__(
        self,
        on_tokens: Callable[[Tokens | None], None] | None = None,
        base_path: str = "",
        *,
        latest_refresh_token: LatestRefreshToken | None = None,
        refresh_lock: RefreshLock | None = None,
    ) -> None:
        self.tokens: Tokens | None = None
        self._on_tokens = on_tokens
        self._lock = asyncio.Lock()
        self._base_path = base_path.rstrip("/")
        self._no_auth = frozenset(self._base_path + path for path in _NO_AUTH_PATHS)
        self.latest_refresh_token = latest_refresh_token
        self.refresh_lock = refresh_lock

    def set_tokens(self, tokens: Tokens | None) -> None:
        """Start or end a session (and tell the token store)."""
        self.tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send with the current token; refresh and retry once on 401."""
        if request.url.path in self._no_auth:
            yield request
            return
        sent_with = self.tokens
        if sent_with is None:  # public routes work signed out; others answer 401 themselves
            yield request
            return
        request.headers["Authorization"] = f"Bearer {sent_with.access_token}"
        response = yield request
        if response.status_code != 401:
            return
        async with self._lock:
            if self.tokens is sent_with:  # nobody in this process refreshed while we waited
                shared = self.refresh_lock() if self.refresh_lock else contextlib.nullcontext()
                async with shared:
                    newer = await self.latest_refresh_token() if self.latest_refresh_token else None
                    refresh = httpx.Request(
                        "POST",
                        request.url.copy_with(path=self._base_path + REFRESH_PATH, query=None),
                        json={"refresh_token": newer or sent_with.refresh_token},
                    )
                    # A transport error here propagates to the client as PlatformUnreachable,
                    # with the tokens untouched: offline is not signed out.
                    refreshed = yield refresh
                    await refreshed.aread()  # overriding async_auth_flow means reading bodies
                    if refreshed.status_code in REFUSED:
                        self.set_tokens(None)
                        raise SessionExpired("Your session has ended.", hint="Sign in again.")
                    if refreshed.status_code != 200:
                        raise PlatformUnreachable(
                            "The platform could not renew your session just now "
                            f"({refreshed.status_code}).",
                            hint="You are still signed in; try again in a moment.",
                        )
                    renewed = _tokens(refreshed)
                    if renewed.user.id != sent_with.user.id:
                        self._hand_over(renewed)
                    self.set_tokens(renewed)
            if self.tokens is None:
                raise SessionExpired("Your session has ended.", hint="Sign in again.")
            request.headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            raise SessionExpired("The platform refused the renewed session.", hint="Sign in again.")

    def _hand_over(self, renewed: Tokens) -> None:
        """Another process stored someone else's session: keep it stored, end ours here."""
        if self._on_tokens is not None:
            self._on_tokens(renewed)  # their old token is spent: the store needs the new one
        self.tokens = None
        raise SessionExpired(
            "Someone else signed in on this profile in another window, which ended your "
            "session here.",
            hint="Sign in again.",
        )


def _tokens(response: httpx.Response) -> Tokens:
    """The renewed session, or MalformedResponse (the old tokens stay: nothing was refused)."""
    try:
        return Tokens.model_validate(response.json())
    except (ValueError, ValidationError):
        raise MalformedResponse(
            "The platform's answer to a session renewal did not match the API contract.",
            hint="The console may be older than the platform; update it.",
        ) from None
