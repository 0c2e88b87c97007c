"""Erasure: the scope preview, and an executed request leaving no trace of the subject.

Seeded subjects used here (FROZEN_NOW = 2026-12-01): request 10 (DR-20261017, approved) is about
Carlos Jankowski, whose only booking (BK-105, confirmed) runs until March 2027 and whose name no
one else has; request 9 (DR-20261004, approved) is about Kwame Silva, whose confirmed stay ends on
2027-02-14, and another traveller is also called Kwame Silva.

Executing goes through the audit-checking harness, whose erasure rule (tests/platform/harness.py,
`_check_erasure`) checks one event per entity the preview named, with before/after as documented;
these tests check what the erasure leaves behind.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import Text, cast, func, select

from ikan_platform.db import Base
from ikan_platform.models import AuditEvent, Booking, BookingNote, DeletionRequest, OutboxMessage
from tests.platform.conftest import ADMIN, OPS
from tests.platform.harness import Api

CARLOS, KWAME = 10, 9


def subject(platform_app: Any, request_id: int) -> tuple[str, str, list[int]]:
    """A request's subject: name, email and the ids of their bookings."""
    with platform_app.state.sessionmaker() as session:
        dr = session.get(DeletionRequest, request_id)
        ids = session.scalars(
            select(Booking.id).where(Booking.traveller_email == dr.subject_email)
        ).all()
        return dr.subject_name, dr.subject_email, list(ids)


async def execute(api: Api, request_id: int, key: str | None = None) -> httpx.Response:
    """Execute an approved request as Ops (the harness checks its audit events)."""
    version = (await api.get(f"/v1/deletion-requests/{request_id}", OPS)).json()["version"]
    return await api.post(
        f"/v1/deletion-requests/{request_id}/execute", OPS, if_match=version, key=key
    )


async def preview(api: Api, request_id: int) -> dict[str, dict[str, Any]]:
    """The preview's categories by key."""
    response = await api.get(f"/v1/deletion-requests/{request_id}/preview", OPS)
    assert response.status_code == 200, response.text
    return {c["category"]: c for c in response.json()["categories"]}


def traces(platform_app: Any, *needles: str) -> set[tuple[str, str, str]]:
    """Every (table, column, row key) in the whole database whose text contains a needle."""
    found = set()
    wanted = [n.lower() for n in needles]
    with platform_app.state.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            key = next(iter(table.primary_key.columns))
            for column in table.columns:
                for row_key, value in session.execute(select(key, column)):
                    if value is None:
                        continue
                    text = json.dumps(value, ensure_ascii=False, default=str)
                    if any(n in text.lower() for n in wanted):
                        found.add((table.name, column.name, str(row_key)))
    return found


async def add_note(api: Api, booking_id: int, body: str) -> int:
    """Add a note to a booking as Ops; returns its id."""
    response = await api.post(f"/v1/bookings/{booking_id}/notes", OPS, json={"body": body})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def give_account(api: Api, name: str, email: str) -> int:
    """Provision a traveller portal account for the subject, as an admin would."""
    identity = {"provider": "oidc", "issuer": "https://id.example", "subject": "sub-" + email}
    body = {"email": email, "name": name, "role": "traveler", "identity": identity}
    response = await api.post("/v1/users", ADMIN, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_preview_counts_the_subjects_data_and_changes_nothing(
    api: Api, platform_app: Any
) -> None:
    _, email, (booking_id,) = subject(platform_app, KWAME)
    with platform_app.state.sessionmaker() as session:
        expected_events = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                ((AuditEvent.entity_type == "booking") & (AuditEvent.entity_id == str(booking_id)))
                | (
                    (AuditEvent.entity_type == "deletion_request")
                    & (AuditEvent.entity_id == str(KWAME))
                )
                | func.lower(cast(AuditEvent.after, Text)).contains(email)
            )
        )
        events_before = session.scalar(select(func.count()).select_from(AuditEvent))

    categories = await preview(api, KWAME)

    bookings = categories["bookings"]
    assert (bookings["count"], bookings["retain"], bookings["erase"]) == (1, 1, 0)
    (item,) = bookings["items"]
    assert item["entity_id"] == str(booking_id) and item["action"] == "retain"
    assert "Active assignment" in item["legal_basis"] and "tax" in item["legal_basis"]
    assert item["retain_until"] == "2037-12-31"  # ten years after 2027, the year of check-out
    assert categories["booking_notes"]["count"] == 0
    assert categories["user_account"]["count"] == 0
    audit = categories["audit_trail"]
    assert audit["count"] == audit["pseudonymise"] == expected_events > 0
    for voice in ("voice_transcripts", "voice_recordings"):
        assert categories[voice]["count"] == 0
        assert "days after the call" in categories[voice]["retention_rule"]
    assert categories["request_record"]["retain"] == 1
    with platform_app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events_before
    assert (await api.get(f"/v1/deletion-requests/{KWAME}", OPS)).json()["status"] == "approved"


