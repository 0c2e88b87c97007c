"""What the user sees when the platform refuses or the session ends: words, and nothing lost."""

from __future__ import annotations

from ikan_console.screens.main import MainScreen
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.screens.sign_in import SignInScreen
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.diff_view import DiffView
from tests.console.pilot_steps import ADMIN, OPS, platform_session, settle, sign_in_as


def error_messages(app) -> list[str]:  # type: ignore[no-untyped-def]
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_claim_of_a_booking_a_teammate_just_changed_explains_and_shows_the_change(
    make_console, platform_app
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        http, headers = await platform_session(platform_app, "tom.becker@ikan.example")
        await http.post(
            f"/v1/bookings/{booking.id}/claim",
            headers={**headers, "If-Match": f'"{booking.version}"'},
        )
        await http.aclose()
        await pilot.press("c")
        await settle(pilot)
        assert any(
            "changed since you loaded it" in m or "Someone changed" in m
            for m in error_messages(app)
        ), error_messages(app)
        assert table.selected.assignee.email == "tom.becker@ikan.example"


async def test_a_change_that_was_overwritten_says_why_it_cannot_be_undone(
    make_console, platform_app
):
    http, headers = await platform_session(platform_app, OPS)
    page = (
        await http.get("/v1/bookings", params={"queue": "new", "limit": 1}, headers=headers)
    ).json()
    booking = page["items"][0]
    claimed = (
        await http.post(
            f"/v1/bookings/{booking['id']}/claim",
            headers={**headers, "If-Match": f'"{booking["version"]}"'},
        )
    ).json()
    await http.post(
        f"/v1/bookings/{booking['id']}/cancel",
        json={"reason": "Postponed"},
        headers={**headers, "If-Match": f'"{claimed["version"]}"'},
    )
    await http.aclose()
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, ADMIN)
        await pilot.press("2")
        await settle(pilot)
        events = app.screen.query_one("#events", PagedTable)
        await pilot.press("slash", *booking["reference"], "enter")
        await settle(pilot)
        claim_row = next(i for i, e in enumerate(events.items) if e.action == "booking.claim")
        events.move_cursor(row=claim_row)
        await pilot.pause()
        assert str(events.get_cell_at((claim_row, 3))) == "changed since"
        head = app.screen.query_one(DiffView).diff().renderables[0].plain
        assert "was changed after this event; undo the newer change first" in head
        await pilot.press("u")  # not offered: no reason is asked for a refusal known already
        await pilot.pause()
        assert not isinstance(app.screen, ReasonDialog)


async def test_a_reason_is_required_before_a_cancel_is_sent(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        before = table.selected
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)  # still asking
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert table.selected.status == before.status


async def test_ended_session_asks_to_sign_in_and_keeps_the_screen(make_console, clock):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("3")
        await settle(pilot)
        main = app.screen
        clock.advance(hours=9)  # access and refresh tokens both gone
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        assert "still open" in str(app.screen.query_one("#message").render())
        await sign_in_as(pilot, OPS)
        assert app.screen is main
        assert main.query_one("ContentSwitcher").current == "deletion"


async def test_a_platform_without_sandbox_sign_in_says_which_sign_in_to_use(database_url, clock):
    import httpx as _httpx

    from ikan_console.api.client import PlatformClient
    from ikan_console.app import Connection, IkanApp
    from ikan_platform.app import create_app
    from ikan_platform.settings import PlatformSettings

    platform = create_app(
        PlatformSettings(
            database_url=database_url,
            sandbox=False,
            clock=clock,
            token_secret="test-secret-not-for-production-use",
        )
    )
    app = IkanApp(
        Connection(
            "LOCAL",
            "a real platform",
            lambda: PlatformClient("http://platform", transport=_httpx.ASGITransport(app=platform)),
        ),
        clock=clock,
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        message = str(app.screen.query_one("#message").render())
        assert "no sandbox sign-in" in message and "profile" in message
    platform.state.engine.dispose()
