"""Real sockets: the embedded sandbox, and `ikan-platform serve` driven like curl."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.sandbox import start_sandbox


async def test_embedded_sandbox_serves_the_console_flow_on_loopback(tmp_path: Path):
    sandbox = start_sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}")
    try:
        assert sandbox.seeded_now and sandbox.url.startswith("http://127.0.0.1:")
        client = PlatformClient(sandbox.url)
        await client.exchange("sandbox", "priya.nair@ikan.example")
        booking = (await client.bookings(queue="new", limit=1)).items[0]
        cancelled = await client.booking_action(booking, "cancel", {"reason": "client postponed"})
        event = (await client.audit_events(entity_type="booking", entity_id=str(booking.id))).items[
            0
        ]
        assert event.action == "booking.cancel" and event.undoable
        await client.undo(event.id, "wrong booking")
        restored = await client.booking(booking.id)
        assert (cancelled.status, restored.status) == ("cancelled", booking.status)
        await client.aclose()
    finally:
        sandbox.stop()
    second = start_sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}")
    second.stop()
    assert not second.seeded_now  # seeding happens on the first start only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_platform(tmp_path: Path):  # type: ignore[no-untyped-def]
    """`ikan-platform serve --sandbox` in a subprocess, as an operator would start it."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ikan_platform.cli",
            "serve",
            "--sandbox",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'served.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"platform did not start: {process.stdout.read().decode()[-2000:]}")
        time.sleep(0.2)  # polling a child process start-up; no event to wait on
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_served_platform_exchange_cancel_audit_undo_restore_like_curl(served_platform: str):
    api = served_platform
    token = httpx.post(
        f"{api}/v1/auth/exchange",
        json={"provider": "sandbox", "id_token": "priya.nair@ikan.example"},
    ).json()
    auth = {"Authorization": f"Bearer {token['access_token']}"}
    booking = httpx.get(
        f"{api}/v1/bookings", params={"queue": "new", "limit": 1}, headers=auth
    ).json()["items"][0]
    cancel = httpx.post(
        f"{api}/v1/bookings/{booking['id']}/cancel",
        json={"reason": "client postponed"},
        headers={**auth, "If-Match": f'"{booking["version"]}"', "Idempotency-Key": "e2e-cancel-1"},
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    events = httpx.get(
        f"{api}/v1/audit-events",
        params={"entity_type": "booking", "entity_id": booking["id"]},
        headers=auth,
    ).json()["items"]
    assert events[0]["action"] == "booking.cancel"
    undo = httpx.post(
        f"{api}/v1/audit-events/{events[0]['id']}/undo",
        json={"reason": "wrong booking"},
        headers=auth,
    )
    assert undo.status_code == 200
    restored = httpx.get(f"{api}/v1/bookings/{booking['id']}", headers=auth).json()
    assert restored["status"] == booking["status"]
    assert restored["version"] > booking["version"]