async def test_execute_erases_what_nothing_requires_and_leaves_no_trace_of_the_subject(
    api: Api, platform_app: Any
) -> None:
    name, email, (booking_id,) = subject(platform_app, CARLOS)
    cancelled = await api.act(
        booking_id, "cancel", OPS, json={"reason": f"{name} moved the start date"}, key="c-1"
    )
    assert cancelled.status_code == 200, cancelled.text
    own_note = await add_note(api, booking_id, f"Called {name} on {email} about the dates")
    other_note = await add_note(api, 1, f"Colleague of {email}; book them close by")
    user_id = await give_account(api, name, email)
    categories = await preview(api, CARLOS)
    assert (categories["bookings"]["erase"], categories["user_account"]["erase"]) == (1, 1)
    assert categories["booking_notes"]["erase"] == categories["booking_notes"]["pseudonymise"] == 1
    assert categories["replay_cache"]["pseudonymise"] == 1  # the cancel's cached response
    checked = api.checked_events

    response = await execute(api, CARLOS)

    assert response.status_code == 200, response.text
    # The harness checked one event each: booking, both notes, the account, the request.
    assert api.checked_events - checked == 5
    done = response.json()
    assert done["status"] == "completed" and done["completed_at"] == "2026-12-01T09:30:00Z"
    # The request and its written confirmation are the only places that still name them.
    messages = {str(m.id) for m in outbox_of(platform_app, CARLOS)}
    assert {(t, r) for t, _, r in traces(platform_app, email, name)} == {
        ("deletion_requests", str(CARLOS)),
        *(("outbox_messages", m) for m in messages),
    }
    booking = await api.booking(booking_id)
    assert booking["traveller_name"] == "Erased subject (DR-20261017)"
    assert booking["traveller_email"] == "erased.dr-20261017@erased.invalid"
    assert booking["status_reason"] == "Erased subject (DR-20261017) moved the start date"
    with platform_app.state.sessionmaker() as session:
        assert session.get(BookingNote, own_note).body == "[Note erased under DR-20261017]"
        assert "erased.dr-20261017@erased.invalid" in session.get(BookingNote, other_note).body
    account = (await api.get(f"/v1/users/{user_id}", ADMIN)).json()
    assert account["active"] is False and account["identities"] == []
    assert account["email"] == "erased.dr-20261017@erased.invalid"
    by_category = {c["category"]: c for c in done["result"]["categories"]}
    assert by_category["bookings"]["items"][0]["erase_fields"] == [
        "status_reason",
        "traveller_email",
        "traveller_name",
    ]
    assert by_category["audit_trail"]["pseudonymise"] > 0


async def test_the_erasure_audit_events_record_what_changed_but_not_the_old_values(
    api: Api, platform_app: Any
) -> None:
    name, email, (booking_id,) = subject(platform_app, CARLOS)
    await api.act(booking_id, "cancel", OPS, json={"reason": "Assignment called off"})

    assert (await execute(api, CARLOS)).status_code == 200

    events = await api.events(entity_type="booking", entity_id=str(booking_id))
    erasure = events[0]
    assert erasure["action"] == "erasure.pseudonymise"
    assert erasure["actor"]["email"] == OPS
    assert erasure["reason"].startswith("DR-20261017: ")
    assert erasure["before"]["traveller_name"] == erasure["before"]["traveller_email"] == "[erased]"
    assert erasure["after"]["traveller_name"] == "Erased subject (DR-20261017)"
    assert {"traveller_name", "traveller_email"} <= set(erasure["changed_fields"])
    assert erasure["undoable"] is False and erasure["undo_expires_at"] is None
    request_events = await api.events(entity_type="deletion_request", entity_id=str(CARLOS))
    assert request_events[0]["action"] == "deletion_request.execute"
    for event in events + request_events:
        text = json.dumps([event["before"], event["after"], event["reason"]]).lower()
        assert email not in text and name.lower() not in text


async def test_an_erasure_cannot_be_undone_directly_or_by_undoing_what_came_before(
    api: Api, platform_app: Any
) -> None:
    _, _, (booking_id,) = subject(platform_app, CARLOS)
    await api.act(booking_id, "cancel", OPS, json={"reason": "Assignment called off"})
    await execute(api, CARLOS)
    erasure, cancel = (await api.events(entity_type="booking", entity_id=str(booking_id)))[:2]
    assert cancel["action"] == "booking.cancel"

    direct = await api.post(
        f"/v1/audit-events/{erasure['id']}/undo", ADMIN, json={"reason": "Oops"}
    )
    earlier = await api.post(
        f"/v1/audit-events/{cancel['id']}/undo", ADMIN, json={"reason": "Mistake"}
    )

    assert direct.status_code == 422 and direct.json()["code"] == "not_undoable"
    assert earlier.status_code == 409 and earlier.json()["code"] == "entity_changed"
    assert (await api.booking(booking_id))["traveller_name"].startswith("Erased subject")


