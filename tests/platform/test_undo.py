"""Undo from the audit trail: the happy path and every refusal an operator can meet."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.platform.conftest import ADMIN, ADMIN_2, OPS, OPS_2, RMC, SUPPLIER
from tests.platform.harness import Api, booking_state


async def first_booking(api: Api, queue: str, as_: str = OPS) -> dict[str, Any]:
    """The first booking of a queue."""
    response = await api.get("/v1/bookings", as_, params={"queue": queue, "limit": 1})
    assert response.status_code == 200, response.text
    return response.json()["items"][0]


async def cancelled_event(api: Api, booking_id: int) -> dict[str, Any]:
    """Cancel a booking as Ops and return the audit event that recorded it."""
    response = await api.act(booking_id, "cancel", OPS, json={"reason": "Client postponed"})
    assert response.status_code == 200, response.text
    (event,) = await api.events(entity_type="booking", entity_id=str(booking_id), limit=1)
    assert event["action"] == "booking.cancel"
    return event


async def undo(api: Api, event_id: int, as_: str = ADMIN, **kw: Any) -> Any:
    """POST the undo of an audit event."""
    return await api.post(
        f"/v1/audit-events/{event_id}/undo", as_, json={"reason": "Mistake"}, **kw
    )


async def test_undo_restores_a_cancelled_booking_and_says_who_undid_it(api: Api) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    assert event["undoable"] is True
    assert event["undo_expires_at"].startswith("2026-12-02T09:30")

    response = await undo(api, event["id"])

    assert response.status_code == 200, response.text
    restored = await api.booking(booking["id"])
    assert restored["status"] == "awaiting_supplier"
    assert restored["status_reason"] == booking["status_reason"]
    assert restored["version"] == booking["version"] + 2  # versions move on, never back
    undo_event = response.json()["undo_event"]
    assert undo_event["action"] == "undo"
    assert undo_event["reverts_event_id"] == event["id"]
    assert undo_event["actor"]["email"] == ADMIN
    assert undo_event["reason"] == "Mistake"
    assert undo_event["before"]["status"] == "cancelled"
    assert undo_event["after"] == booking_state(restored)
    reverted = (await api.get(f"/v1/audit-events/{event['id']}", ADMIN)).json()
    assert reverted["undone_by_event_id"] == undo_event["id"]
    assert reverted["undoable"] is False


async def test_undo_refused_when_booking_changed_since(api: Api) -> None:
    booking = await first_booking(api, "new")
    assert (await api.act(booking["id"], "claim", OPS)).status_code == 200
    (claim,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    assert (await api.act(booking["id"], "hold", OPS_2, json={"reason": "Visa"})).status_code == 200

    response = await undo(api, claim["id"])

    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "entity_changed"
    now = await api.booking(booking["id"])
    assert problem["current"] == booking_state(now)
    assert now["status"] == "on_hold" and now["assignee"]["email"] == OPS


async def test_undo_refused_once_the_24_hour_window_has_passed(api: Api, clock: Any) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    clock.advance(hours=24, seconds=1)

    response = await undo(api, event["id"])

    assert response.status_code == 410
    assert response.json()["code"] == "undo_window_passed"
    assert (await api.booking(booking["id"]))["status"] == "cancelled"
    shown = (await api.get(f"/v1/audit-events/{event['id']}", ADMIN)).json()
    assert shown["undoable"] is False


async def test_undo_still_allowed_at_the_last_minute_of_the_window(api: Api, clock: Any) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    clock.advance(hours=23, minutes=59)

    assert (await undo(api, event["id"], as_=OPS_2)).status_code == 200
    assert (await api.booking(booking["id"]))["status"] == "awaiting_supplier"


@pytest.mark.parametrize("who", [SUPPLIER, RMC, "traveler"])
async def test_undo_refused_for_roles_other_than_ops_and_admin(
    api: Api, who: str, traveler: str
) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])

    response = await undo(api, event["id"], as_=traveler if who == "traveler" else who)

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert (await api.booking(booking["id"]))["status"] == "cancelled"


async def test_undo_refused_when_already_undone(api: Api) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    first = await undo(api, event["id"])

    again = await undo(api, event["id"], as_=OPS)

    assert again.status_code == 409
    assert again.json()["code"] == "already_undone"
    assert again.json()["undone_by_event_id"] == first.json()["undo_event"]["id"]


async def test_erasure_is_never_undoable(api: Api) -> None:
    (erasure,) = await api.events(action="deletion_request.execute", limit=1)
    assert erasure["undoable"] is False and erasure["undo_expires_at"] is None

    response = await undo(api, erasure["id"])

    assert response.status_code == 422
    assert response.json()["code"] == "not_undoable"


async def test_an_undo_can_itself_be_undone(api: Api) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    first = (await undo(api, event["id"])).json()["undo_event"]
    assert first["undoable"] is True

    second = await undo(api, first["id"], as_=OPS)

    assert second.status_code == 200, second.text
    assert (await api.booking(booking["id"]))["status"] == "cancelled"
    assert second.json()["undo_event"]["reverts_event_id"] == first["id"]


async def test_undoing_a_note_removes_it_and_undoing_that_brings_it_back_with_its_id(
    api: Api,
) -> None:
    booking = await first_booking(api, "new")
    added = await api.post(
        f"/v1/bookings/{booking['id']}/notes", OPS, json={"body": "Traveller prefers ground floor"}
    )
    assert added.status_code == 201, added.text
    note = added.json()
    (create,) = await api.events(entity_type="booking_note", entity_id=str(note["id"]))

    removal = await undo(api, create["id"])

    assert removal.status_code == 200, removal.text
    assert removal.json()["undo_event"]["after"] is None
    notes = (await api.get(f"/v1/bookings/{booking['id']}/notes", OPS)).json()["items"]
    assert note["id"] not in [n["id"] for n in notes]

    restore = await undo(api, removal.json()["undo_event"]["id"])

    assert restore.status_code == 200, restore.text
    notes = (await api.get(f"/v1/bookings/{booking['id']}/notes", OPS)).json()["items"]
    (back,) = [n for n in notes if n["id"] == note["id"]]
    assert back["body"] == note["body"]
    assert back["author"] == note["author"]
    assert back["created_at"] == note["created_at"]


async def test_the_undo_window_of_an_undo_is_its_own(api: Api, clock: Any) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    clock.advance(hours=20)
    first = (await undo(api, event["id"])).json()["undo_event"]
    clock.advance(hours=20)  # 40 h after the cancel, 20 h after its undo

    assert (await undo(api, first["id"])).status_code == 200
    assert (await api.booking(booking["id"]))["status"] == "cancelled"


async def test_undo_refused_for_an_unknown_event(api: Api) -> None:
    response = await undo(api, 987654321)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_after_undoing_the_newer_change_the_older_one_can_be_undone(api: Api) -> None:
    """The refusal says "undo the newer change first": doing so must actually work."""
    booking = await first_booking(api, "awaiting_supplier")
    assert (await api.act(booking["id"], "claim", OPS)).status_code == 200
    held = await api.act(booking["id"], "hold", OPS, json={"reason": "Visa date moved"})
    assert held.status_code == 200, held.text
    (hold,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    assert (await api.act(booking["id"], "release", OPS)).status_code == 200
    (release,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    assert (await undo(api, hold["id"])).json()["code"] == "entity_changed"

    assert (await undo(api, release["id"])).status_code == 200
    response = await undo(api, hold["id"])

    assert response.status_code == 200, response.text
    restored = await api.booking(booking["id"])
    assert restored["status"] == "awaiting_supplier"
    assert restored["assignee"]["email"] == OPS


async def admin_user_write(api: Api, action: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An Admin's user-management write of kind `action`; returns (user, its audit event)."""
    from tests.platform.test_users import new_user, user_by_email

    if action == "user.create":
        created = await api.post("/v1/users", ADMIN, json=new_user())
        assert created.status_code == 201, created.text
        user = created.json()
    else:
        tom = await user_by_email(api, OPS_2)
        path, body = {
            "user.change_role": ("role", {"role": "admin", "reason": "Team lead"}),
            "user.deactivate": ("deactivate", {"reason": "Left the company"}),
        }[action]
        changed = await api.post(
            f"/v1/users/{tom['id']}/{path}", ADMIN, json=body, if_match=tom["version"]
        )
        assert changed.status_code == 200, changed.text
        user = changed.json()
    (event,) = await api.events(entity_type="user", entity_id=str(user["id"]), limit=1)
    assert event["action"] == action
    return user, event


