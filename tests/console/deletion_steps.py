"""Shared steps and seeded references for the deletion-request tests (Pilot, real platform)."""

from __future__ import annotations

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget

from ikan_console.app import IkanApp
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import settle, sign_in_as

# Seeded requests, as the frozen clock (2026-12-01 09:30 UTC) sees them.
READY_VERIFIED_BY_OPS = "DR-20260978"  # Priya Nair (OPS) verified the identity
READY_VERIFIED_BY_TOM = "DR-20260991"
APPROVED = "DR-20261017"  # verified by Lukas Weber, approved by Sofia Marín (ADMIN)
OVERDUE = "DR-20260965"  # received 2026-10-29: its first month ended on 2026-11-28
WITHIN_FIRST_MONTH = "DR-20260952"  # received 2026-11-05, verifying


async def open_request(pilot: Pilot, email: str, reference: str) -> PagedTable:
    """Sign in, open the deletion requests and put the cursor on `reference`."""
    await sign_in_as(pilot, email)
    await pilot.press("3")
    await settle(pilot)
    table = pilot.app.screen.query_one("#requests", PagedTable)
    table.move_cursor(row=next(i for i, r in enumerate(table.items) if r.reference == reference))
    await pilot.pause()
    return table


def shown_text(widget: Widget) -> str:
    """A widget as it is drawn, one line per row (its border included)."""
    strips = widget.render_lines(Region(0, 0, *widget.outer_size))
    return "\n".join(strip.text.rstrip() for strip in strips)


def drawn(app: IkanApp, widget: Widget) -> bool:
    """Whether every row of the widget is on screen and not covered by another widget."""
    region = widget.region
    if not region or not Region(0, 0, *app.size).contains_region(region):
        return False
    x = region.x + region.width // 2
    for y in range(region.y, region.bottom):
        top, _ = app.screen.get_widget_at(x, y)
        if top is not widget and widget not in top.ancestors:
            return False
    return True


def offered(app: IkanApp) -> set[str]:
    """The actions the footer shows for what is focused now."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