async def test_a_booking_of_an_active_assignment_is_kept_with_its_legal_basis(
    api: Api, platform_app: Any
) -> None:
    name, email, (booking_id,) = subject(platform_app, KWAME)
    before = await api.booking(booking_id)

    response = await execute(api, KWAME)

    assert response.status_code == 200, response.text
    kept = await api.booking(booking_id)
    assert (kept["traveller_name"], kept["traveller_email"]) == (name, email)
    assert kept["version"] == before["version"]
    (item,) = next(
        c for c in response.json()["result"]["categories"] if c["category"] == "bookings"
    )["items"]
    assert item["action"] == "retain" and item["retain_until"] == "2037-12-31"
    assert "Active assignment" in item["legal_basis"]
    # The booking row keeps them; the audit trail does not, and nor does anything else.
    assert {
        t for t, _, r in traces(platform_app, email) if (t, r) != ("bookings", str(booking_id))
    } == {
        "deletion_requests",
        "outbox_messages",
    }
    assert response.json()["result"]["warnings"]  # another traveller is also Kwame Silva


async def test_a_shared_name_is_replaced_only_where_the_subject_is_certainly_meant(
    api: Api, platform_app: Any
) -> None:
    name, email, _ = subject(platform_app, KWAME)
    with platform_app.state.sessionmaker() as session:
        namesake = session.scalars(
            select(Booking.id).where(
                Booking.traveller_name == name, Booking.traveller_email != email
            )
        ).one()
    by_name = await add_note(api, 2, f"{name} asked for a quiet room")  # which Kwame Silva?
    by_email = await add_note(api, 3, f"{name} ({email}) asked for a quiet room")
    swapped = await api.act(
        namesake, "cancel", OPS, json={"reason": f"Flat given to {name} <{email}>"}
    )
    assert swapped.status_code == 200, swapped.text

    preview_response = await api.get(f"/v1/deletion-requests/{KWAME}/preview", OPS)
    await execute(api, KWAME)

    assert "check those by hand" in preview_response.json()["warnings"][0]
    pseudonyms = "Erased subject (DR-20261004) <erased.dr-20261004@erased.invalid>"
    with platform_app.state.sessionmaker() as session:
        assert session.get(BookingNote, by_name).body == f"{name} asked for a quiet room"
        assert session.get(BookingNote, by_email).body == (
            "Erased subject (DR-20261004) (erased.dr-20261004@erased.invalid) asked for a"
            " quiet room"
        )
    other = await api.booking(namesake)
    assert other["traveller_name"] == name  # the other Kwame Silva keeps their name
    assert other["status_reason"] == f"Flat given to {pseudonyms}"
    events = await api.events(entity_type="booking", entity_id=str(namesake))
    assert events[0]["action"] == "erasure.pseudonymise"
    assert events[0]["before"]["status_reason"] == "[erased]"
    assert all(e["after"]["traveller_name"] == name for e in events)


def outbox_of(platform_app: Any, request_id: int) -> list[OutboxMessage]:
    """The letters and emails queued for a request."""
    with platform_app.state.sessionmaker() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.deletion_request_id == request_id)
                .order_by(OutboxMessage.id)
            )
        )


async def test_completion_queues_a_confirmation_letter_and_email_with_the_result(
    api: Api, platform_app: Any
) -> None:
    name, email, (booking_id,) = subject(platform_app, CARLOS)
    await api.act(booking_id, "cancel", OPS, json={"reason": "Assignment called off"})

    response = await execute(api, CARLOS)

    email_message, letter = outbox_of(platform_app, CARLOS)
    confirmation = response.json()["result"]["confirmation"]
    assert confirmation["message_ids"] == [email_message.id, letter.id]
    assert confirmation["channels"] == ["email", "letter"]
    assert email_message.recipient_address == email and letter.recipient_address is None
    for message in (email_message, letter):
        assert message.kind == "deletion_confirmation" and message.status == "queued"
        assert message.recipient_name == name and "DR-20261017" in message.subject
        assert "- Bookings: 1 erased." in message.body
        assert "- Voice recordings: none held (we delete them 90 days" in message.body
        assert "- User account: none held." in message.body
        assert "supervisory authority" in message.body


async def test_a_retried_execute_replays_and_erases_once(api: Api, platform_app: Any) -> None:
    first = await execute(api, CARLOS, key="execute-dr-10")
    with platform_app.state.sessionmaker() as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))

    again = await api.oracle.post(
        f"/v1/deletion-requests/{CARLOS}/execute",
        headers=await api.headers(
            OPS,
            **{"If-Match": f'"{first.json()["version"] - 1}"', "Idempotency-Key": "execute-dr-10"},
        ),
    )

    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len(outbox_of(platform_app, CARLOS)) == 2
    with platform_app.state.sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


async def test_execute_needs_if_match(api: Api) -> None:
    response = await api.oracle.post(
        f"/v1/deletion-requests/{CARLOS}/execute", headers=await api.headers(OPS)
    )

    assert response.status_code == 428
    assert (await api.get(f"/v1/deletion-requests/{CARLOS}", OPS)).json()["status"] == "approved"
