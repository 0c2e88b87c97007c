"""Steps that drive the console like a user, shared by Pilot and snapshot tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from textual.pilot import Pilot
from textual.widgets import Footer

from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp
from ikan_console.screens.sign_in import SignInScreen

OPS = "priya.nair@ikan.example"
ADMIN = "sofia.marin@ikan.example"
RMC = "grace.liu@northwind.example"


async def settle(pilot: Pilot) -> None:
    """Wait for workers and the messages they post."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def sign_in_as(pilot: Pilot, email: str) -> None:
    """Pick the user on the sign-in screen and press Enter."""
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SignInScreen), f"expected sign-in, got {screen}"
    options = screen.query_one("#users")
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    assert email in ids, f"{email} not offered on the sign-in screen"
    options.highlighted = ids.index(email)
    await pilot.press("enter")
    await settle(pilot)


async def quiet(pilot: Pilot) -> None:
    """Drop toasts so a snapshot shows only the screen; an error toast fails the test instead."""
    await settle(pilot)
    errors = [n.message for n in pilot.app._notifications if n.severity == "error"]
    assert not errors, f"the screen reported errors: {errors}"
    pilot.app.clear_notifications()
    await pilot.pause()


async def wait_for_screen(pilot: Pilot, screen_type: type, tries: int = 200) -> None:
    """Let the app run until a screen of this type is on top (a worker may be waiting on it)."""
    for _ in range(tries):
        if isinstance(pilot.app.screen, screen_type):
            return
        await pilot.pause()
    raise AssertionError(f"{screen_type.__name__} never appeared; on top: {pilot.app.screen}")


def footer_keys(pilot: Pilot) -> list[str]:
    """The keys the footer shows, left to right, as a user reads them (`c Claim`)."""
    keys = sorted(pilot.app.screen.query_one(Footer).children, key=lambda k: k.region.x)
    return [f"{k.key_display} {k.description}" for k in keys]  # type: ignore[attr-defined]


async def platform_session(platform_app, email: str) -> tuple[httpx.AsyncClient, dict]:  # type: ignore[no-untyped-def]
    """A second person working the same platform directly."""
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=platform_app), base_url="http://platform"
    )
    token = (
        await http.post("/v1/auth/exchange", json={"provider": "sandbox", "id_token": email})
    ).json()
    return http, {"Authorization": f"Bearer {token['access_token']}"}


def console_over(open_client: Callable[[], PlatformClient], clock: Any) -> IkanApp:
    """The console on a platform reached some other way than make_console's direct transport."""
    return IkanApp(Connection("SANDBOX", "test platform", open_client), clock=clock)
