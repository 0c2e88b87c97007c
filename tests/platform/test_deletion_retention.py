"""Retention rules: which of a subject's records are kept, on what basis, and until when.

The app-level tests run at FROZEN_NOW, when every seeded stay is still ahead; these cover the
later dates directly (the rules are pure functions of a booking and a day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ikan_platform.models import Booking, User
from ikan_platform.services import retention

TODAY = date(2026, 12, 1)


def stay(status: str, check_out: date) -> Booking:
    """A booking with only what the rules read."""
    return Booking(status=status, check_in=date(2026, 11, 1), check_out=check_out)


@pytest.mark.parametrize(
    ("status", "check_out", "action", "keep", "until", "basis"),
    [
        # a live stay keeps everything until check-out, and an invoiced one then 10 more years
        (
            "confirmed",
            date(2027, 2, 14),
            "retain",
            {"traveller_name", "traveller_email"},
            date(2037, 12, 31),
            "Active assignment",
        ),
        (
            "awaiting_supplier",
            date(2027, 2, 14),
            "retain",
            {"traveller_name", "traveller_email"},
            date(2027, 2, 14),
            "Active assignment",
        ),
        (
            "on_hold",
            TODAY,
            "retain",
            {"traveller_name", "traveller_email"},
            TODAY,
            "Active assignment",
        ),
        # an invoiced stay that is over keeps the name (it is on the invoice), not the email
        (
            "confirmed",
            date(2026, 11, 30),
            "retain",
            {"traveller_name"},
            date(2036, 12, 31),
            "Statutory tax retention",
        ),
        # nothing requires cancelled or never-confirmed stays
        ("cancelled", date(2027, 2, 14), "erase", set(), None, None),
        ("awaiting_supplier", date(2026, 11, 30), "erase", set(), None, None),
    ],
)
def test_a_booking_is_kept_only_while_a_legal_basis_needs_it(
    status: str, check_out: date, action: str, keep: set[str], until: date | None, basis: str | None
) -> None:
    decision = retention.booking_decision(stay(status, check_out), TODAY)

    assert decision.action == action
    assert keep <= decision.keep
    assert ("traveller_email" in decision.keep) == ("traveller_email" in keep)
    assert decision.until == until
    assert (decision.legal_basis or "").startswith(basis or "")


def test_notes_stay_with_a_live_booking_and_go_with_an_invoiced_one_that_is_over() -> None:
    live = retention.note_decision(stay("confirmed", date(2027, 1, 10)), TODAY)
    over = retention.note_decision(stay("confirmed", date(2026, 11, 10)), TODAY)

    assert (live.action, live.until) == ("retain", date(2027, 1, 10))
    assert over.action == "erase"


def test_only_traveller_accounts_are_erased() -> None:
    assert retention.account_decision(User(role="traveler")).action == "erase"
    staff = retention.account_decision(User(role="operations"))
    assert staff.action == "retain" and "user administration" in staff.legal_basis


def test_retention_periods_count_from_the_right_day() -> None:
    assert retention.tax_retention_end(date(2027, 1, 5)) == date(2037, 12, 31)
    occurred = datetime(2028, 2, 29, 12, tzinfo=UTC)
    assert retention.audit_retention_end(occurred) == date(2035, 2, 28)
    completed = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert retention.request_record_end(completed) == date(2029, 12, 1)
    assert retention.request_record_end(None) is None
