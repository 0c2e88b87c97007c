"""Client fixtures: signed-in PlatformClients against the test's real platform app."""

from __future__ import annotations

import httpx
import pytest

from ikan_console.api.client import PlatformClient


@pytest.fixture
async def client_for(platform_app):  # type: ignore[no-untyped-def]
    """Signed-in clients bound to the test platform, closed afterwards."""
    clients: list[PlatformClient] = []

    async def make(email: str) -> PlatformClient:
        client = PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform_app))
        await client.exchange("sandbox", email)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
