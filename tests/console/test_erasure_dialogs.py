"""The erasure dialogs at 120x40 and 80x24: nothing cut off, every category reachable, keys.

"Drawn" means what a user would see: the widget lies inside the screen and is the topmost widget
where it is drawn (not under a docked row, not scrolled out of its container).
"""

from __future__ import annotations

import pytest

from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen
from ikan_console.widgets.erasure_scope import CategoryRow, ErasureScope
from tests.console.deletion_steps import (
    APPROVED,
    READY_VERIFIED_BY_TOM,
    drawn,
    open_request,
    shown_text,
)
from tests.console.pilot_steps import ADMIN, settle, wait_for_screen

SIZES = [(120, 40), (80, 24)]
CATEGORIES = 8


async def open_execute(pilot) -> ExecuteDialog:  # type: ignore[no-untyped-def]
    """As Admin, open Erase now on the seeded approved request."""
    await open_request(pilot, ADMIN, APPROVED)
    await pilot.press("x")
    await wait_for_screen(pilot, ExecuteDialog)
    await pilot.pause()
    return pilot.app.screen


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_execute_keeps_warning_typed_reference_and_buttons_in_view(make_console, size):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        dialog = await open_execute(pilot)
        for selector in ("#warning", "#typed", "#back", "#confirm", "#scope-totals"):
            assert drawn(app, dialog.query_one(selector)), f"{selector} is not fully visible"
        assert "This cannot be undone." in shown_text(dialog.query_one("#warning"))
        assert str(dialog.query_one("#back").label) == "Back (Esc)"
        assert str(dialog.query_one("#confirm").label) == "Erase now"
        await pilot.press(*APPROVED[:6])
        typed = dialog.query_one("#typed")
        assert typed.has_focus and APPROVED[:6] in shown_text(typed)  # what is typed shows
        await pilot.press("pagedown", "pagedown", "pagedown")  # scrolling keeps them in view
        await pilot.pause()
        for selector in ("#warning", "#typed", "#back", "#confirm"):
            assert drawn(app, dialog.query_one(selector))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("key", ["x", "p"])
async def test_every_category_can_be_brought_into_view(make_console, size, key):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        await open_request(pilot, ADMIN, APPROVED)
        await pilot.press(key)
        await wait_for_screen(pilot, ExecuteDialog if key == "x" else PreviewScreen)
        await pilot.pause()
        scope = app.screen.query_one(ErasureScope)
        rows = list(scope.query(CategoryRow))
        assert len(rows) == CATEGORIES
        if size == (80, 24):
            assert not drawn(app, rows[-1])  # below the fold at first: the check can tell
        for row in rows:
            scope.query_one("#categories").scroll_to_widget(row, animate=False)
            await pilot.pause()
            assert drawn(app, row), f"{row.category.label} cannot be brought into view"
            assert row.category.label in shown_text(row)


async def test_at_80x24_the_in_view_line_says_how_many_categories_are_below(make_console):
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_execute(pilot)
        scope = app.screen.query_one(ErasureScope)
        hint = scope.query_one("#scope-hint")
        above, shown, below = scope.in_view()
        assert above == 0 and below > 0 and shown + below == CATEGORIES
        assert drawn(app, hint)
        assert f"{shown} of {CATEGORIES} categories in full view; {below} more below" in (
            shown_text(hint)
        )
        await pilot.press("end")  # Input: the cursor; the scope does not move
        for _ in range(10):
            await pilot.press("pagedown")
        await pilot.pause()
        above, shown, below = scope.in_view()
        assert below == 0 and above > 0
        assert f"{above} more above" in shown_text(hint)


async def test_at_120x40_every_category_fits_without_scrolling(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_execute(pilot)
        scope = app.screen.query_one(ErasureScope)
        assert scope.in_view() == (0, CATEGORIES, 0)
        assert "All 8 categories shown." in shown_text(scope.query_one("#scope-hint"))


async def test_why_kept_is_wrapped_in_full_at_80_columns(make_console):
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_execute(pilot)
        bookings = app.screen.query_one("#category-bookings", CategoryRow)
        text = " ".join(shown_text(bookings).split())
        (basis,) = bookings.category.legal_basis
        assert f"Kept: {basis}" in text  # every word of it, none cut off
        assert "…" not in text


async def test_approve_from_the_preview_with_a_and_close_with_escape(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_request(pilot, ADMIN, READY_VERIFIED_BY_TOM)
        await pilot.press("a")
        await wait_for_screen(pilot, PreviewScreen)
        assert str(app.screen.query_one("#confirm").label) == "Approve erasure (a)"
        await pilot.press("escape")
        await settle(pilot)
        assert table.selected.status == "ready"  # Esc approves nothing
        await pilot.press("p")
        await wait_for_screen(pilot, PreviewScreen)
        assert not app.screen.query("#confirm")  # a plain preview offers no approval...
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PreviewScreen)  # ...and `a` does nothing there
        await pilot.press("escape")
        await pilot.press("a")
        await wait_for_screen(pilot, PreviewScreen)
        await pilot.press("a")
        await settle(pilot)
        assert table.selected.status == "approved"
