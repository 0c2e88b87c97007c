"""How a booking reads as a row of the Queues list: short cells an operator scans down."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from ikan_console.api.models import Booking
from ikan_console.formatting import sla_text

COLUMNS = ("Ref", "Traveller", "To", "In", "Prio", "SLA", "Assignee", "Status")
# What says what to pick up next, for a narrow terminal (all eight need about 95 columns); the
# detail pane has the rest.
NARROW_COLUMNS = ("Ref", "Traveller", "Prio", "SLA", "Assignee", "Status")
SHORT_STATUS = {
    "new": "New",
    "awaiting_supplier": "Awaiting",
    "needs_attention": "Attention",
    "confirmed": "Confirmed",
    "on_hold": "On hold",
    "cancelled": "Cancelled",
}


def booking_cells(b: Booking, now: datetime) -> dict[str, object]:
    """The booking's cell for each of COLUMNS."""
    sla = sla_text(b.sla_due_at, now, b.sla_breached, b.status)
    return {
        "Ref": b.reference,
        "Traveller": _clip(b.traveller_name, 15),
        "To": b.destination_city,
        "In": b.check_in.strftime("%d %b"),
        "Prio": _priority(b.priority),
        "SLA": Text(sla, style="bold red") if b.sla_breached else sla,
        "Assignee": _short_name(b.assignee.name) if b.assignee else Text("—", style="dim"),
        "Status": SHORT_STATUS.get(b.status, b.status),
    }


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_name(name: str) -> str:
    """`Priya Nair` → `Priya N.`: enough to tell teammates apart in a narrow column."""
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


def _priority(priority: str) -> Text | str:
    if priority == "urgent":
        return Text("URGENT", style="bold red")
    if priority == "high":
        return Text("high", style="bold yellow")
    return priority
