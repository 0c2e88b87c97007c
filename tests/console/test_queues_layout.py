"""The Queues view at 120x40 and 80x24: every shown key fits, the list keeps its status column,
the titles say what the table shows, and the detail pane uses its rows."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Footer, HelpPanel

from ikan_console.api.client import PlatformClient
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.booking_detail import BookingDetail
from tests.console.pilot_steps import (
    OPS,
    console_over,
    footer_keys,
    settle,
    sign_in_as,
    wait_for_screen,
)
from tests.slow_platform import SwitchableLink

SIZES = [(120, 40), (80, 24)]
EVERY_STEP = ["u Unclaim", "x Cancel", "f Confirmed", "d Declined", "h Hold", "e Escalate"]


def size_id(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def widget_text(widget) -> str:  # type: ignore[no-untyped-def]
    """What a widget shows on screen, line by line."""
    lines = widget.render_lines(Region(0, 0, widget.outer_size.width, widget.outer_size.height))
    return "\n".join(line.text for line in lines)


def assert_footer_fits(pilot: Pilot) -> None:
    """Every key ends before the palette key starts: nothing cut, nothing hidden under it."""
    footer = pilot.app.screen.query_one(Footer)
    palette = footer.query_one(".-command-palette")
    keys = [k for k in footer.children if k is not palette]
    assert max(k.region.right for k in keys) <= palette.region.x, footer_keys(pilot)


async def awaiting_booking_you_hold(pilot: Pilot) -> None:
    """The booking that offers the most steps at once: awaiting the supplier, held by you."""
    await sign_in_as(pilot, OPS)
    await pilot.press("right_square_bracket")
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_the_footer_fits_when_a_booking_offers_every_step(make_console, size):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        await awaiting_booking_you_hold(pilot)
        shown = footer_keys(pilot)
        assert_footer_fits(pilot)
        if size[0] >= 120:
            assert shown[: len(EVERY_STEP)] == EVERY_STEP
        else:  # the supplier round-trip stays; the rarer steps are under `?`
            assert shown[:3] == ["u Unclaim", "f Confirmed", "d Declined"]
        assert shown[-4:] == ["n Notes", "/ Search", "? Keys", "^p palette"]


async def test_a_step_left_out_of_a_narrow_footer_still_works(make_console):
    app = make_console()
    async with app.run_test(size=(80, 24)) as pilot:
        await awaiting_booking_you_hold(pilot)
        assert "e Escalate" not in footer_keys(pilot)
        await pilot.press("e")
        await wait_for_screen(pilot, ReasonDialog)
        assert "Escalate" in str(app.screen.query_one("#title").render())


@pytest.mark.parametrize("size", SIZES, ids=size_id)
async def test_question_mark_lists_every_key_of_the_view_and_esc_closes_it(make_console, size):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        await awaiting_booking_you_hold(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        table = app.screen.query_one("BindingsTable").render_bindings_table()
        console = Console(width=60, file=io.StringIO(), record=True)
        console.print(table)
        listed = console.export_text()
        for key in ("Escalate", "Assign", "Cancel", "Hold", "Next queue", "Refresh", "Sign out"):
            assert key in listed
        assert_footer_fits(pilot)  # beside the panel too
        await pilot.press("escape")
        await settle(pilot)
        assert not app.screen.query(HelpPanel)
        assert app.screen.query_one("#bookings").has_focus


async def test_a_small_terminal_keeps_the_status_column_and_the_selection(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        table.move_cursor(row=5)
        await pilot.pause()
        chosen = table.selected
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        headings = [str(c.label) for c in table.columns.values()]
        assert headings == ["Ref", "Traveller", "Prio", "SLA", "Assignee", "Status"]
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert table.selected == chosen
        row = widget_text(table).splitlines()[table.cursor_row + 2]  # border, headings
        assert chosen.reference in row and "New" in row
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert len(table.columns) == 8 and table.selected == chosen


async def test_the_table_title_names_the_queue_it_shows_while_the_next_one_cannot_load(
    platform_app, clock
):
    link = SwitchableLink(platform_app)
    app = console_over(lambda: PlatformClient("http://platform", transport=link), clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        shown = list(table.items)
        link.down = True
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert table.items == shown
        assert str(table.border_title).startswith("New · showing 100 of 111")
        assert str(table.border_subtitle) == "could not load Awaiting supplier — r to retry"
        link.down = False
        app.clear_notifications()
        await pilot.press("r")
        await settle(pilot)
        assert str(table.border_title).startswith("Awaiting supplier · showing 100")
        assert {b.status for b in table.items} == {"awaiting_supplier"}


async def test_a_search_without_results_says_so_and_how_to_get_back(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        await pilot.press("slash", *"zzqx", "enter")
        await settle(pilot)
        assert table.items == [] and table.selected is None
        assert not table.show_header
        assert widget_text(table).splitlines()[1].strip("│ ") == (
            "No bookings match “zzqx”. Esc, then an empty search returns to the queue."
        )
        offered = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "notes" not in offered and "claim" not in offered  # nothing selected to act on
        await pilot.press("slash", *["backspace"] * 4, "enter")
        await settle(pilot)
        assert table.show_header and len(table.items) == 100


async def test_the_detail_pane_shows_long_values_whole_at_120_columns(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("down", "down")
        await settle(pilot)
        detail = app.screen.query_one(BookingDetail)
        b = detail.booking
        shown = widget_text(detail)
        assert "…" not in shown
        for value in (
            f"{b.sla_due_at:%d %b %H:%M} UTC",
            f"{b.traveller_name} <{b.traveller_email}>",
            f"{b.property_name} ({b.accommodation_type})",
        ):
            assert reads_in_order(shown, value), value


def reads_in_order(text: str, value: str) -> bool:
    """Every word of `value` is on screen, in order (a long value wraps onto the next row)."""
    at = 0
    for word in value.split():
        at = text.find(word, at)
        if at < 0:
            return False
        at += len(word)
    return True
