"""What an admin types into the audit filter, read into the platform's audit-list filters.

    BK-107700                       one booking's trail (a reference, or a booking id)
    by:priya                        writes by a teammate (name or email, any part of it)
    action:cancel                   one action (`cancel` reads as `booking.cancel`)
    since:2h  since:3d  since:2026-12-01
                                    newer than that (m, h, d ago; or a UTC date/time)
    request:3f1c9a…                 every write of one request

Terms combine (`by:priya action:cancel since:1d`); an empty filter shows everything. Pure
functions, no Textual and no I/O: the view resolves references and teammates to ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SYNTAX = "BK-…, by:NAME, action:ACTION, since:2h|3d|2026-12-01, request:ID"
KEYS = ("by", "action", "since", "request")
AGO = re.compile(r"^(\d{1,4})([mhd])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
MAX_AGO = timedelta(days=7 * 365)  # audit logs are kept 7 years; further back holds nothing


class FilterError(ValueError):
    """The filter text cannot be read; the message says what is accepted."""


@dataclass(frozen=True)
class AuditFilter:
    """The parts of a filter, as typed (references and names not yet resolved)."""

    booking: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    request_id: str | None = None

    @property
    def empty(self) -> bool:
        """Whether it filters nothing."""
        return self == AuditFilter()

    def describe(self, booking_label: str | None = None, actor_label: str | None = None) -> str:
        """The table title for this filter, e.g. `Audit trail of BK-107700 · by Priya Nair`."""
        parts = []
        if self.booking:
            parts.append(f"of {booking_label or self.booking}")
        if self.actor:
            parts.append(f"by {actor_label or self.actor}")
        if self.action:
            parts.append(self.action)
        if self.since:
            parts.append(f"since {self.since:%Y-%m-%d %H:%M} UTC")
        if self.request_id:
            parts.append(f"request {self.request_id[:12]}")
        return " · ".join(["Audit trail", *parts]).replace("trail · of", "trail of", 1)


def parse_filter(text: str, now: datetime) -> AuditFilter:
    """Read the filter text; raise `FilterError` with the accepted syntax when it cannot."""
    found: dict[str, str] = {}
    for term in text.split():
        key, sep, value = term.partition(":")
        key = key.lower() if sep else "booking"
        value = value if sep else term
        if key not in (*KEYS, "booking") or not value:
            raise FilterError(f"Cannot read {term!r}. Use {SYNTAX}.")
        if key in found and not sep:
            raise FilterError(
                f"{found[key]!r} and {term!r}: give one booking reference; other terms start"
                f" with by:, action:, since: or request:."
            )
        if key in found:
            raise FilterError(f"{key}: is given twice; give it once.")
        found[key] = value
    return AuditFilter(
        booking=found.get("booking"),
        actor=found.get("by"),
        action=_action(found["action"]) if "action" in found else None,
        since=_since(found["since"], now) if "since" in found else None,
        request_id=found.get("request"),
    )


def _action(value: str) -> str:
    """`cancel` is `booking.cancel` (the writes people look for most); others as typed."""
    action = value.lower()
    if not re.fullmatch(r"[a-z_]+(\.[a-z_]+)?", action):
        raise FilterError(f"{value!r} is not an action name, e.g. cancel or user.change_role.")
    return action if "." in action or action == "undo" else f"booking.{action}"


def _since(value: str, now: datetime) -> datetime:
    """`2h` ago, or a UTC date (`2026-12-01`) or time (`2026-12-01T09:00`)."""
    if match := AGO.match(value.lower()):
        delta = timedelta(**{UNITS[match[2]]: int(match[1])})
        return now - min(delta, MAX_AGO)
    try:
        moment = datetime.fromisoformat(value.upper().removesuffix("Z"))
    except ValueError:
        raise FilterError(
            f"since:{value} is not a time: use 30m, 2h, 3d ago, or a date like 2026-12-01."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now:
        raise FilterError(f"since:{value} is in the future; nothing was written after it yet.")
    return moment.astimezone(UTC)
