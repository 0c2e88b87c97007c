"""Operators read and add a booking's notes from the queue (`n`), against the real platform."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text
from textual.containers import Vertical
from textual.widgets import Input, Static

from ikan_console.api.client import PlatformClient
from ikan_console.api.models import Booking
from ikan_console.app import IkanApp
from ikan_console.screens.main import MainScreen
from ikan_console.screens.notes_dialog import NotesDialog
from ikan_console.screens.sign_in import SignInScreen
from ikan_console.views.paged_table import PagedTable
from tests.console.pilot_steps import OPS, settle, sign_in_as, wait_for_screen

TOM = "tom.becker@ikan.example"


@pytest.fixture
async def teammate(platform_app):  # type: ignore[no-untyped-def]
    """Tom, working the same platform through his own client."""
    client = PlatformClient("http://platform", transport=httpx.ASGITransport(app=platform_app))
    await client.exchange("sandbox", TOM)
    yield client
    await client.aclose()


def selected(app: IkanApp) -> Booking:
    booking = app.screen.query_one("#bookings", PagedTable).selected
    assert booking is not None
    return booking


async def open_notes(pilot) -> NotesDialog:  # type: ignore[no-untyped-def]
    await pilot.press("n")
    await wait_for_screen(pilot, NotesDialog)
    await settle(pilot)
    return pilot.app.screen


def shown(dialog: NotesDialog) -> list[str]:
    """The notes as the dialog shows them, top to bottom."""
    return [str(note.render()) for note in dialog.query(".note").results(Static)]


def problem(dialog: NotesDialog) -> str:
    return str(dialog.query_one("#problem", Static).render())


def error_messages(app: IkanApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


async def test_n_opens_the_notes_newest_first_and_a_new_note_goes_to_the_top(
    make_console, teammate, clock
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        await teammate.add_booking_note(booking.id, "Supplier asked for the passport copy.")
        clock.advance(minutes=3)
        await teammate.add_booking_note(booking.id, "Passport copy sent.")

        dialog = await open_notes(pilot)
        title = str(dialog.query_one("#title", Static).render())
        assert booking.reference in title and booking.traveller_name in title
        assert shown(dialog) == [
            "Tom Becker · 2026-12-01 09:33 UTC\nPassport copy sent.",
            "Tom Becker · 2026-12-01 09:30 UTC\nSupplier asked for the passport copy.",
        ]

        await pilot.press(*"Traveller confirmed the dates by phone.", "enter")
        await settle(pilot)
        assert shown(dialog)[0] == (
            "Priya Nair · 2026-12-01 09:33 UTC\nTraveller confirmed the dates by phone."
        )
        assert dialog.query_one("#note", Input).value == ""
        assert "3 notes" in str(dialog.query_one("#notes").border_title)

    on_platform = (await teammate.booking_notes(booking.id)).items
    assert (on_platform[0].body, on_platform[0].author.email) == (
        "Traveller confirmed the dates by phone.",
        OPS,
    )


async def test_an_empty_note_is_refused_in_words_and_nothing_is_sent(make_console, teammate):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        dialog = await open_notes(pilot)
        assert "No notes on this booking yet" in str(dialog.query_one("#placeholder").render())
        await pilot.press("space", "space", "enter")
        await settle(pilot)
        assert "empty note is not added" in problem(dialog)
        assert app.screen is dialog
    assert (await teammate.booking_notes(booking.id)).items == []
    assert (await teammate.audit_events(action="booking_note.create")).items == []


async def test_a_note_over_4000_characters_is_refused_with_its_length_before_sending(
    make_console, teammate
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        dialog = await open_notes(pilot)
        field = dialog.query_one("#note", Input)
        field.value = "Long call summary. " * 220  # 4,180 characters, 4,179 once trimmed
        await pilot.press("enter")
        await settle(pilot)
        assert "4,179 characters" in problem(dialog) and "at most 4,000" in problem(dialog)
        assert field.value == "Long call summary. " * 220
    assert (await teammate.booking_notes(booking.id)).items == []


async def test_escape_closes_the_notes_and_returns_to_the_queue(make_console):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        await open_notes(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert selected(app).id == booking.id


async def test_a_read_only_console_shows_the_notes_without_a_field_to_add_one(
    make_console, teammate
):
    app = make_console(read_only=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        await teammate.add_booking_note(booking.id, "Late check-in agreed with the supplier.")
        offered = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert "notes" in offered and "claim" not in offered

        dialog = await open_notes(pilot)
        assert shown(dialog) == [
            "Tom Becker · 2026-12-01 09:30 UTC\nLate check-in agreed with the supplier."
        ]
        assert not dialog.query(Input)
        assert "Read-only console" in str(dialog.query_one("#read-only").render())
        assert "Enter" not in str(dialog.query_one(Vertical).border_subtitle)


async def test_a_note_on_a_booking_that_vanished_is_reported_and_the_text_is_kept(
    make_console, database_url
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        dialog = await open_notes(pilot)
        await pilot.press(*"Refund promised")
        # Gone from the platform's database while the dialog was open (as a purge would do).
        engine = create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM bookings WHERE id = :id"), {"id": booking.id})
        engine.dispose()

        await pilot.press("enter")
        await settle(pilot)
        assert any("does not exist" in m for m in error_messages(app)), error_messages(app)
        assert app.screen is dialog
        assert dialog.query_one("#note", Input).value == "Refund promised"
        assert "your text is kept" in problem(dialog)


async def test_an_ended_session_keeps_the_typed_note_and_it_is_added_after_signing_in(
    make_console, teammate, clock
):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        dialog = await open_notes(pilot)
        await pilot.press(*"Supplier called back")
        clock.advance(hours=9)  # access and refresh tokens both gone
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)

        await sign_in_as(pilot, OPS)
        assert app.screen is dialog
        assert dialog.query_one("#note", Input).value == "Supplier called back"
        await pilot.press("enter")
        await settle(pilot)
        assert shown(dialog) == ["Priya Nair · 2026-12-01 18:30 UTC\nSupplier called back"]
    await teammate.exchange("sandbox", TOM)  # his session ended with the day too
    assert [n.body for n in (await teammate.booking_notes(booking.id)).items] == [
        "Supplier called back"
    ]


async def test_older_notes_load_when_scrolling_to_the_end(make_console, teammate):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        for number in range(1, 56):
            await teammate.add_booking_note(booking.id, f"Call log entry {number}")

        dialog = await open_notes(pilot)
        notes = dialog.query_one("#notes")
        assert len(shown(dialog)) == 50
        assert "showing the newest 50" in str(notes.border_title)
        for _ in range(10):
            await pilot.press("pagedown")
        await settle(pilot)
        assert len(shown(dialog)) == 55
        assert shown(dialog)[-1].endswith("Call log entry 1")
        assert "55 notes" in str(notes.border_title)


async def test_a_cancelled_booking_can_still_get_a_note(make_console, teammate):
    app = make_console()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        await teammate.booking_action(booking, "cancel", {"reason": "client postponed"})
        await pilot.press("slash", *booking.reference, "enter")
        await settle(pilot)
        assert selected(app).status == "cancelled"

        dialog = await open_notes(pilot)
        await pilot.press(*"Client may rebook in March", "enter")
        await settle(pilot)
        assert shown(dialog)[0].endswith("Client may rebook in March")
    assert (await teammate.booking_notes(booking.id)).items[0].body == "Client may rebook in March"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_notes_dialog_fits_the_terminal(make_console, teammate, size):
    app = make_console()
    async with app.run_test(size=size) as pilot:
        await sign_in_as(pilot, OPS)
        booking = selected(app)
        for number in range(1, 13):
            await teammate.add_booking_note(booking.id, f"Note {number}: " + "details " * 12)
        dialog = await open_notes(pilot)
        box = dialog.query_one(Vertical)
        assert dialog.region.contains_region(box.region)
        for part in ("#title", "#notes", "#note", "#problem"):
            assert box.region.contains_region(dialog.query_one(part).region), part
