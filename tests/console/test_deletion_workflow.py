"""Support works a deletion request end to end in the console, four eyes included."""

from __future__ import annotations

import pytest

from ikan_console.api.errors import Conflict
from ikan_console.api.models import ScopeCategory
from ikan_console.app import IkanApp
from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen, VerifyDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.deletion_detail import result_text
from ikan_console.widgets.erasure_scope import ErasureScope, scope_totals
from tests.console.deletion_steps import (
    APPROVED,
    OVERDUE,
    READY_VERIFIED_BY_OPS,
    WITHIN_FIRST_MONTH,
    offered,
    open_request,
    shown_text,
)
from tests.console.pilot_steps import ADMIN, OPS, settle, sign_in_as, wait_for_screen


def toasts(app: IkanApp, severity: str = "information") -> list[str]:
    """The notifications showing now."""
    return [n.message for n in app._notifications if n.severity == severity]


async def select_request(pilot, status: str):  # type: ignore[no-untyped-def]
    """Move the cursor to the first request in `status`."""
    table = pilot.app.screen.query_one("#requests", PagedTable)
    row = next(i for i, r in enumerate(table.items) if r.status == status)
    table.move_cursor(row=row)
    await pilot.pause()
    return table, table.items[row]


def detail_text(app: IkanApp) -> str:
    """The detail pane as the user reads it: inside its border, wrapped lines run on."""
    lines = shown_text(app.screen.query_one("#deletion-detail")).splitlines()[1:-1]
    return " ".join(" ".join(line.strip("│ ").split()) for line in lines)


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
        # The verifier is not offered approval, sees why, and the platform refuses it anyway.
        assert "approve" not in offered(app)
        assert "you verified the identity, so someone else must approve" in detail_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert not isinstance(app.screen, PreviewScreen)
        with pytest.raises(Conflict) as refused:
            await app.client.deletion_action(table.selected, "approve")
        assert refused.value.code == "four_eyes_required"

        await pilot.press("ctrl+o")
        await sign_in_as(pilot, ADMIN)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#requests", PagedTable)
        table.move_cursor(row=next(i for i, r in enumerate(table.items) if r.id == request.id))
        await pilot.pause()
        assert "Verified Priya Nair, 2026-12-01 09:30 UTC, by email" in detail_text(app)
        await pilot.press("a")
        await wait_for_screen(pilot, PreviewScreen)
        await pilot.press("a")  # approve from the preview with one key
        await settle(pilot)
        assert table.selected.status == "approved"
        assert "Approved Sofia Marín (you), 2026-12-01 09:30 UTC" in detail_text(app)
        await pilot.press("x")
        await wait_for_screen(pilot, ExecuteDialog)
        planned = scope_totals(app.screen.query_one(ErasureScope).preview.categories)
        await pilot.press(*"DR-wrong", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ExecuteDialog)  # a wrong reference erases nothing
        assert app.screen.query_one("#problem").display
        app.screen.query_one("#typed").value = ""
        app.clear_notifications()
        await pilot.press(*request.reference, "enter")
        await settle(pilot)
        done = table.selected
        assert done.status == "completed"
        assert app.screen.query_one("#deletion-detail").request == done
        words = result_text(done.result)
        assert words.endswith("kept with a legal basis; confirmation queued (email, letter)")
        assert f"{planned['pseudonymise']} pseudonymised" in words
        assert f"{planned['retain']} kept" in words
        assert toasts(app) == [f"{request.reference}: erasure done: {words}."]


async def test_the_erasure_says_what_it_did_and_matches_the_preview_totals(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_request(pilot, ADMIN, APPROVED)
        await pilot.press("x")
        await wait_for_screen(pilot, ExecuteDialog)
        scope = app.screen.query_one(ErasureScope)
        planned = scope_totals(scope.preview.categories)
        assert planned == {"count": 10, "erase": 0, "pseudonymise": 8, "retain": 2}
        totals_line = shown_text(scope.query_one("#scope-totals")).splitlines()[-1].split()
        assert totals_line == ["Total", "10", "0", "8", "2"]  # over every category
        app.clear_notifications()
        await pilot.press(*APPROVED, "enter")
        await settle(pilot)
        done = table.selected
        assert done.status == "completed"
        carried_out = scope_totals(
            ScopeCategory.model_validate(c) for c in done.result["categories"]
        )
        assert carried_out == planned
        # Nothing of this subject is erased outright: the toast must not say "erased".
        assert toasts(app) == [
            f"{APPROVED}: erasure done: 8 pseudonymised, 2 kept with a legal basis; "
            "confirmation queued (email, letter)."
        ]
        assert "Result 8 pseudonymised, 2 kept with a legal basis" in detail_text(app)


async def test_the_verifier_is_not_offered_approve_and_a_second_person_is(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_request(pilot, OPS, READY_VERIFIED_BY_OPS)
        assert "approve" not in offered(app)
        assert {"preview", "reject", "extend"} <= offered(app)
        assert "Priya Nair (you)" in detail_text(app)
        await pilot.press("ctrl+o")
        await open_request(pilot, ADMIN, READY_VERIFIED_BY_OPS)
        assert "approve" in offered(app)
        assert "Verified Priya Nair, 2026-11-26 17:30 UTC" in detail_text(app)
        assert "someone else must approve" not in detail_text(app)


async def test_extend_is_not_offered_once_the_first_month_is_over(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_request(pilot, OPS, OVERDUE)
        assert table.selected.overdue
        assert "extend" not in offered(app)
        assert "The month is over: too late to extend." in detail_text(app)
        await pilot.press("e")
        await pilot.pause()
        assert not isinstance(app.screen, ReasonDialog)
        table.move_cursor(
            row=next(i for i, r in enumerate(table.items) if r.reference == WITHIN_FIRST_MONTH)
        )
        await pilot.pause()
        assert "extend" in offered(app)


async def test_after_an_extension_the_detail_shows_the_new_deadline_and_its_reason(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_request(pilot, OPS, WITHIN_FIRST_MONTH)
        assert "Erase within 30 days of receipt" in detail_text(app)
        await pilot.press("e")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press(*"Records held by three suppliers", "enter")
        await settle(pilot)
        extended = table.selected
        assert extended.extension_reason == "Records held by three suppliers"
        text = detail_text(app)
        assert "Deadline 2027-02-03 13:00 UTC" in text
        assert (
            "Extended by 60 days on 2026-12-01 09:30 UTC, from 2026-12-05 13:00 UTC: "
            "Records held by three suppliers"
        ) in text
        assert "Erase within 30 days of receipt" not in text
        assert "erase by 2027-02-03 13:00 UTC" in text
        assert "extend" not in offered(app)  # once only
