"""Screens as a user sees them: 120x40, frozen clock, seeded data. Each SVG was looked at."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from textual.pilot import Pilot

from ikan_console.api.client import PlatformClient
from tests.conftest import FROZEN_NOW
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


async def _write_two_notes(platform_app, clock) -> None:  # type: ignore[no-untyped-def]
    """Earlier this morning, Tom and then Priya wrote a note on the first new booking."""
    clock.now = FROZEN_NOW - timedelta(minutes=18)
    for email, body in (
        (
            "tom.becker@ikan.example",
            "Called Nestwell: the flat is ready from 15:00, but the traveller lands at 11:40 and "
            "asked to leave luggage early. Waiting for Nestwell to confirm.",
        ),
        (OPS, "Nestwell agreed to a luggage drop from 12:00. Traveller told by email."),
    ):
        client = PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform_app))
        await client.exchange("sandbox", email)
        booking = (await client.bookings(queue="new", limit=1)).items[0]
        await client.add_booking_note(booking.id, body)
        await client.aclose()
        clock.advance(minutes=12)
    clock.now = FROZEN_NOW


def test_notes_show_newest_first_with_author_and_time(
    snap_compare, make_console, platform_app, clock
):
    asyncio.run(_write_two_notes(platform_app, clock))

    async def notes(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await quiet(pilot)  # toasts on the queue screen would show through the dialog
        await pilot.press("n")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=SIZE, run_before=notes)


def test_keys_panel_lists_what_a_small_footer_leaves_out(snap_compare, make_console):
    async def keys(pilot: Pilot) -> None:
        await sign_in_as(pilot, OPS)
        await pilot.press("question_mark")
        await quiet(pilot)

    assert snap_compare(make_console(), terminal_size=(80, 24), run_before=keys)
