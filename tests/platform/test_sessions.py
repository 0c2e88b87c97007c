"""A session's access tokens die with it: sign-out and refresh-token reuse end them at once."""

from __future__ import annotations

import httpx

from tests.platform.conftest import OPS
from tests.platform.harness import Api


async def sign_in(http: httpx.AsyncClient, email: str = OPS) -> dict:
    """A new platform session for a seeded user."""
    response = await http.post("/v1/auth/exchange", json={"provider": "sandbox", "id_token": email})
    assert response.status_code == 200, response.text
    return response.json()


async def me(http: httpx.AsyncClient, session: dict) -> httpx.Response:
    """GET /v1/me with the session's access token."""
    return await http.get("/v1/me", headers={"Authorization": f"Bearer {session['access_token']}"})


async def test_signing_out_ends_the_sessions_access_token_at_once(api: Api) -> None:
    http = api.oracle
    session = await sign_in(http)
    other = await sign_in(http)  # the same person on another machine
    assert (await me(http, session)).status_code == 200

    out = await http.post("/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert out.status_code == 204

    refused = await me(http, session)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "session has ended" in refused.json()["detail"]
    assert (await me(http, other)).status_code == 200  # only that session ended


async def test_a_refresh_keeps_the_session_and_a_reused_token_ends_it(api: Api) -> None:
    http = api.oracle
    first = await sign_in(http)
    renewed = (
        await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert (await me(http, first)).status_code == 200  # rotated, not ended
    assert (await me(http, renewed)).status_code == 200

    reused = await http.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401  # someone kept a copy: the whole family is revoked

    assert (await me(http, renewed)).status_code == 401
    assert (await me(http, first)).status_code == 401
