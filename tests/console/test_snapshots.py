"""Screens as a user sees them: 120x40, frozen clock, seeded data. Each SVG was looked at."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.console.pilot_steps import ADMIN, OPS, RMC, quiet, settle, sign_in_as

SIZE = (120, 40)


def test_sign_in_lists_sandbox_users(snap_compare, make_console):
    async def ready(pilot: Pilot) -> None:
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=ready)


def test_sign_in_refuses_a_relocation_manager(snap_compare, make_console):
    async def refuse(pilot: Pilot) -> None:
        await sign_in_as(pilot, RMC)
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=refuse)


def test_queues_show_new_bookings_by_sla(snap_compare, make_console):
    async def queues(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await pilot.press("down", "down")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=queues)


def test_audit_shows_the_diff_of_a_cancel(snap_compare, make_console):
    async def audit(pilot: Pilot) -> None:
        await sign_in_as(pilot, ADMIN)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"BK-107700", "enter")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=audit)


def test_deletion_requests_show_deadlines(snap_compare, make_console):
    async def deletion(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await pilot.press("3")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=deletion)


def test_queues_fit_a_small_terminal(snap_compare, make_console):
    async def queues(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await pilot.press("right_square_bracket")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=(80, 24), run_before=queues)


def test_a_production_read_only_session_is_unmistakable(snap_compare, make_console):
    async def queues(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await quiet(pilot)

    app = make_console(environment="PROD", production=True, read_only=True)
    assert snap_compare(app, terminal_size=SIZE, run_before=queues)
