"""Retention rules: how long each kind of personal data is kept, and on what legal basis.

These are the promises on ikan's security page made concrete (docs/deletion-requests.md):
voice transcripts 30 days, voice recordings 90 days, audit logs 7 years, booking data for the
active assignment plus statutory tax retention. A deletion request's preview and its execution
both ask these functions, so what the preview promises is exactly what the erasure does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ikan_platform.models import Booking, User

AUDIT_YEARS = 7
# Assumption: invoices (and the stay facts on them) are kept 10 years from the end of the
# calendar year of the stay, the longest common EU rule (e.g. Germany, section 147 AO and 14b UStG).
TAX_YEARS = 10
# The request itself and our answer are proof that we honoured it, kept for the usual
# limitation period for claims (e.g. Germany, section 195 BGB).
REQUEST_RECORD_YEARS = 3
VOICE_TRANSCRIPT_DAYS = 30
VOICE_RECORDING_DAYS = 90
# A confirmed stay is invoiced to the client; cancelled or never-confirmed stays are not (the
# platform models no cancellation fees).
INVOICED_STATUSES = frozenset({"confirmed"})

ACTIVE_BASIS = (
    "Active assignment: needed to deliver the stay until check-out (GDPR Art. 6(1)(b);"
    " Art. 17(1)(a) applies once it is no longer needed)"
)
TAX_BASIS = (
    "Statutory tax retention of an invoiced stay: 10 years from the end of the year of"
    " check-out (GDPR Art. 17(3)(b), Art. 6(1)(c))"
)
AUDIT_BASIS = (
    "Audit trail kept 7 years (GDPR Art. 5(2) accountability; ikan security promise); the"
    " subject's personal data inside each event is pseudonymised"
)
REQUEST_BASIS = (
    "Record of the request and of our answer (GDPR Art. 5(2), Art. 17(3)(e)): 3 years after"
    " completion"
)
STAFF_ACCOUNT_BASIS = (
    "Staff or partner account: closed through user administration, not erasure; kept so the"
    " audit trail still says who did what"
)
REPLAY_CACHE_RULE = "Cached responses for safe retries, deleted after 24 hours"


@dataclass(frozen=True)
class Category:
    """A kind of personal data the platform may hold, with its retention rule."""

    key: str
    label: str
    rule: str


CATEGORIES: tuple[Category, ...] = (
    Category(
        "bookings",
        "Bookings",
        "Kept for the active assignment (until check-out), then 10 years after the year of"
        " check-out for invoiced stays; erased otherwise",
    ),
    Category(
        "booking_notes",
        "Booking notes",
        "Kept with an active booking; erased with the booking otherwise; mentions elsewhere"
        " are pseudonymised",
    ),
    Category("user_account", "User account", "Traveller accounts are erased on request"),
    Category(
        "audit_trail", "Audit trail", f"Kept {AUDIT_YEARS} years, personal data pseudonymised"
    ),
    Category(
        "voice_transcripts",
        "Voice transcripts",
        f"Deleted {VOICE_TRANSCRIPT_DAYS} days after the call; the platform stores none",
    ),
    Category(
        "voice_recordings",
        "Voice recordings",
        f"Deleted {VOICE_RECORDING_DAYS} days after the call; the platform stores none",
    ),
    Category("replay_cache", "Retry cache", REPLAY_CACHE_RULE),
    Category(
        "request_record",
        "This request",
        f"Kept {REQUEST_RECORD_YEARS} years after completion as proof it was honoured",
    ),
)
CATEGORY_BY_KEY = {c.key: c for c in CATEGORIES}


@dataclass(frozen=True)
class Decision:
    """Whether a record is erased or kept, why, until when, and which personal fields stay."""

    action: str  # "erase" | "retain" | "pseudonymise"
    legal_basis: str | None = None
    until: date | None = None
    # Personal fields the legal basis needs kept as they are; every other one is pseudonymised.
    keep: frozenset[str] = frozenset()
    # The record serves a live assignment, so its operators' notes stay with it.
    active: bool = False


ERASE = Decision("erase")
PSEUDONYMISE = Decision("pseudonymise")
BOOKING_PERSONAL = frozenset({"traveller_name", "traveller_email", "status_reason"})


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (28 February for 29 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def tax_retention_end(check_out: date) -> date:
    """Last day an invoiced stay must be kept: 31 December, TAX_YEARS after check-out's year."""
    return date(check_out.year + TAX_YEARS, 12, 31)


def audit_retention_end(occurred_at: datetime) -> date:
    """Last day an audit event is kept."""
    return add_years(occurred_at.date(), AUDIT_YEARS)


def request_record_end(completed_at: datetime | None) -> date | None:
    """Last day a completed request's record is kept (unknown while it is open)."""
    return add_years(completed_at.date(), REQUEST_RECORD_YEARS) if completed_at else None


def is_active(booking: Booking, today: date) -> bool:
    """A booking serves a live assignment until its check-out, unless it was cancelled."""
    return booking.status != "cancelled" and booking.check_out >= today


def booking_decision(booking: Booking, today: date) -> Decision:
    """Keep or erase one of the subject's bookings, on `today`."""
    invoiced = booking.status in INVOICED_STATUSES
    if is_active(booking, today):
        if invoiced:
            until = tax_retention_end(booking.check_out)
            basis = f"{ACTIVE_BASIS}; then {TAX_BASIS}"
        else:
            until, basis = booking.check_out, ACTIVE_BASIS
        return Decision("retain", basis, until, BOOKING_PERSONAL, active=True)
    if invoiced:
        # The invoice names the guest; their email is on no invoice, so it goes now.
        return Decision(
            "retain", TAX_BASIS, tax_retention_end(booking.check_out), frozenset({"traveller_name"})
        )
    return ERASE


def note_decision(booking: Booking, today: date) -> Decision:
    """A note on the subject's booking is kept while the stay is live; no tax law needs it."""
    if is_active(booking, today):
        return Decision("retain", ACTIVE_BASIS, booking.check_out, frozenset({"body"}), active=True)
    return ERASE


def account_decision(user: User) -> Decision:
    """Traveller accounts are erased; staff and partner accounts are closed by user admin."""
    if user.role == "traveler":
        return ERASE
    return Decision("retain", STAFF_ACCOUNT_BASIS, None, frozenset({"name", "email"}))