@pytest.mark.parametrize("action", ["user.create", "user.change_role", "user.deactivate"])
async def test_operations_cannot_undo_user_management_writes(api: Api, action: str) -> None:
    user, event = await admin_user_write(api, action)
    response = await undo(api, event["id"], as_=OPS)

    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "undo_forbidden"
    assert problem["allowed_roles"] == ["admin"]
    assert "Only Admin may undo" in problem["detail"] and action in problem["detail"]
    after = await api.get(f"/v1/users/{user['id']}", ADMIN)
    assert after.status_code == 200 and after.json() == user
    assert (await undo(api, event["id"], as_=ADMIN_2)).status_code == 200


async def test_operations_cannot_undo_an_admins_undo_of_a_role_change(api: Api) -> None:
    user, event = await admin_user_write(api, "user.change_role")
    first = await undo(api, event["id"], as_=ADMIN)
    assert first.status_code == 200, first.text
    undo_event = first.json()["undo_event"]

    response = await undo(api, undo_event["id"], as_=OPS)

    assert response.status_code == 403
    assert response.json()["code"] == "undo_forbidden"
    assert (await api.get(f"/v1/users/{user['id']}", ADMIN)).json()["role"] == "operations"
    assert (await undo(api, undo_event["id"], as_=ADMIN_2)).status_code == 200
    assert (await api.get(f"/v1/users/{user['id']}", ADMIN)).json()["role"] == "admin"


