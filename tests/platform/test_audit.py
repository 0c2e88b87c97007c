"""The audit trail: filters, request ids, no unaudited write, and the documented action table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from ikan_platform.models import (
    AuditEvent,
    Booking,
    BookingNote,
    DeletionRequest,
    Identity,
    RefreshToken,
    User,
)
from ikan_platform.services import undo
from ikan_platform.services.audit import UnauditedWrite
from tests.platform.conftest import ADMIN, OPS, OPS_2
from tests.platform.harness import Api, assert_erased_before, assert_state_matches

ROOT = Path(__file__).resolve().parents[2]


async def new_bookings(api: Api, n: int) -> list[dict[str, Any]]:
    """The first `n` bookings of the New queue."""
    response = await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": n})
    return response.json()["items"]


async def me(api: Api, email: str) -> int:
    """A user's id."""
    return (await api.get("/v1/me", email)).json()["id"]


async def test_filter_by_entity_returns_its_history_newest_first(api: Api) -> None:
    (booking,) = await new_bookings(api, 1)
    await api.act(booking["id"], "claim", OPS)
    await api.act(booking["id"], "send-to-supplier", OPS)

    events = await api.events(entity_type="booking", entity_id=str(booking["id"]))

    assert [e["action"] for e in events] == [
        "booking.send_to_supplier",
        "booking.claim",
        "booking.create",
    ]
    assert events[0]["before"] == events[1]["after"]
    assert events[0]["changed_fields"] == ["sent_to_supplier_at", "status"]


async def test_filter_by_actor_and_action(api: Api) -> None:
    first, second = await new_bookings(api, 2)
    await api.act(first["id"], "claim", OPS)
    await api.act(second["id"], "claim", OPS_2)

    mine = await api.events(actor_id=await me(api, OPS_2), action="booking.claim")

    assert [e["entity_id"] for e in mine][:1] == [str(second["id"])]
    assert {e["actor"]["email"] for e in mine} == {OPS_2}
    assert {e["action"] for e in mine} == {"booking.claim"}


async def test_filter_by_time_range(api: Api, clock: Any) -> None:
    first, second = await new_bookings(api, 2)
    await api.act(first["id"], "claim", OPS)
    clock.advance(minutes=10)
    start = clock()
    await api.act(second["id"], "claim", OPS)
    clock.advance(minutes=10)

    inside = await api.events(since=start.isoformat(), until=(start + timedelta(minutes=5)))
    before = await api.events(until=start.isoformat(), limit=1)

    assert [e["entity_id"] for e in inside] == [str(second["id"])]
    assert before[0]["entity_id"] == str(first["id"])


async def test_a_time_without_a_zone_is_refused(api: Api) -> None:
    response = await api.get("/v1/audit-events", OPS, params={"since": "2026-12-01T00:00:00"})
    assert response.status_code == 400
    assert response.json()["code"] == "naive_datetime"


@pytest.mark.parametrize("bound", ["since", "until"])
@pytest.mark.parametrize("value", ["-1", "0", "1e10", "1764581400", "+3.5", " 17 "])
async def test_a_time_filter_given_as_a_number_is_refused(api: Api, bound: str, value: str) -> None:
    """pydantic would read these as seconds since 1970 (-1 as 1969-12-31T23:59:59Z)."""
    response = await api.get("/v1/audit-events", OPS, params={bound: value})

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["loc"] == ["query", bound]
    assert "is a number; give a date and time with a UTC offset" in problem["detail"]


async def test_a_time_filter_with_a_zone_still_filters(api: Api) -> None:
    response = await api.get(
        "/v1/audit-events", OPS, params={"since": "2026-12-01T09:00:00+01:00", "limit": 5}
    )
    assert response.status_code == 200, response.text
    assert all(e["occurred_at"] >= "2026-12-01T08:00:00Z" for e in response.json()["items"])


async def test_every_write_of_a_request_carries_its_request_id(api: Api) -> None:
    (booking,) = await new_bookings(api, 1)

    response = await api.act(
        booking["id"], "claim", OPS, headers={"X-Request-Id": "console-7f3a-claim"}
    )

    assert response.headers["x-request-id"] == "console-7f3a-claim"
    events = await api.events(request_id="console-7f3a-claim")
    assert [(e["action"], e["entity_id"]) for e in events] == [
        ("booking.claim", str(booking["id"]))
    ]


async def test_a_request_id_that_is_not_safe_is_replaced(api: Api) -> None:
    (booking,) = await new_bookings(api, 1)
    response = await api.act(booking["id"], "claim", OPS, headers={"X-Request-Id": "a b\tc"})
    generated = response.headers["x-request-id"]
    assert generated != "a b\tc" and len(generated) == 32
    assert len(await api.events(request_id=generated)) == 1


def test_a_write_that_skips_the_audit_path_is_refused(platform_app: Any) -> None:
    with platform_app.state.sessionmaker() as session:
        booking = session.scalars(select(Booking).limit(1)).one()
        booking.status = "cancelled"
        with pytest.raises(UnauditedWrite):
            session.commit()


