"""App wiring a user never sees until it breaks: the palette, and opening the platform once."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp
from tests.console.pilot_steps import OPS, settle, sign_in_as


async def test_command_palette_switches_to_audit(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"audit")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("ContentSwitcher").current == "audit"


async def test_the_team_list_is_fetched_once_a_session_for_every_view(make_console, platform_app):
    paths: list[str] = []

    async def counting(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            paths.append(scope["path"])
        await platform_app(scope, receive, send)

    app = make_console(asgi_app=counting)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        for view in ("2", "3", "2", "3"):
            await pilot.press(view)
            await settle(pilot)
    assert paths.count("/v1/assignable-users") == 1  # audit names, deletion names: one fetch


async def test_the_palette_offers_no_screenshot_of_personal_data(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        titles = [command.title for command in app.get_system_commands(app.screen)]
    assert "Screenshot" not in titles  # it writes the screen, bookings and all, to a file
    assert "Theme" in titles and "Quit" in titles


async def test_a_retry_while_the_sandbox_starts_does_not_start_a_second_one():
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow_open() -> PlatformClient:
        calls.append(1)
        started.set()
        release.wait(5)
        return PlatformClient("http://127.0.0.1:9")

    app = IkanApp(Connection("TEST", "slow", slow_open))
    first = asyncio.ensure_future(app.ensure_client())
    await asyncio.to_thread(started.wait, 5)
    first.cancel()  # the user pressed r: the first worker is cancelled
    with pytest.raises(asyncio.CancelledError):
        await first
    second = asyncio.ensure_future(app.ensure_client())
    release.set()
    client = await second
    assert len(calls) == 1
    await client.aclose()


async def test_scrolling_loads_the_next_page_and_keeps_the_count(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("right_square_bracket")  # Awaiting supplier: more than one page
        await settle(pilot)
        table = app.screen.query_one("#bookings")
        assert len(table.items) == 100 and table.total > 100
        table.move_cursor(row=95)
        await settle(pilot)
        assert len(table.items) == table.total
        assert f"showing {table.total:,} of {table.total:,}" in str(table.border_title)