async def test_operations_still_undo_booking_writes(api: Api) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])

    assert (await undo(api, event["id"], as_=OPS_2)).status_code == 200


async def test_an_undo_racing_a_concurrent_write_never_overwrites_it(
    api: Api, platform_app: Any
) -> None:
    """Another writer strikes between the undo's checks and its UPDATE (real SQL, no mock).

    PostgreSQL: the undo holds the row (FOR UPDATE), so the other writer cannot get in and the
    undo goes through. SQLite has no row lock: the other writer commits first, and the undo
    answers 409 entity_changed with the state that won, never a 412 or a lost write.
    """
    booking = await first_booking(api, "awaiting_supplier")
    event = await cancelled_event(api, booking["id"])
    engine = platform_app.state.engine
    outcome: list[str] = []
    struck: list[bool] = []  # once only: the other writer's own UPDATE must not strike again

    def other_writer_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if struck or not statement.lstrip().upper().startswith("UPDATE BOOKINGS"):
            return
        struck.append(True)
        try:
            with engine.begin() as other:
                if other.dialect.name == "postgresql":
                    other.execute(text("SET LOCAL lock_timeout = '300ms'"))
                other.execute(
                    text(
                        "UPDATE bookings SET version = version + 1,"
                        " status_reason = 'Client called: keep it cancelled' WHERE id = :id"
                    ),
                    {"id": booking["id"]},
                )
            outcome.append("committed")
        except OperationalError:
            outcome.append("blocked")

    sa_event.listen(engine, "before_cursor_execute", other_writer_first)
    try:
        headers = await api.headers(ADMIN)
        response = await api.oracle.post(
            f"/v1/audit-events/{event['id']}/undo", headers=headers, json={"reason": "Mistake"}
        )
    finally:
        sa_event.remove(engine, "before_cursor_execute", other_writer_first)

    now = await api.booking(booking["id"])
    if outcome == ["committed"]:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "entity_changed"
        assert response.json()["current"] == booking_state(now)
        assert now["status"] == "cancelled"
        assert now["status_reason"] == "Client called: keep it cancelled"
    else:
        assert outcome == ["blocked"] and engine.dialect.name == "postgresql"
        assert response.status_code == 200, response.text
        assert now["status"] == "awaiting_supplier"


