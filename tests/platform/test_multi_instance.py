"""Two platform processes on one database behave as one: nothing that matters lives in memory.

Each test builds two apps with `create_app` on the same database (a SQLite file, or PostgreSQL
when IKAN_TEST_DATABASE_URL is set), as a load balancer would spread a console's requests over
two processes. Neither is given a token secret: the second must find the one the first generated.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from ikan_platform.app import create_app
from ikan_platform.settings import PlatformSettings
from tests.conftest import MovableClock

OPERATOR = "priya.nair@ikan.example"


def _app(database_url: str, clock: MovableClock) -> FastAPI:
    return create_app(PlatformSettings(database_url=database_url, sandbox=True, clock=clock))


@pytest.fixture
def apps(database_url: str, clock: MovableClock) -> Iterator[tuple[FastAPI, FastAPI]]:
    """Two instances of the platform on one database."""
    pair = (_app(database_url, clock), _app(database_url, clock))
    yield pair
    for app in pair:
        app.state.engine.dispose()


@pytest.fixture
async def clients(
    apps: tuple[FastAPI, FastAPI],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """An HTTP client for each instance."""
    first, second = (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://platform")
        for app in apps
    )
    async with first, second:
        yield first, second


async def _sign_in(client: httpx.AsyncClient, email: str = OPERATOR) -> dict:
    response = await client.post(
        "/v1/auth/exchange", json={"provider": "sandbox", "id_token": email}
    )
    assert response.status_code == 200, response.text
    return response.json()


def _bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_a_token_issued_by_one_instance_works_on_the_other(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = clients
    tokens = await _sign_in(first)

    me = await second.get("/v1/me", headers=_bearer(tokens))

    assert me.status_code == 200
    assert me.json()["email"] == OPERATOR


async def test_an_idempotency_key_used_on_one_instance_replays_on_the_other(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = clients
    auth = _bearer(await _sign_in(first))
    page = await first.get("/v1/bookings", params={"queue": "new", "limit": 50}, headers=auth)
    booking = next(b for b in page.json()["items"] if b["assignee"] is None)
    path = f"/v1/bookings/{booking['id']}/claim"
    headers = {**auth, "If-Match": f'"{booking["version"]}"', "Idempotency-Key": "claim-once-1"}

    original = await first.post(path, headers=headers)
    retried = await second.post(path, headers=headers)

    assert original.status_code == retried.status_code == 200
    assert retried.headers.get("Idempotent-Replayed") == "true"
    assert retried.json() == original.json()
    claims = await second.get(
        "/v1/audit-events",
        params={
            "entity_type": "booking",
            "entity_id": str(booking["id"]),
            "action": "booking.claim",
        },
        headers=auth,
    )
    assert [e["request_id"] for e in claims.json()["items"]] == [original.headers["X-Request-Id"]]


async def test_a_refresh_token_rotated_on_one_instance_is_refused_as_reused_on_the_other(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = clients
    signed_in = await _sign_in(first)
    rotated = await first.post(
        "/v1/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
    )
    assert rotated.status_code == 200

    reused = await second.post(
        "/v1/auth/refresh", json={"refresh_token": signed_in["refresh_token"]}
    )

    assert reused.status_code == 401
    assert reused.json()["code"] == "refresh_refused"
    # Reuse means a copy leaked: the whole session ends, on every instance.
    successor = await first.post(
        "/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    )
    assert successor.status_code == 401


async def test_signing_out_on_one_instance_ends_the_session_on_the_other(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = clients
    tokens = await _sign_in(first)

    out = await first.post("/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]})
    refreshed = await second.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert out.status_code == 204
    assert refreshed.status_code == 401


def test_instances_starting_together_agree_on_the_signing_key(
    database_url: str, clock: MovableClock
) -> None:
    start = threading.Barrier(2)
    made: list[FastAPI] = []
    failures: list[BaseException] = []

    def boot() -> None:
        start.wait()
        try:
            made.append(_app(database_url, clock))
        except BaseException as exc:  # reported below, with the other instance's outcome
            failures.append(exc)

    threads = [threading.Thread(target=boot) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for app in made:
        app.state.engine.dispose()

    assert failures == []
    assert made[0].state.secret == made[1].state.secret
