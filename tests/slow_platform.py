"""The real platform app behind a link that loses, holds back or refuses, for write-outcome tests.

With `SlowLink` and `HeldAnswers` every request reaches the real app and is handled in full (a
write is committed); only its answer is late. `SlowLink` is served on a loopback port, so the
client's own timeouts fire as they would against a stalled server; `HeldAnswers` keeps writes'
answers back in-process (over `httpx.ASGITransport`) until the test lets them go.
`SwitchableLink` is a transport the test can take down: then nothing reaches the platform.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.auth._platform import served  # noqa: F401  (re-exported for the tests)

Message = dict[str, Any]
# The client's timeout in these tests, and how late a slow link answers: long enough that a
# loaded CI machine answers in time when the link is not slow, short enough to keep tests quick.
ANSWER_WITHIN = 1.0
LATE = 2.5


class SlowLink:
    """ASGI wrapper: while `delay` is set, answers leave `delay` seconds after the app is done.

    With `writes_only`, reads answer at once (the platform is up, only writes' answers are lost).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.delay = 0.0
        self.writes_only = False

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Run the app; hold its answer back while the link is slow."""
        slow = scope["type"] == "http" and self.delay > 0
        if not slow or (self.writes_only and scope["method"] != "POST"):
            await self.app(scope, receive, send)
            return
        delay = self.delay
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        await asyncio.sleep(delay)  # the client has given up by now; uvicorn drops the rest
        for message in answer:
            await send(message)


class HeldAnswers:
    """ASGI wrapper: while `held` is set, writes are done at once but answered only on release."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.held = False
        self._released = asyncio.Event()

    def release(self) -> None:
        """Let every held answer go, and stop holding."""
        self.held = False
        self._released.set()

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        """Run the app; a write's answer waits for `release()` while held."""
        if not (self.held and scope["type"] == "http" and scope["method"] == "POST"):
            await self.app(scope, receive, send)
            return
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self.app(scope, receive, keep)
        await self._released.wait()
        for message in answer:
            await send(message)


class SwitchableLink(httpx.AsyncBaseTransport):
    """The real platform app, reached through a link the test can take down (nothing is sent)."""

    def __init__(self, platform_app: Any) -> None:
        self.real = httpx.ASGITransport(app=platform_app)
        self.down = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse to connect while down; otherwise pass the request on."""
        if self.down:
            raise httpx.ConnectError("connection refused")
        return await self.real.handle_async_request(request)
