"""The selected booking, everything an operator needs to act without another lookup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.models import Booking
from ikan_console.formatting import sla_text, status_label

LEFT_LABEL = len("Traveller")


class BookingDetail(Static):
    """Fields of one booking in two columns, long values wrapped when the pane has the rows."""

    DEFAULT_CSS = """
    BookingDetail {
        height: 12;
        border: round $primary-darken-1;
        padding: 0 1;
    }
    """

    booking: reactive[Booking | None] = reactive(None)

    def __init__(
        self,
        clock: Callable[[], datetime],
        claimable: Callable[[Booking], bool] = lambda booking: True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self._claimable = claimable  # whether `c` claims it here (the view decides)
        self.border_title = "Booking"

    def watch_booking(self, booking: Booking | None) -> None:
        """Title the pane with the reference."""
        self.border_title = f"Booking {booking.reference}" if booking else "Booking"

    def _nobody(self, booking: Booking) -> str:
        return "nobody — press c to claim" if self._claimable(booking) else "nobody"

    def render(self) -> Any:
        """Label/value pairs in two columns; long values wrap when the pane has the rows."""
        b = self.booking
        if b is None:
            return Text("No booking selected.", style="dim")
        sla = sla_text(b.sla_due_at, self._clock(), b.sla_breached, b.status)
        left: list[tuple[str, str | Text]] = [
            ("Traveller", f"{b.traveller_name} <{b.traveller_email}>"),
            ("Client", b.client.name),
            ("Route", f"{b.home_city} → {b.destination_city}"),
            ("Stay", f"{b.check_in} → {b.check_out} ({b.nights} nights)"),
            ("Property", f"{b.property_name} ({b.accommodation_type})"),
            (
                "Supplier",
                b.supplier.name
                + (f" · ref {b.supplier_reference}" if b.supplier_reference else ""),
            ),
        ]
        right: list[tuple[str, str | Text]] = [
            ("Status", status_label(b.status) + ("  ESCALATED" if b.escalated else "")),
            ("Priority", b.priority),
            (
                "SLA",
                Text(
                    f"{sla} · due {b.sla_due_at:%d %b %H:%M} UTC",
                    style="bold red" if b.sla_breached else "",
                ),
            ),
            ("Assignee", b.assignee.name if b.assignee else self._nobody(b)),
            ("Rate", f"{b.nightly_rate} / night"),
        ]
        note = b.status_reason or "—"
        width, height = self.size
        console = self.app.console
        pairs = _pairs(left, [*right, ("", "")], wrap=True)
        used = len(console.render_lines(pairs, console.options.update_width(width), pad=False))
        if used < height:
            return Group(pairs, _note(note, width, height - used, console))
        # No room to wrap (a short terminal): one line a field, the note beside the supplier.
        return _pairs(left, [*right, ("Note", note)], wrap=False)


def _pairs(
    left: list[tuple[str, str | Text]], right: list[tuple[str, str | Text]], *, wrap: bool
) -> Table:
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True, width=LEFT_LABEL)
    if wrap:
        # Halves: at 120 columns the right one just holds the SLA line; a long email or
        # property name on the left goes on over the next row.
        table.add_column(ratio=1, overflow="fold")
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=1, overflow="fold")
    else:
        table.add_column(ratio=3, overflow="ellipsis", no_wrap=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(ratio=2, overflow="ellipsis", no_wrap=True)
    for (l1, v1), (l2, v2) in zip(left, right, strict=True):
        table.add_row(l1, v1, l2, v2)
    return table


def _note(note: str, width: int, lines: int, console: Console) -> Table:
    """The status reason across the pane, cut with an ellipsis where the pane ends."""
    value_width = max(1, width - LEFT_LABEL - 1)
    wrapped = Text(note).wrap(console, value_width)
    shown = Text("\n").join(wrapped[:lines])
    if len(wrapped) > lines:
        shown.truncate(value_width - 1)
        shown.append("…")
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(style="bold", no_wrap=True, width=LEFT_LABEL)
    table.add_column(ratio=1)
    table.add_row("Note", shown)
    return table
