"""The audit filter: what an admin types, read into the platform's filters; then used in Pilot."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from ikan_console.screens.main import MainScreen
from ikan_console.views.audit_filter import AuditFilter, FilterError, parse_filter
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.diff_view import DiffView
from tests.console.pilot_steps import ADMIN, platform_session, settle, sign_in_as

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_terms_combine_and_a_bare_word_is_a_booking():
    wanted = parse_filter("BK-107700 by:priya action:cancel since:2h", NOW)
    assert wanted == AuditFilter(
        booking="BK-107700",
        actor="priya",
        action="booking.cancel",
        since=NOW - timedelta(hours=2),
    )
    assert wanted.describe("BK-107700", "Priya Nair") == (
        "Audit trail of BK-107700 · by Priya Nair · booking.cancel · since 2026-12-01 07:30 UTC"
    )


def test_empty_text_filters_nothing():
    assert parse_filter("   ", NOW).empty
    assert parse_filter("", NOW).describe() == "Audit trail"


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("since:30m", NOW - timedelta(minutes=30)),
        ("since:3d", NOW - timedelta(days=3)),
        ("since:2026-11-30", datetime(2026, 11, 30, tzinfo=UTC)),
        ("since:2026-11-30T08:15Z", datetime(2026, 11, 30, 8, 15, tzinfo=UTC)),
    ],
)
def test_since_takes_an_age_or_a_utc_time(text: str, since: datetime):
    assert parse_filter(text, NOW).since == since


def test_actions_read_as_booking_actions_unless_named_in_full():
    assert parse_filter("action:claim", NOW).action == "booking.claim"
    assert parse_filter("action:user.change_role", NOW).action == "user.change_role"
    assert parse_filter("action:UNDO", NOW).action == "undo"
    assert parse_filter("request:Ab12-cd", NOW).request_id == "Ab12-cd"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("colour:red", "Cannot read 'colour:red'"),
        ("by:", "Cannot read 'by:'"),
        ("by:tom by:priya", "by: is given twice"),
        ("foo bar", "'foo' and 'bar': give one booking reference; other terms start with by:"),
        ("since:yesterday", "is not a time"),
        ("since:2027-01-01", "is in the future"),
        ("action:drop;table", "is not an action name"),
    ],
)
def test_unreadable_filters_say_what_is_accepted(text: str, says: str):
    with pytest.raises(FilterError) as refused:
        parse_filter(text, NOW)
    assert says in str(refused.value)


async def filter_audit(pilot, text: str) -> PagedTable:  # type: ignore[no-untyped-def]
    await pilot.press("2")
    await settle(pilot)
    await pilot.press("slash")
    field = pilot.app.screen.query_one("#audit-filter")
    field.value = text
    await pilot.press("enter")
    await settle(pilot)
    return pilot.app.screen.query_one("#events", PagedTable)


async def test_an_admin_finds_one_teammates_cancels_of_the_last_day(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        assert isinstance(app.screen, MainScreen)
        events = await filter_audit(pilot, "by:priya action:cancel since:1d")

        assert events.items, "the seed has cancels by Priya inside the last day"
        assert {e.actor.email for e in events.items} == {"priya.nair@ikan.example"}
        assert {e.action for e in events.items} == {"booking.cancel"}
        assert all(e.occurred_at >= app.clock() - timedelta(days=1) for e in events.items)
        assert events.title.startswith("Audit trail · by Priya Nair · booking.cancel · since")


async def test_a_filter_that_names_nobody_says_so_and_keeps_the_list(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        events = await filter_audit(pilot, "")
        shown = list(events.items)

        await filter_audit(pilot, "by:zebedee")
        assert "No Operations or Admin user matches 'zebedee'" in last_warning(app)
        await filter_audit(pilot, "by:a")  # Priya Nair, Amara Okafor, Sofia Marín, ...
        assert "be more precise" in last_warning(app)
        await filter_audit(pilot, "since:soon")
        assert "is not a time" in last_warning(app)
        await filter_audit(pilot, "action:cancle")  # the platform knows the actions
        assert last_warning(app) == (
            "No audited action is called 'booking.cancle'. Did you mean booking.cancel?"
        )
        assert events.items == shown and events.title == "Audit trail"


async def test_the_diff_names_the_assignee_instead_of_an_id(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        events = await filter_audit(pilot, "action:claim by:tom")
        assert events.selected is not None and events.selected.action == "booking.claim"
        tom = events.selected.after["assignee_id"]

        screen = Console(width=110, record=True, file=io.StringIO())
        screen.print(app.screen.query_one(DiffView).diff())
        assert f"assignee_id — Tom Becker (#{tom})" in " ".join(screen.export_text().split())


def last_warning(app) -> str:  # type: ignore[no-untyped-def]
    warnings = [n.message for n in app._notifications if n.severity == "warning"]
    assert warnings, "no warning was shown"
    return warnings[-1]


def offered(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}


async def test_undo_is_offered_only_while_the_window_is_open(make_console, clock):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        events = await filter_audit(pilot, "BK-107700")
        assert events.selected.action == "booking.cancel"  # 21h 54m left
        assert "undo" in offered(app)
        await pilot.press("down")  # booking.send_to_supplier, days ago
        await pilot.pause()
        assert "undo" not in offered(app)

        await pilot.press("up")
        clock.advance(hours=22)  # the cancel's window closes while the view stays open
        app.screen.query_one("#audit").tick()
        await pilot.pause()
        assert "undo" not in offered(app)
        assert str(events.get_cell_at((0, 3))) == "closed"
        await pilot.press("u")  # bound, not offered: nothing opens
        await pilot.pause()
        assert len(app.screen_stack) == 2


async def test_coming_back_to_audit_shows_the_newest_event_at_the_top(make_console, platform_app):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        events = await filter_audit(pilot, "")
        await pilot.press("down", "down", "down", "down", "down")
        await pilot.pause()
        assert events.cursor_row == 5
        await pilot.press("1")
        await settle(pilot)

        tom, headers = await platform_session(platform_app, "tom.becker@ikan.example")
        booking = (await tom.get("/v1/bookings", params={"queue": "new"}, headers=headers)).json()
        fresh = next(b for b in booking["items"] if b["assignee"] is None)
        claimed = await tom.post(
            f"/v1/bookings/{fresh['id']}/claim",
            headers={**headers, "If-Match": f'"{fresh["version"]}"'},
        )
        assert claimed.status_code == 200, claimed.text
        await tom.aclose()

        await pilot.press("ctrl+p")  # by the palette, as by the key
        await pilot.pause()
        await pilot.press(*"Audit", "enter")
        await settle(pilot)
        assert events.cursor_row == 0
        assert events.selected.action == "booking.claim"
        assert events.selected.actor.email == "tom.becker@ikan.example"