async def test_an_event_recorded_before_sent_to_supplier_at_existed_stays_undoable(
    api: Api, platform_app: Any
) -> None:
    """Migration 0004 added the column; events of unsent bookings from before it still undo."""
    unsent = await first_booking(api, "new")
    sent = await first_booking(api, "awaiting_supplier")
    events = {}
    for booking in (unsent, sent):
        held = await api.act(booking["id"], "hold", OPS, json={"reason": "Visa pending"})
        assert held.status_code == 200, held.text
        (events[booking["id"]],) = await api.events(
            entity_type="booking", entity_id=str(booking["id"]), limit=1
        )
    with platform_app.state.engine.begin() as connection:  # as a pre-0004 platform wrote them
        for event in events.values():
            for side in ("before", "after"):
                state = {k: v for k, v in event[side].items() if k != "sent_to_supplier_at"}
                connection.execute(
                    text(f'UPDATE audit_events SET "{side}" = :state WHERE id = :id'),
                    {"state": json.dumps(state), "id": event["id"]},
                )
    headers = await api.headers(ADMIN)

    def undo_raw(event_id: int) -> Any:
        # Straight to the app: the harness would rightly flag the doctored history.
        path = f"/v1/audit-events/{event_id}/undo"
        return api.oracle.post(path, headers=headers, json={"reason": "Mistake"})

    restored = await undo_raw(events[unsent["id"]]["id"])
    refused = await undo_raw(events[sent["id"]]["id"])

    assert restored.status_code == 200, restored.text
    assert (await api.booking(unsent["id"]))["status"] == "new"
    assert (await api.booking(unsent["id"]))["sent_to_supplier_at"] is None
    assert refused.status_code == 409 and refused.json()["code"] == "entity_changed"


async def history_of(api: Api, entity_type: str, entity_id: int) -> list[tuple[str, Any, Any]]:
    """(action, before body/email, after body/email) of an entity's events, oldest first."""
    key = "body" if entity_type == "booking_note" else "email"
    events = await api.events(entity_type=entity_type, entity_id=str(entity_id))
    return [
        (e["action"], (e["before"] or {}).get(key), (e["after"] or {}).get(key))
        for e in reversed(events)
    ]


async def test_a_note_removed_by_undo_comes_back_under_its_own_id_after_a_newer_note(
    api: Api,
) -> None:
    booking = await first_booking(api, "new")
    path = f"/v1/bookings/{booking['id']}/notes"
    first = (await api.post(path, OPS, json={"body": "First note"})).json()
    (create,) = await api.events(entity_type="booking_note", entity_id=str(first["id"]))
    removal = (await undo(api, create["id"])).json()["undo_event"]

    second = await api.post(path, OPS_2, json={"body": "Second note, by Tom"})
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first["id"]  # SQLite once handed the removed id out again

    restore = await undo(api, removal["id"])

    assert restore.status_code == 200, restore.text
    notes = (await api.get(path, OPS)).json()["items"]
    assert {n["id"]: n["body"] for n in notes} == {
        first["id"]: "First note",
        second.json()["id"]: "Second note, by Tom",
    }
    assert await history_of(api, "booking_note", first["id"]) == [
        ("booking_note.create", None, "First note"),
        ("undo", "First note", None),
        ("undo", None, "First note"),
    ]
    assert await history_of(api, "booking_note", second.json()["id"]) == [
        ("booking_note.create", None, "Second note, by Tom")
    ]


