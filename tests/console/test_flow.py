"""The walking skeleton end to end: Ops claims and cancels; an Admin undoes the cancel."""

from __future__ import annotations

import httpx

from ikan_console.screens.main import MainScreen
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.screens.sign_in import SignInScreen
from ikan_console.views.paged_table import PagedTable

OPS = "priya.nair@ikan.example"
ADMIN = "sofia.marin@ikan.example"


async def sign_in_as(app, pilot, email: str) -> None:  # type: ignore[no-untyped-def]
    """Pick the user on the sign-in screen and press Enter."""
    await app.workers.wait_for_complete()
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SignInScreen)
    options = screen.query_one("#users")
    index = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == email
    )
    options.highlighted = index
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def settle(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for workers and the messages they post."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def test_ops_cancel_is_undone_by_admin_from_the_audit_diff(make_console, platform_app):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(app, pilot, OPS)
        assert isinstance(app.screen, MainScreen)
        await settle(app, pilot)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        assert booking is not None and booking.assignee is None
        await pilot.press("c")
        await settle(app, pilot)
        claimed = table.selected
        assert claimed.assignee is not None and claimed.assignee.email == OPS
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"Client postponed the move")
        await pilot.press("enter")
        await settle(app, pilot)
        cancelled = table.selected
        assert cancelled.id == booking.id and cancelled.status == "cancelled"

        await pilot.press("ctrl+o")
        await settle(app, pilot)
        await sign_in_as(app, pilot, ADMIN)
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        events = app.screen.query_one("#events", PagedTable)
        await pilot.press("slash")
        await pilot.press(*booking.reference)
        await pilot.press("enter")
        await settle(app, pilot)
        assert events.selected.action == "booking.cancel"
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"Cancelled the wrong booking")
        await pilot.press("enter")
        await settle(app, pilot)
        newest = events.items[0]
        assert newest.action == "undo" and newest.actor.email == ADMIN
        assert newest.reverts_event_id == cancelled_event_id(events)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=platform_app), base_url="http://platform"
    ) as http:
        token = (
            await http.post("/v1/auth/exchange", json={"provider": "sandbox", "id_token": ADMIN})
        ).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        restored = (await http.get(f"/v1/bookings/{booking.id}", headers=headers)).json()
    assert restored["status"] == claimed.status
    assert restored["assignee"]["email"] == OPS
    assert restored["status_reason"] == claimed.status_reason


def cancelled_event_id(events: PagedTable) -> int:
    """The id of the cancel event in the list."""
    return next(e.id for e in events.items if e.action == "booking.cancel")
