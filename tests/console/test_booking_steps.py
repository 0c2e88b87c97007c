"""An operator takes a booking through the supplier round-trip from the keyboard."""

from __future__ import annotations

from ikan_console.screens.assign_dialog import AssignDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import OPS, settle, sign_in_as, wait_for_screen


async def test_send_confirm_hold_resume_and_assign_a_new_booking(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        assert booking.status == "new"
        view = app.screen.query_one("#queues")
        assert view.check_action("resume", ()) is False  # not on hold: not offered

        await pilot.press("s")
        await settle(pilot)
        assert table.selected.status == "awaiting_supplier"

        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"CH-448812", "enter")
        await settle(pilot)
        assert (table.selected.status, table.selected.supplier_reference) == (
            "confirmed",
            "CH-448812",
        )

        await pilot.press("h")
        await pilot.pause()
        await pilot.press(*"Visa appointment moved", "enter")
        await settle(pilot)
        assert table.selected.status == "on_hold"
        await pilot.press("h")  # the same key resumes a booking on hold
        await settle(pilot)
        assert table.selected.status == "confirmed"

        await pilot.press("a")
        await wait_for_screen(pilot, AssignDialog)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert table.selected.assignee is not None
        assert table.selected.id == booking.id
