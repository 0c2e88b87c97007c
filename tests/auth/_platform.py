"""The real platform configured for the loopback identity providers, and admin steps against it.

The platform here runs in sandbox mode only so that tests can act as the seeded admin (through
the sandbox provider) to provision, re-role and deactivate the IdP users; the Entra and Google
providers are configured exactly as a deployment would, through `PlatformSettings`.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from ikan_platform.settings import PlatformSettings
from tests.auth._idp import ENTRA_CLIENT_ID, GOOGLE_CLIENT_ID, TENANT, EntraIdp
from tests.conftest import MovableClock

ADMIN = "sofia.marin@ikan.example"
TOKEN_SECRET = "test-secret-not-for-production-use"


def live_clock() -> MovableClock:
    """A movable clock starting now: the IdP mock signs its tokens with the real time."""
    return MovableClock(now=datetime.now(UTC).replace(microsecond=0))


def idp_settings(
    database_url: str,
    clock: MovableClock,
    entra: EntraIdp | None,
    google: Any | None,
    **overrides: Any,
) -> PlatformSettings:
    """Platform settings trusting the given providers, as the environment would set them."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "sandbox": True,
        "clock": clock,
        "token_secret": TOKEN_SECRET,
        **overrides,
    }
    if entra is not None:
        values |= {
            "entra_client_ids": ENTRA_CLIENT_ID,
            "entra_tenant_ids": TENANT,
            "entra_authority_base": entra.base,
            "idp_ca_bundle": entra.ca_file,
        }
    if google is not None:
        values |= {
            "google_client_ids": GOOGLE_CLIENT_ID,
            "google_allowed_domains": "corp.example",
            "google_issuers": google.base,
            "google_jwks_url": f"{google.base}/jwks",
        }
    return PlatformSettings(**values)


def entra_identity(idp: EntraIdp, sub: str, tenant: str = TENANT) -> dict[str, str]:
    """What an admin provisions for an Entra user: the tenant's issuer and the object id."""
    return {"provider": "entra", "issuer": f"{idp.base}/{tenant}/v2.0", "subject": f"oid-{sub}"}


def google_identity(idp: Any, sub: str) -> dict[str, str]:
    """What an admin provisions for a Google user: Google's issuer and the `sub`."""
    return {"provider": "google", "issuer": idp.base, "subject": sub}


class Admin:
    """The seeded admin, working the platform's user management API."""

    def __init__(self, app: Any) -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://platform"
        )
        self._headers: dict[str, str] | None = None

    async def aclose(self) -> None:
        """Close the connection."""
        await self.http.aclose()

    async def headers(self) -> dict[str, str]:
        """A bearer header for the admin (signed in once)."""
        if self._headers is None:
            body = {"provider": "sandbox", "id_token": ADMIN}
            tokens = (await self.http.post("/v1/auth/exchange", json=body)).json()
            self._headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        return self._headers

    async def provision(
        self,
        email: str,
        name: str,
        identity: dict[str, str],
        role: str = "operations",
        **links: int,
    ) -> dict[str, Any]:
        """Create a user who signs in with `identity` (`links`: client_id or supplier_id)."""
        body = {"email": email, "name": name, "role": role, "identity": identity, **links}
        headers = {**await self.headers(), "Idempotency-Key": f"provision-{email}"}
        response = await self.http.post("/v1/users", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()

    async def change(self, user: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
        """A user change (`role`, `deactivate`) against the user's current version."""
        current = await self.http.get(f"/v1/users/{user['id']}", headers=await self.headers())
        headers = {**await self.headers(), "If-Match": current.headers["etag"]}
        response = await self.http.post(
            f"/v1/users/{user['id']}/{action}", json=body, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def served(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a loopback port in a thread (for code that opens its own client).

    The socket listens before the server starts, so clients may connect at once: the kernel
    queues them until uvicorn accepts, and no start-up wait is needed.
    """
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
