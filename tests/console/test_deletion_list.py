"""The deletion list on a narrow terminal keeps what says what is due and how urgently."""

from __future__ import annotations

import pytest

from ikan_console.views.paged_table import PagedTable
from tests.console.deletion_steps import APPROVED, OVERDUE, open_request
from tests.console.pilot_steps import OPS, settle, sign_in_as

SIZES = [(120, 40), (80, 24)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_list_keeps_reference_subject_status_and_deadline(make_console, size):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("3")
        await settle(pilot)
        table = app.screen.query_one("#requests", PagedTable)
        headings = [str(c.label) for c in table.columns.values()]
        if size[0] < 110:
            assert headings == ["Reference", "Subject", "Status", "Deadline"]
        else:
            assert headings == ["Reference", "Subject", "Client", "Status", "Due (UTC)", "Deadline"]
        overdue = next(i for i, r in enumerate(table.items) if r.reference == OVERDUE)
        # The whole table fits across: nothing hides to the right, overdue reads in the row.
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert "⚠ overdue by 2 days" in [str(c) for c in table.get_row_at(overdue)]


async def test_narrowing_the_terminal_keeps_the_selected_request(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        table = await open_request(pilot, OPS, APPROVED)
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [str(c.label) for c in table.columns.values()][-1] == "Deadline"
        assert table.selected.reference == APPROVED
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert len(table.columns) == 6 and table.selected.reference == APPROVED
