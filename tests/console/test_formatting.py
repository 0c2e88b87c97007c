"""Deadlines and SLAs read the way staff under a legal deadline need them to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ikan_console.formatting import due_text, sla_text

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_deadline_days_are_rounded_down_never_promising_extra_time():
    assert due_text(NOW + timedelta(days=28, hours=5), NOW, closed=False) == "due in 28 days"
    assert due_text(NOW + timedelta(days=1, hours=1), NOW, closed=False) == "due in 1 day"


def test_deadline_inside_a_day_shows_hours():
    assert due_text(NOW + timedelta(hours=5, minutes=10), NOW, closed=False) == "due in 5h 10m"


def test_overdue_deadline_says_by_how_much():
    assert due_text(NOW - timedelta(days=3, hours=2), NOW, closed=False) == "overdue by 3 days"
    assert due_text(NOW - timedelta(hours=2), NOW, closed=False) == "overdue by 2h 00m"


def test_closed_requests_have_no_deadline():
    assert due_text(NOW - timedelta(days=3), NOW, closed=True) == "closed"


def test_sla_shows_time_left_or_lateness():
    assert sla_text(NOW + timedelta(hours=3, minutes=5), NOW, breached=False) == "in 3h 05m"
    assert sla_text(NOW - timedelta(minutes=40), NOW, breached=True) == "late 40m"
