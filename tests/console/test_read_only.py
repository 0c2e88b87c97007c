"""Read-only consoles (profile `read_only`, or `--read-only`): they look, and nothing is written.

Two layers, both tested against the real platform: the views offer no write key (the footer does
not show it, pressing it does nothing), and the client refuses to send a write at all.
"""

from __future__ import annotations

import argparse

import httpx
import pytest

from ikan_console import cli
from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import ReadOnlyProfile
from ikan_console.app import IkanApp
from ikan_console.config import ConsoleSettings, Profile, sandbox_profile
from ikan_console.screens.main import MainScreen
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.session_bar import SessionBar
from tests.console.pilot_steps import ADMIN, OPS, settle, sign_in_as


def offered(app: IkanApp) -> set[str]:
    """The actions the footer shows for what is focused now."""
    return {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}


async def audit_count(platform_app) -> int:  # type: ignore[no-untyped-def]
    """How many audit events the platform holds now, read as an Admin."""
    admin = PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform_app))
    try:
        await admin.exchange("sandbox", ADMIN)
        count, cursor = 0, None
        while True:
            page = await admin.audit_events(cursor=cursor, limit=200)
            count += len(page.items)
            if page.next_cursor is None:
                return count
            cursor = page.next_cursor
    finally:
        await admin.aclose()


async def test_a_read_only_client_sends_no_write(platform_app):
    before = await audit_count(platform_app)
    client = PlatformClient(
        "http://platform", transport=httpx.ASGITransport(app=platform_app), read_only=True
    )
    await client.exchange("sandbox", OPS)  # signing in is not a write to a record
    booking = (await client.bookings(queue="new", limit=1)).items[0]
    events = await client.audit_events(limit=1)
    request = (await client.deletion_requests(limit=1)).items[0]

    with pytest.raises(ReadOnlyProfile) as refused:
        await client.booking_action(booking, "claim")
    with pytest.raises(ReadOnlyProfile):
        await client.undo(events.items[0].id, "looking only")
    with pytest.raises(ReadOnlyProfile):
        await client.deletion_action(request, "reject", {"reason": "looking only"})

    assert "read-only" in str(refused.value) and "nothing was sent" in str(refused.value)
    assert (await client.booking(booking.id)).version == booking.version
    assert await client.deletion_preview(request.id)  # reading still works
    await client.aclose()
    assert await audit_count(platform_app) == before


async def test_a_read_only_console_offers_no_writes_and_writes_nothing(make_console, platform_app):
    before = await audit_count(platform_app)
    app = make_console(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        assert isinstance(app.screen, MainScreen)
        assert "READ-ONLY" in str(app.screen.query_one(SessionBar).render())
        booking = app.screen.query_one("#bookings", PagedTable).selected
        assert booking is not None and booking.status == "new"

        keys = offered(app)
        assert "search" in keys
        assert not {"claim", "release", "cancel_booking", "send", "assign", "hold"} & keys
        await pilot.press("c", "x")  # claim, cancel: bound, but not offered, so nothing runs
        await settle(pilot)
        assert len(app.screen_stack) == 2  # no cancel dialog opened

        await pilot.press("2")
        await settle(pilot)
        assert "undo" not in offered(app) and "filter" in offered(app)

        await pilot.press("3")
        await settle(pilot)
        keys = offered(app)
        assert "preview" in keys
        assert not {"verify", "mark_ready", "approve", "execute", "reject", "extend"} & keys

    assert await audit_count(platform_app) == before


async def test_a_writable_console_still_offers_the_steps(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        assert "READ-ONLY" not in str(app.screen.query_one(SessionBar).render())
        assert {"claim", "cancel_booking"} <= offered(app)


def test_the_read_only_flag_and_the_profile_setting_reach_the_connection() -> None:
    args = cli.build_parser().parse_args(["--sandbox", "--read-only"])
    settings = ConsoleSettings()
    profiles = {"sandbox": sandbox_profile()}
    assert cli.connection_for(args, settings, sandbox_profile(), profiles).read_only

    staging = Profile(name="staging", api_url="http://127.0.0.1:8700", read_only=True)
    plain = argparse.Namespace(sandbox=False, read_only=False, database_url=None)
    assert cli.connection_for(plain, settings, staging, profiles).read_only
    writable = Profile(name="ops", api_url="http://127.0.0.1:8700")
    assert not cli.connection_for(plain, settings, writable, profiles).read_only
