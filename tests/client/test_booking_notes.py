"""Booking notes through PlatformClient, against the real platform: read, add, never twice."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import NotFound, ReadOnlyProfile, Unprocessable

OPS = "priya.nair@ikan.example"
OPS_2 = "tom.becker@ikan.example"
MISSING_BOOKING = 987_654


async def a_booking_id(client: PlatformClient) -> int:
    return (await client.bookings(queue="new", limit=1)).items[0].id


async def test_notes_come_newest_first_with_author_and_time_in_keyset_pages(client_for, clock):
    priya, tom = await client_for(OPS), await client_for(OPS_2)
    booking_id = await a_booking_id(priya)
    await priya.add_booking_note(booking_id, "Called the traveller: arrives late, after 22:00.")
    clock.advance(minutes=5)
    await tom.add_booking_note(booking_id, "Supplier knows about the late arrival.")
    clock.advance(minutes=5)
    await priya.add_booking_note(booking_id, "Key box code sent by email.")

    first = await tom.booking_notes(booking_id, limit=2)
    assert [n.body for n in first.items] == [
        "Key box code sent by email.",
        "Supplier knows about the late arrival.",
    ]
    assert [n.author.email for n in first.items] == [OPS, OPS_2]
    assert first.items[0].created_at == datetime(2026, 12, 1, 9, 40, tzinfo=UTC)
    assert first.next_cursor is not None
    older = await tom.booking_notes(booking_id, cursor=first.next_cursor, limit=2)
    assert [n.body for n in older.items] == ["Called the traveller: arrives late, after 22:00."]
    assert older.next_cursor is None


async def test_an_added_note_is_audited_once_as_a_note_creation(client_for):
    priya = await client_for(OPS)
    booking_id = await a_booking_id(priya)
    note = await priya.add_booking_note(booking_id, "Traveller asked for a ground-floor flat.")
    assert (note.booking_id, note.author.name, note.version) == (booking_id, "Priya Nair", 1)
    events = await priya.audit_events(action="booking_note.create")
    assert [e.entity_id for e in events.items] == [str(note.id)]


async def test_a_lost_answer_to_a_new_note_is_retried_and_the_note_is_written_once(
    platform_app, client_for
):
    priya = await client_for(OPS)
    booking_id = await a_booking_id(priya)
    real = httpx.ASGITransport(app=platform_app)
    sent: list[httpx.Request] = []

    class LosesFirstAnswer(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await real.handle_async_request(request)
            sent.append(request)
            if len(sent) == 1:
                raise httpx.ReadError("connection reset after the write")
            return response

    flaky = PlatformClient("http://platform", transport=LosesFirstAnswer())
    flaky.auth.set_tokens(priya.auth.tokens)
    note = await flaky.add_booking_note(booking_id, "Deposit refunded by the supplier.")
    await flaky.aclose()

    keys = [r.headers["idempotency-key"] for r in sent]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert not any("if-match" in r.headers for r in sent)
    notes = await priya.booking_notes(booking_id)
    assert [n.id for n in notes.items] == [note.id]


async def test_a_read_only_client_refuses_to_add_a_note_and_still_reads_them(
    platform_app, client_for
):
    priya = await client_for(OPS)
    booking_id = await a_booking_id(priya)
    await priya.add_booking_note(booking_id, "Written before the look.")
    looking = PlatformClient(
        "http://platform", transport=httpx.ASGITransport(app=platform_app), read_only=True
    )
    await looking.exchange("sandbox", OPS)
    with pytest.raises(ReadOnlyProfile):
        await looking.add_booking_note(booking_id, "Only looking")
    assert [n.body for n in (await looking.booking_notes(booking_id)).items] == [
        "Written before the look."
    ]
    await looking.aclose()


async def test_notes_of_a_booking_that_does_not_exist_are_not_found(client_for):
    priya = await client_for(OPS)
    with pytest.raises(NotFound):
        await priya.booking_notes(MISSING_BOOKING)
    with pytest.raises(NotFound):
        await priya.add_booking_note(MISSING_BOOKING, "Lost in the void")


async def test_the_platform_refuses_a_note_longer_than_4000_characters(client_for):
    priya = await client_for(OPS)
    booking_id = await a_booking_id(priya)
    with pytest.raises(Unprocessable):
        await priya.add_booking_note(booking_id, "x" * 4001)
    assert (await priya.booking_notes(booking_id)).items == []
