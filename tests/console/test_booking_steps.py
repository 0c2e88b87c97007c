"""An operator takes a booking through the supplier round-trip from the keyboard."""

from __future__ import annotations

from ikan_console.screens.assign_dialog import AssignDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import (
    ADMIN,
    OPS,
    footer_keys,
    platform_session,
    settle,
    sign_in_as,
    wait_for_screen,
)


async def test_send_confirm_hold_resume_and_assign_a_new_booking(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        booking = table.selected
        assert booking.status == "new"
        view = app.screen.query_one("#queues")
        assert view.check_action("resume", ()) is False  # not on hold: not offered

        await pilot.press("s")
        await settle(pilot)
        assert table.selected.status == "awaiting_supplier"

        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"CH-448812", "enter")
        await settle(pilot)
        assert (table.selected.status, table.selected.supplier_reference) == (
            "confirmed",
            "CH-448812",
        )

        await pilot.press("h")
        await pilot.pause()
        await pilot.press(*"Visa appointment moved", "enter")
        await settle(pilot)
        assert table.selected.status == "on_hold"
        await pilot.press("h")  # the same key resumes a booking on hold
        await settle(pilot)
        assert table.selected.status == "confirmed"

        await pilot.press("a")
        await wait_for_screen(pilot, AssignDialog)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert table.selected.assignee is not None
        assert table.selected.id == booking.id


async def test_the_footer_offers_only_what_the_platform_would_accept_of_this_user(
    make_console, platform_app
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        assert table.selected.assignee is None
        shown = footer_keys(pilot)
        assert "c Claim" in shown and "u Unclaim" not in shown  # nobody holds it
        await pilot.press("c")
        await settle(pilot)
        shown = footer_keys(pilot)
        assert "c Claim" not in shown and "u Unclaim" in shown  # you hold it now

        await pilot.press("e")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press(*"Traveller lands before check-in", "enter")
        await settle(pilot)
        assert table.selected.escalated and "e Escalate" not in footer_keys(pilot)
        await pilot.press("e")  # not offered: nothing asks for a reason the platform refuses
        await pilot.pause()
        assert not isinstance(app.screen, ReasonDialog)


async def test_a_teammates_booking_offers_unclaim_to_an_admin_only(make_console, platform_app):
    tom, headers = await platform_session(platform_app, "tom.becker@ikan.example")
    page = await tom.get("/v1/bookings", params={"queue": "new", "limit": 1}, headers=headers)
    booking = page.json()["items"][0]
    await tom.post(
        f"/v1/bookings/{booking['id']}/claim",
        headers={**headers, "If-Match": f'"{booking["version"]}"'},
    )
    await tom.aclose()
    for email, unclaim in ((OPS, False), (ADMIN, True)):
        app = make_console()
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in_as(pilot, email)
            table = app.screen.query_one("#bookings", PagedTable)
            assert table.selected.assignee.name == "Tom Becker"
            shown = footer_keys(pilot)
            assert "c Claim" not in shown  # Tom holds it: Assign hands it over
            assert ("u Unclaim" in shown) is unclaim


async def test_resuming_a_booking_held_before_it_was_sent_makes_it_new_again(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        assert table.selected.status == "new" and table.selected.sent_to_supplier_at is None
        await pilot.press("h")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press(*"Waiting for the visa", "enter")
        await settle(pilot)
        assert "s Send" not in footer_keys(pilot) and "h Resume" in footer_keys(pilot)
        await pilot.press("h")
        await settle(pilot)
        assert table.selected.status == "new" and "s Send" in footer_keys(pilot)
        assert f"{table.selected.reference} is off hold: New." in [
            n.message for n in app._notifications
        ]


async def test_a_two_character_supplier_reference_is_accepted(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        await pilot.press("f")
        await wait_for_screen(pilot, ReasonDialog)
        await pilot.press("enter")  # nothing typed: the reference's own words
        await pilot.pause()
        problem = str(app.screen.query_one("#problem").render())
        assert problem == "Type the supplier's booking reference (as they gave it)."
        await pilot.press(*"42", "enter")
        await settle(pilot)
        assert (table.selected.status, table.selected.supplier_reference) == ("confirmed", "42")


async def test_a_reason_over_the_platforms_limit_is_refused_in_the_dialog_and_kept(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        await pilot.press("h")
        await wait_for_screen(pilot, ReasonDialog)
        pasted = "Waiting for the landlord. " * 80  # 2,080 characters
        app.screen.query_one("#reason").value = pasted
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReasonDialog)
        assert app.screen.query_one("#reason").value == pasted
        assert str(app.screen.query_one("#problem").render()) == (
            "The reason is 2,079 characters; the platform takes at most 2,000. Shorten it by 79."
        )
        await pilot.press("escape")
        await settle(pilot)
        assert table.selected.status == "new"  # nothing was sent


async def test_claiming_a_booking_you_hold_says_so_when_the_platform_refuses(make_console):
    """The footer no longer offers it; should a claim be sent anyway, the platform's 409 reads
    as a plain fact."""
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        table = app.screen.query_one("#bookings", PagedTable)
        await pilot.press("c")
        await settle(pilot)
        view = app.screen.query_one("#queues")
        view.run_action(table.selected, "claim", None, "Claimed.")
        await settle(pilot)
        errors = [n.message for n in app._notifications if n.severity == "error"]
        assert errors == [f"You already hold {table.selected.reference}."]
