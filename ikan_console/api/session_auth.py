"""Bearer auth with one silent refresh: the only place that touches platform tokens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable

import httpx

from ikan_console.api.errors import SessionExpired
from ikan_console.api.models import Tokens

_NO_AUTH_PATHS = ("/v1/auth/exchange", "/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/nonce")


class PlatformAuth(httpx.Auth):
    """Adds the access token; on a 401, refreshes once, retries once, else raises SessionExpired.

    A lock makes concurrent requests that all see a 401 share one refresh, so a rotating
    refresh token is never spent twice.
    """

    def __init__(self, on_tokens: Callable[[Tokens | None], None] | None = None) -> None:
        self.tokens: Tokens | None = None
        self._on_tokens = on_tokens
        self._lock = asyncio.Lock()

    def set_tokens(self, tokens: Tokens | None) -> None:
        """Start or end a session (and tell the token store)."""
        self.tokens = tokens
        if self._on_tokens is not None:
            self._on_tokens(tokens)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Send with the current token; refresh and retry once on 401."""
        if request.url.path in _NO_AUTH_PATHS:
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
            if self.tokens is sent_with:  # nobody refreshed while we waited
                refresh = httpx.Request(
                    "POST",
                    request.url.copy_with(path="/v1/auth/refresh", query=None),
                    json={"refresh_token": sent_with.refresh_token},
                )
                refreshed = yield refresh
                await refreshed.aread()  # overriding async_auth_flow means reading bodies here
                if refreshed.status_code != 200:
                    self.set_tokens(None)
                    raise SessionExpired("Your session has ended.", hint="Sign in again.")
                self.set_tokens(Tokens.model_validate(refreshed.json()))
            if self.tokens is None:
                raise SessionExpired("Your session has ended.", hint="Sign in again.")
            request.headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            raise SessionExpired("The platform refused the renewed session.", hint="Sign in again.")