async def test_a_user_removed_by_undo_comes_back_under_its_own_id_after_a_newer_user(
    api: Api,
) -> None:
    from tests.platform.test_users import ENTRA, new_user

    first = (await api.post("/v1/users", ADMIN, json=new_user())).json()
    (create,) = await api.events(entity_type="user", entity_id=str(first["id"]))
    removal = (await undo(api, create["id"])).json()["undo_event"]
    other = new_user(email="bo.lind@ikan.example", identity={**ENTRA, "subject": "bo"})

    second = await api.post("/v1/users", ADMIN_2, json=other)
    assert second.status_code == 201, second.text
    assert second.json()["id"] != first["id"]

    restore = await undo(api, removal["id"])

    assert restore.status_code == 200, restore.text
    assert (await api.get(f"/v1/users/{first['id']}", ADMIN)).json()["email"] == first["email"]
    assert (await api.get(f"/v1/users/{second.json()['id']}", ADMIN)).json()["email"] == (
        "bo.lind@ikan.example"
    )
    assert [a for a, _, _ in await history_of(api, "user", first["id"])] == [
        "user.create",
        "undo",
        "undo",
    ]
    assert await history_of(api, "user", second.json()["id"]) == [
        ("user.create", None, "bo.lind@ikan.example")
    ]


def create_booking(platform_app: Any, clock: Any, reference: str) -> int:
    """A booking created through the audit path (no route creates bookings; the seed does this)."""
    from ikan_platform.models import Booking
    from ikan_platform.services.audit import SYSTEM, WriteContext, record_create

    with platform_app.state.sessionmaker() as session:
        template = session.get(Booking, 1)
        booking = Booking(
            **{
                c.key: getattr(template, c.key)
                for c in Booking.__table__.columns
                if c.key not in ("id", "version")
            }
        )
        booking.reference, booking.status, booking.sent_to_supplier_at = reference, "new", None
        booking.assignee_id = booking.supplier_reference = booking.status_reason = None
        booking.created_at = booking.updated_at = clock()
        ctx = WriteContext(SYSTEM, f"create-{reference}", clock())
        record_create(session, ctx, booking, "booking.create")
        session.commit()
        return booking.id


async def test_a_booking_removed_by_undo_comes_back_under_its_own_id_after_a_newer_one(
    api: Api, platform_app: Any, clock: Any
) -> None:
    first = create_booking(platform_app, clock, "BK-900001")
    (create,) = await api.events(entity_type="booking", entity_id=str(first))
    removal = (await undo(api, create["id"])).json()["undo_event"]
    assert (await api.get(f"/v1/bookings/{first}", OPS)).status_code == 404

    second = create_booking(platform_app, clock, "BK-900002")
    assert second != first

    restore = await undo(api, removal["id"])

    assert restore.status_code == 200, restore.text
    assert (await api.booking(first))["reference"] == "BK-900001"
    assert (await api.booking(first))["created_at"] == "2026-12-01T09:30:00Z"
    assert (await api.booking(second))["reference"] == "BK-900002"
    newer = await api.events(entity_type="booking", entity_id=str(second))
    assert [e["action"] for e in newer] == ["booking.create"]


async def booking_write(api: Api, booking_id: int, action: str, as_: str, **body: str) -> int:
    """Make a booking write and return the id of the audit event that recorded it."""
    response = await api.act(booking_id, action, as_, json=body or None)
    assert response.status_code == 200, response.text
    (event,) = await api.events(entity_type="booking", entity_id=str(booking_id), limit=1)
    return event["id"]


async def shown_undoable(api: Api, *event_ids: int) -> list[bool]:
    """Whether the event list and the single event both offer the undo (they must agree)."""
    listed = {e["id"]: e["undoable"] for e in await api.events(limit=200)}
    single = [(await api.get(f"/v1/audit-events/{i}", ADMIN)).json()["undoable"] for i in event_ids]
    assert [listed[i] for i in event_ids] == single
    return single


