"""Console fixtures: the real console App wired to the real platform app over ASGITransport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp


@pytest.fixture
def make_console(platform_app: object, clock: Callable) -> Callable[..., IkanApp]:
    """Build a console App bound to the test's platform (each call a fresh App).

    Keyword arguments override the connection's fields (environment, production, read_only...);
    `asgi_app` puts a wrapper of the platform app (a held or stricter link) in its place.
    """

    def build(*, asgi_app: object | None = None, **connection: Any) -> IkanApp:
        target = asgi_app or platform_app

        def open_client() -> PlatformClient:
            return PlatformClient("http://platform", transport=httpx.ASGITransport(app=target))

        fields: dict[str, Any] = {
            "environment": "SANDBOX",
            "describe": "test platform (in-process)",
            "open_client": open_client,
        }
        return IkanApp(Connection(**fields | connection), clock=clock)

    return build
