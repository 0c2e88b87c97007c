"""The walking skeleton end to end: Ops claims and cancels; an Admin undoes the cancel."""

from __future__ import annotations

import httpx

from ikan_console.screens.main import MainScreen
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import ADMIN, OPS, settle, sign_in_as


async def test_ops_cancel_is_undone_by_admin_from_the_audit_diff(make_console, platform_app):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        assert isinstance(app.screen, MainScreen)
        await settle(pilot)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        assert booking is not None and booking.assignee is None
        await pilot.press("c")
        await settle(pilot)
        claimed = table.selected
        assert claimed.assignee is not None and claimed.assignee.email == OPS
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"Client postponed the move")
        await pilot.press("enter")
        await settle(pilot)
        cancelled = table.selected
        assert cancelled.id == booking.id and cancelled.status == "cancelled"

        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in_as(pilot, ADMIN)
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        events = app.screen.query_one("#events", PagedTable)
        await pilot.press("slash")
        await pilot.press(*booking.reference)
        await pilot.press("enter")
        await settle(pilot)
        assert events.selected.action == "booking.cancel"
        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"Cancelled the wrong booking")
        await pilot.press("enter")
        await settle(pilot)
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
