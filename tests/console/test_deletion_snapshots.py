"""The erasure dialogs as a user sees them, at 120x40 and at 80x24. Each SVG was looked at.

The list itself is `test_snapshots.py::test_deletion_requests_show_deadlines`.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen
from tests.console.pilot_steps import ADMIN, quiet, settle, sign_in_as, wait_for_screen


async def open_dialog(pilot: Pilot, key: str, dialog: type) -> None:
    """From the deletion list, open a dialog whose worker waits on it (so no `settle` after)."""
    await quiet(pilot)
    await pilot.press(key)
    await wait_for_screen(pilot, dialog)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_erase_now_shows_every_category_the_warning_and_the_buttons(snap_compare, make_console):
    async def execute(pilot: Pilot) -> None:
        await sign_in_as(pilot, ADMIN)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down")  # DR-20261017, approved
        await open_dialog(pilot, "x", ExecuteDialog)

    assert snap_compare(make_console(), terminal_size=(120, 40), run_before=execute)


def test_erasure_preview_fits_a_small_terminal(snap_compare, make_console):
    async def approve(pilot: Pilot) -> None:
        await sign_in_as(pilot, ADMIN)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("down", "down")  # DR-20260991, ready, verified by Tom Becker
        await open_dialog(pilot, "a", PreviewScreen)

    assert snap_compare(make_console(), terminal_size=(80, 24), run_before=approve)
