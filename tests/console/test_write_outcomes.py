"""Writes whose answer is late, lost or refused: the user is told what is known, nothing stacks,
and what they typed survives."""

from __future__ import annotations

from typing import Any

import httpx

from ikan_console.api.client import PlatformClient
from ikan_console.app import IkanApp
from ikan_console.screens.main import MainScreen
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.booking_detail import BookingDetail
from tests.console.pilot_steps import OPS, console_over, settle, sign_in_as, wait_for_screen
from tests.slow_platform import ANSWER_WITHIN, LATE, HeldAnswers, SlowLink, SwitchableLink, served

UNKNOWN = (
    "The platform did not answer; the change may or may not have been made. "
    "Press r to see the current state; trying again is safe."
)


def messages(app: IkanApp, severity: str = "error") -> list[str]:
    return [n.message for n in app._notifications if n.severity == severity]


async def audit_actions(platform_app: Any, booking_id: int) -> list[str]:
    """The booking's audit trail as the platform has it (read past the console)."""
    client = PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform_app))
    await client.exchange("sandbox", OPS)
    events = await client.audit_events(entity_type="booking", entity_id=str(booking_id))
    await client.aclose()
    return [e.action for e in events.items]


async def test_a_claim_answered_too_late_may_have_been_made_and_pressing_c_again_is_safe(
    platform_app, clock
):
    """The platform stalls (like SIGSTOP): the claim lands, every answer comes too late."""
    link = SlowLink(platform_app)
    with served(link) as url:
        app = console_over(lambda: PlatformClient(url, timeout=ANSWER_WITHIN), clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in_as(pilot, OPS)
            table = app.screen.query_one("#bookings", PagedTable)
            booking = table.selected
            link.delay = LATE  # past the client's timeout, reads included
            await pilot.press("c")
            await settle(pilot)
            assert messages(app) == [UNKNOWN]
            assert table.selected.assignee is None  # the console does not know yet
            assert "booking.claim" in await audit_actions(platform_app, booking.id)

            link.delay = 0  # the platform is back
            app.clear_notifications()
            await pilot.press("c")  # the same claim again: same key, the first answer replayed
            await settle(pilot)
            assert messages(app) == []
            assert f"Claimed {booking.reference}." in messages(app, "information")
            assert table.selected.assignee.email == OPS
    assert (await audit_actions(platform_app, booking.id)).count("booking.claim") == 1


async def test_after_an_unknown_outcome_the_row_shows_what_the_platform_has(platform_app, clock):
    """Only the write's answer is lost; the booking is read again at once and shows the claim."""
    link = SlowLink(platform_app)
    with served(link) as url:
        app = console_over(lambda: PlatformClient(url, timeout=ANSWER_WITHIN), clock)
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in_as(pilot, OPS)
            table = app.screen.query_one("#bookings", PagedTable)
            link.delay, link.writes_only = LATE, True
            await pilot.press("c")
            await settle(pilot)
            assert messages(app) == [UNKNOWN]
            assert table.selected.assignee.email == OPS
            view = app.screen.query_one("#queues")
            assert view.check_action("claim", ()) is False  # c is no longer offered


async def test_pressing_c_eight_times_claims_once_and_says_once_that_it_is_still_working(
    make_console, platform_app
):
    held = HeldAnswers(platform_app)
    app = make_console(asgi_app=held)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        held.held = True
        await pilot.press(*"cccccccc")
        assert messages(app, "information")[-1] == (
            f"Still working on {booking.reference}: waiting for the platform's answer."
        )
        detail = app.screen.query_one(BookingDetail)
        assert detail.border_subtitle == f"claim {booking.reference}: waiting for the platform…"
        held.release()
        await settle(pilot)
        assert detail.border_subtitle == ""
        assert messages(app) == []
        notes = messages(app, "information")
        assert [m for m in notes if m.startswith("Still working")] == [notes[-2]]
        assert notes[-1] == f"Claimed {booking.reference}."
        assert table.selected.assignee.email == OPS
    assert (await audit_actions(platform_app, booking.id)).count("booking.claim") == 1


async def test_a_reason_typed_while_the_platform_is_unreachable_comes_back(platform_app, clock):
    link = SwitchableLink(platform_app)
    app = console_over(lambda: PlatformClient("http://platform", transport=link), clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        link.down = True
        await pilot.press("x")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press(*"Client postponed the move", "enter")
        await wait_for_screen(pilot, ReasonDialog)
        assert app.screen.query_one("#reason").value == "Client postponed the move"
        assert any("Cannot reach the platform" in m for m in messages(app))
        link.down = False
        await pilot.press("enter")  # the same text, sent again
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert table.selected.id == booking.id and table.selected.status == "cancelled"


class StricterPlatform:
    """The real platform behind a gateway with a newer rule the console does not know yet."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Refuse holds with 422 as the platform words validation; pass everything else on."""
        if scope["type"] == "http" and scope["path"].endswith("/hold"):
            body = (
                b'{"type":"about:blank","title":"Validation failed","status":422,'
                b'"code":"validation_failed","detail":"body.reason: Name the date it waits for."}'
            )
            headers = [(b"content-type", b"application/problem+json")]
            await send({"type": "http.response.start", "status": 422, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


async def test_a_reason_the_platform_refuses_comes_back_with_its_words(make_console, platform_app):
    stricter = StricterPlatform(platform_app)
    app = make_console(asgi_app=stricter)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        await pilot.press("h")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press(*"Visa appointment moved", "enter")
        await wait_for_screen(pilot, ReasonDialog)
        dialog = app.screen
        assert dialog.query_one("#reason").value == "Visa appointment moved"
        assert "Name the date it waits for." in str(dialog.query_one("#problem").render())
