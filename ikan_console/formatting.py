"""How times, money and states read on screen (pure functions, tested without Textual)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

STATUS_LABELS = {
    "new": "New",
    "awaiting_supplier": "Awaiting supplier",
    "needs_attention": "Needs attention",
    "confirmed": "Confirmed",
    "on_hold": "On hold",
    "cancelled": "Cancelled",
    "received": "Received",
    "verifying": "Verifying identity",
    "ready": "Ready for approval",
    "approved": "Approved",
    "completed": "Completed",
    "rejected": "Rejected",
}


def status_label(status: str) -> str:
    """A status as people say it."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def utc(moment: datetime) -> str:
    """A timestamp as `2026-12-01 09:30` (UTC, as the platform records it)."""
    return moment.strftime("%Y-%m-%d %H:%M")


def span(delta: timedelta) -> str:
    """A duration in the largest sensible unit: `3d 4h`, `5h 12m`, `40m`."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rem = divmod(minutes, 24 * 60)
    hours, mins = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins:02d}m"
    return f"{mins}m"


SLA_CLOSED = ("confirmed", "cancelled")


def sla_text(due: datetime, now: datetime, breached: bool, status: str = "new") -> str:
    """SLA as an operator reads it: time left, or how late; none once confirmed or cancelled."""
    if status in SLA_CLOSED:
        return "—"
    delta = due - now
    if breached or delta.total_seconds() < 0:
        return f"late {span(delta)}"
    return f"in {span(delta)}"


def due_in_days(due: datetime, now: datetime) -> int:
    """Whole days left before a deadline, rounded down (negative when past)."""
    return math.floor((due - now).total_seconds() / 86400)


def due_text(due: datetime, now: datetime, closed: bool) -> str:
    """`due in 3 days`, `due in 5h 10m`, `overdue by 2 days`, or `closed`.

    Rounded down on purpose: under a legal deadline, never promise more time than is left.
    """
    if closed:
        return "closed"
    delta = due - now
    if delta.total_seconds() < 0:
        days = math.floor(-delta.total_seconds() / 86400)
        return (
            f"overdue by {span(delta)}"
            if days < 1
            else f"overdue by {days} day{'s' if days != 1 else ''}"
        )
    days = due_in_days(due, now)
    if days < 1:
        return f"due in {span(delta)}"
    return f"due in {days} day{'s' if days != 1 else ''}"


def value_text(value: object) -> str:
    """A before/after value as text; None reads as an explicit empty marker."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
