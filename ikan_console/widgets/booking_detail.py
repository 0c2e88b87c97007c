"""The selected booking, everything an operator needs to act without another lookup."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.models import Booking
from ikan_console.formatting import sla_text, status_label


class BookingDetail(Static):
    """Fields of one booking in two columns."""

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
        """Two columns of label/value pairs."""
        b = self.booking
        if b is None:
            return Text("No booking selected.", style="dim")
        sla = sla_text(b.sla_due_at, self._clock(), b.sla_breached, b.status)
        sla_style = "bold red" if b.sla_breached else ""
        left = [
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
        right = [
            ("Status", status_label(b.status) + ("  ESCALATED" if b.escalated else "")),
            ("Priority", b.priority),
            ("SLA", Text(f"{sla} · due {b.sla_due_at:%d %b %H:%M} UTC", style=sla_style)),
            ("Assignee", b.assignee.name if b.assignee else self._nobody(b)),
            ("Rate", f"{b.nightly_rate} / night"),
            ("Note", b.status_reason or "—"),
        ]
        table = Table.grid(expand=True, padding=(0, 1))
        for ratio in (3, 2):
            table.add_column(style="bold", no_wrap=True)
            table.add_column(ratio=ratio, overflow="ellipsis", no_wrap=True)
        for (l1, v1), (l2, v2) in zip(left, right, strict=True):
            table.add_row(l1, v1, l2, v2)
        return table
