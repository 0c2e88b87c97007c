"""Support works a deletion request end to end in the console, four eyes included."""

from __future__ import annotations

from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen, VerifyDialog
from ikan_console.views.deletion_requests import result_text
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import ADMIN, OPS, settle, sign_in_as, wait_for_screen


async def select_request(pilot, status: str):  # type: ignore[no-untyped-def]
    """Move the cursor to the first request in `status`."""
    table = pilot.app.screen.query_one("#requests", PagedTable)
    row = next(i for i, r in enumerate(table.items) if r.status == status)
    table.move_cursor(row=row)
    await pilot.pause()
    return table, table.items[row]


async def test_verify_approve_execute_with_a_second_person_and_typed_confirmation(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("3")
        await settle(pilot)
        table, request = await select_request(pilot, "received")
        assert app.screen.query_one("#deletion").check_action("execute", ()) is False
        await pilot.press("v")
        await settle(pilot)
        assert table.selected.status == "verifying"
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, VerifyDialog)
        await pilot.press("down", "enter")  # subject confirmed from the email we hold
        await pilot.press(*"Reply from the address on file", "enter")
        await settle(pilot)
        assert table.selected.status == "ready"
        await pilot.press("a")
        await wait_for_screen(pilot, PreviewScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        refused = [n.message for n in app._notifications if n.severity == "error"]
        assert refused and table.selected.status == "ready"  # the verifier may not approve

        await pilot.press("ctrl+o")
        await sign_in_as(pilot, ADMIN)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#requests", PagedTable)
        table.move_cursor(row=next(i for i, r in enumerate(table.items) if r.id == request.id))
        await pilot.pause()
        await pilot.press("a")
        await wait_for_screen(pilot, PreviewScreen)
        await pilot.click("#confirm")
        await settle(pilot)
        assert table.selected.status == "approved"
        await pilot.press("x")
        await wait_for_screen(pilot, ExecuteDialog)
        await pilot.press(*"DR-wrong", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecuteDialog)  # a wrong reference erases nothing
        app.screen.query_one("#typed").value = ""
        await pilot.press(*request.reference, "enter")
        await settle(pilot)
        done = table.selected
        assert done.status == "completed"
        assert app.screen.query_one("#deletion-detail").request == done
        assert "confirmation queued: email, letter" in result_text(done.result)