BULK_WRITES = {
    "orm update": lambda: update(Booking).values(status="cancelled"),
    "orm update of one row": lambda: update(User).where(User.id == 1).values(role="admin"),
    "orm delete": lambda: delete(BookingNote),
    "orm insert": lambda: insert(DeletionRequest).values(reference="DR-X"),
    "identities": lambda: delete(Identity),
    "core update": lambda: update(Booking.__table__).values(status="cancelled"),
    "text update": lambda: text("update bookings set status = 'cancelled'"),
    "text delete": lambda: text('DELETE FROM "users" WHERE id = 1'),
    "text insert": lambda: text("  INSERT INTO public.booking_notes (body) VALUES ('x')"),
}


@pytest.mark.parametrize("statement", sorted(BULK_WRITES))
def test_a_bulk_write_to_an_audited_table_is_refused(platform_app: Any, statement: str) -> None:
    with platform_app.state.sessionmaker() as session:
        before = session.scalars(select(Booking.status).order_by(Booking.id)).all()
        with pytest.raises(UnauditedWrite, match="bulk write to the audited table"):
            session.execute(BULK_WRITES[statement]())
        session.rollback()
        assert session.scalars(select(Booking.status).order_by(Booking.id)).all() == before
        assert session.get(User, 1) is not None


def test_bulk_writes_to_other_tables_still_work(platform_app: Any) -> None:
    with platform_app.state.sessionmaker() as session:
        session.execute(update(RefreshToken).values(revoked_at=None))
        session.execute(text("UPDATE outbox_messages SET status = 'queued'"))
        session.rollback()


def test_the_erasure_checker_catches_a_wrong_before() -> None:
    previous = {"id": 1, "traveller_name": "Ana", "status": "new", "version": 2}
    assert_erased_before({**previous, "traveller_name": "[erased]"}, previous)
    with pytest.raises(AssertionError, match="does not continue"):
        assert_erased_before({**previous, "traveller_name": "[erased]", "status": "x"}, previous)
    with pytest.raises(AssertionError, match="must mark"):
        assert_erased_before(previous, previous)
    with pytest.raises(AssertionError, match="other fields"):
        assert_erased_before({"id": 1, "traveller_name": "[erased]"}, previous)


def test_the_audit_checker_catches_a_wrong_state() -> None:
    shown = {"id": 1, "status": "new", "version": 2}
    assert_state_matches({"id": 1, "status": "new", "version": 2, "extra": 1}, shown)
    with pytest.raises(AssertionError):
        assert_state_matches({"id": 1, "status": "cancelled", "version": 2}, shown)
    with pytest.raises(AssertionError):
        assert_state_matches({"id": 1, "version": 2}, shown)
    with pytest.raises(AssertionError):
        assert_state_matches(None, shown)


async def test_the_audit_checker_ran_on_the_writes_of_this_suite(api: Api) -> None:
    (booking,) = await new_bookings(api, 1)
    await api.act(booking["id"], "claim", OPS)
    await api.act(booking["id"], "claim", OPS)  # refused: already claimed
    assert api.checked_writes == 1


async def test_an_event_shows_when_its_undo_window_closes(api: Api) -> None:
    (booking,) = await new_bookings(api, 1)
    await api.act(booking["id"], "hold", OPS, json={"reason": "Visa"})
    (event,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    shown = (await api.get(f"/v1/audit-events/{event['id']}", ADMIN)).json()
    assert shown == event
    assert shown["undo_expires_at"] == "2026-12-02T09:30:00Z"
    assert shown["entity_label"] == booking["reference"]
    assert shown["reason"] == "Visa"


def test_every_recorded_action_is_in_the_documented_table(platform_app: Any) -> None:
    with platform_app.state.sessionmaker() as session:
        actions = set(session.scalars(select(AuditEvent.action).distinct()))
    assert {"booking.create", "booking.cancel", "deletion_request.execute"} <= actions
    assert actions <= set(undo.ACTIONS)


def test_audit_doc_is_current() -> None:
    current = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    assert current == undo.render_markdown(), (
        "python -m ikan_platform.services.undo > docs/audit.md"
    )


@pytest.mark.parametrize(
    "bound", [{"since": "0001-01-01T00:00:00+05:00"}, {"until": "9999-12-31T23:59:59-05:00"}]
)
async def test_a_time_beyond_what_a_timestamp_holds_is_refused(api: Api, bound: dict) -> None:
    response = await api.get("/v1/audit-events", OPS, params=bound)
    assert response.status_code == 400
    assert response.json()["code"] == "time_out_of_range"


async def test_an_action_filter_that_names_no_action_is_refused_with_a_suggestion(api: Api) -> None:
    """A typo must not read as "no such writes": an admin would wrongly conclude there were none."""
    typo = await api.get("/v1/audit-events", OPS, params={"action": "booking.cancle"})
    assert typo.status_code == 400, typo.text
    assert typo.json()["code"] == "unknown_action"
    assert typo.json()["detail"] == (
        "No audited action is called 'booking.cancle'. Did you mean booking.cancel?"
    )

    nonsense = await api.get("/v1/audit-events", OPS, params={"action": "explode"})
    assert nonsense.status_code == 400
    assert "docs/audit.md lists them" in nonsense.json()["detail"]


async def test_every_audited_action_is_a_valid_filter(api: Api) -> None:
    from ikan_platform.services.undo import ACTIONS

    for action in ACTIONS:
        response = await api.get("/v1/audit-events", OPS, params={"action": action, "limit": 1})
        assert response.status_code == 200, (action, response.text)