async def test_an_old_undo_never_reverts_a_teammates_newer_identical_write(api: Api) -> None:
    """Priya holds, Tom resumes, Tom holds again: the booking holds what Priya's hold left."""
    booking = await first_booking(api, "awaiting_supplier")
    priyas = await booking_write(api, booking["id"], "hold", OPS, reason="Visa pending")
    await booking_write(api, booking["id"], "resume", OPS_2)
    toms = await booking_write(api, booking["id"], "hold", OPS_2, reason="Visa pending")
    assert await shown_undoable(api, priyas, toms) == [False, True]

    response = await undo(api, priyas, as_=OPS)

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "entity_changed"
    assert response.json()["current"]["status"] == "on_hold"
    assert await shown_undoable(api, priyas, toms) == [False, True]
    assert (await undo(api, toms, as_=OPS_2)).status_code == 200
    assert (await api.booking(booking["id"]))["status"] == "awaiting_supplier"


async def test_an_older_write_is_undoable_again_once_the_newer_one_is_undone(api: Api) -> None:
    booking = await first_booking(api, "new")
    claim = await booking_write(api, booking["id"], "claim", OPS)
    release = await booking_write(api, booking["id"], "release", OPS)
    assert await shown_undoable(api, claim, release) == [False, True]
    undone = (await undo(api, release)).json()["undo_event"]["id"]
    assert await shown_undoable(api, claim, release, undone) == [True, False, True]

    response = await undo(api, claim)

    assert response.status_code == 200, response.text
    assert (await api.booking(booking["id"]))["assignee"] is None


async def test_redoing_a_newer_write_makes_the_older_one_overtaken_again(api: Api) -> None:
    booking = await first_booking(api, "new")
    claim = await booking_write(api, booking["id"], "claim", OPS)
    release = await booking_write(api, booking["id"], "release", OPS)
    undone = (await undo(api, release)).json()["undo_event"]["id"]
    redone = (await undo(api, undone)).json()["undo_event"]["id"]  # the release is back
    assert await shown_undoable(api, claim, undone, redone) == [False, False, True]

    response = await undo(api, claim)

    assert response.status_code == 409 and response.json()["code"] == "entity_changed"
    assert (await undo(api, redone)).status_code == 200  # and the claim stands again
    assert (await api.booking(booking["id"]))["assignee"]["email"] == OPS
    assert await shown_undoable(api, claim) == [True]


async def test_an_undo_chain_can_be_walked_forwards_and_back(api: Api) -> None:
    booking = await first_booking(api, "awaiting_supplier")
    cancel = await booking_write(api, booking["id"], "cancel", OPS, reason="Client postponed")
    first = (await undo(api, cancel)).json()["undo_event"]["id"]
    second = (await undo(api, first, as_=OPS_2)).json()["undo_event"]["id"]
    assert (await api.booking(booking["id"]))["status"] == "cancelled"  # the cancel is back

    third = await undo(api, second)

    assert third.status_code == 200, third.text
    assert (await api.booking(booking["id"]))["status"] == "awaiting_supplier"
    assert await shown_undoable(api, cancel, first, second) == [False, False, False]
    assert await shown_undoable(api, third.json()["undo_event"]["id"]) == [True]


async def test_an_audit_page_costs_the_same_queries_whatever_its_size(
    api: Api, platform_app: Any
) -> None:
    """Undo links and the history rule for a whole page come from one query (docs/benchmarks.md)."""
    headers = await api.headers(ADMIN)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    async def page(limit: int) -> int:
        statements.clear()
        response = await api.oracle.get(
            "/v1/audit-events", headers=headers, params={"limit": limit}
        )
        assert response.status_code == 200 and len(response.json()["items"]) == limit
        return len(statements)

    engine = platform_app.state.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        small, large = await page(2), await page(100)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)

    assert small == large
