"""Optimistic concurrency (ETag / If-Match) and idempotent action POSTs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from ikan_platform.models import AuditEvent, IdempotencyRecord
from tests.platform.conftest import OPS, OPS_2
from tests.platform.harness import Api, booking_state


async def new_booking(api: Api) -> dict[str, Any]:
    """The first booking of the New queue."""
    response = await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 1})
    return response.json()["items"][0]


def audit_count(platform_app: Any) -> int:
    """How many audit events the database holds."""
    with platform_app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent))


async def test_reads_carry_the_version_as_etag(api: Api) -> None:
    booking = await new_booking(api)
    response = await api.get(f"/v1/bookings/{booking['id']}", OPS)
    assert response.headers["etag"] == f'"{booking["version"]}"'


async def test_a_write_without_if_match_is_refused_with_428(api: Api) -> None:
    booking = await new_booking(api)

    response = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS)

    assert response.status_code == 428
    assert response.json()["code"] == "if_match_required"
    assert (await api.booking(booking["id"]))["assignee"] is None


async def test_two_operators_never_overwrite_each_other(api: Api) -> None:
    booking = await new_booking(api)
    loaded = f'"{booking["version"]}"'
    first = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS, if_match=loaded)
    assert first.status_code == 200

    second = await api.post(
        f"/v1/bookings/{booking['id']}/hold", OPS_2, json={"reason": "Visa"}, if_match=loaded
    )

    assert second.status_code == 412
    problem = second.json()
    assert problem["code"] == "stale_version"
    now = await api.booking(booking["id"])
    assert problem["current"] == now  # the body carries the current representation
    assert second.headers["etag"] == f'"{now["version"]}"'
    assert now["status"] == "new" and now["assignee"]["email"] == OPS


@pytest.mark.parametrize(
    "sent",
    ["*", 'W/"{version}"', ' W/"{version}" ', '"{version}", W/"{version}"', '"{version}", *'],
)
async def test_wildcard_and_weak_if_match_are_refused(api: Api, sent: str) -> None:
    booking = await new_booking(api)
    if_match = sent.format(version=booking["version"])

    response = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS, if_match=if_match)

    assert response.status_code == 428
    problem = response.json()
    assert problem["code"] == "if_match_required"
    assert "strong ETag" in problem["detail"]
    assert (await api.booking(booking["id"]))["assignee"] is None


@pytest.mark.parametrize(
    "sent", ['"{old}", "{version}"', '"{version}","{old}"', '"x", "{version}"']
)
async def test_a_list_of_strong_tags_matches_when_any_of_them_is_current(
    api: Api, sent: str
) -> None:
    """RFC 9110 13.1.1: If-Match with a list is true if any listed tag matches."""
    booking = await new_booking(api)
    if_match = sent.format(version=booking["version"], old=booking["version"] - 1)

    response = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS, if_match=if_match)

    assert response.status_code == 200, response.text
    assert response.json()["assignee"]["email"] == OPS


async def test_a_list_without_the_current_tag_is_stale(api: Api) -> None:
    booking = await new_booking(api)
    stale = f'"{booking["version"] + 1}", "{booking["version"] + 2}"'

    response = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS, if_match=stale)

    assert response.status_code == 412
    assert response.json()["code"] == "stale_version"


async def test_an_unreadable_if_match_is_stale(api: Api) -> None:
    booking = await new_booking(api)
    junk = await api.post(f"/v1/bookings/{booking['id']}/claim", OPS, if_match="banana")
    assert junk.status_code == 412
    assert junk.json()["current"] == await api.booking(booking["id"])


async def test_a_write_that_loses_a_race_at_flush_gets_412_with_the_winning_state(
    api: Api, platform_app: Any
) -> None:
    """Another writer commits between our If-Match check and our UPDATE (real SQL, no mock)."""
    booking = await new_booking(api)
    audit_before = audit_count(platform_app)
    engine = platform_app.state.engine
    raced: list[bool] = []

    def other_writer_first(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if raced or not statement.lstrip().upper().startswith("UPDATE BOOKINGS"):
            return
        raced.append(True)
        with engine.begin() as other:
            other.execute(
                text(
                    "UPDATE bookings SET version = version + 1, status_reason = 'Taken by phone'"
                    " WHERE id = :id"
                ),
                {"id": booking["id"]},
            )

    event.listen(engine, "before_cursor_execute", other_writer_first)
    try:
        headers = await api.headers(OPS, **{"If-Match": f'"{booking["version"]}"'})
        response = await api.oracle.post(f"/v1/bookings/{booking['id']}/claim", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", other_writer_first)

    assert raced and response.status_code == 412, response.text
    problem = response.json()
    assert problem["code"] == "stale_version"
    now = await api.booking(booking["id"])
    assert now["version"] == booking["version"] + 1 and now["assignee"] is None
    assert problem["current"] == now
    assert response.headers["etag"] == f'"{now["version"]}"'
    assert audit_count(platform_app) == audit_before


async def test_a_replay_returns_the_first_response_and_writes_nothing(
    api: Api, platform_app: Any
) -> None:
    booking = await new_booking(api)
    first = await api.act(booking["id"], "claim", OPS, key="claim-1")
    events = audit_count(platform_app)

    replay = await api.post(
        f"/v1/bookings/{booking['id']}/claim", OPS, if_match=booking["version"], key="claim-1"
    )

    assert replay.status_code == first.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["etag"] == first.headers["etag"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert audit_count(platform_app) == events
    assert (await api.booking(booking["id"]))["version"] == booking["version"] + 1


async def test_a_replayed_undo_does_not_undo_twice(api: Api, platform_app: Any) -> None:
    booking = await new_booking(api)
    await api.act(booking["id"], "cancel", OPS, json={"reason": "Client postponed"})
    (event,) = await api.events(entity_type="booking", entity_id=str(booking["id"]), limit=1)
    body = {"reason": "Mistake"}
    first = await api.post(f"/v1/audit-events/{event['id']}/undo", OPS, json=body, key="u-1")
    events = audit_count(platform_app)

    replay = await api.post(f"/v1/audit-events/{event['id']}/undo", OPS, json=body, key="u-1")

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert audit_count(platform_app) == events


async def test_the_same_key_with_a_different_body_is_refused(api: Api, platform_app: Any) -> None:
    booking = await new_booking(api)
    await api.act(booking["id"], "hold", OPS, json={"reason": "Visa appointment"}, key="k")
    events = audit_count(platform_app)

    other_body = await api.act(booking["id"], "resume", OPS, key="k")
    other_path = await api.act(booking["id"], "hold", OPS, json={"reason": "Other"}, key="k")

    for refused in (other_body, other_path):
        assert refused.status_code == 422
        assert refused.json()["code"] == "idempotency_key_reused"
    assert audit_count(platform_app) == events
    assert (await api.booking(booking["id"]))["status"] == "on_hold"


async def test_keys_belong_to_one_user(api: Api) -> None:
    first = await new_booking(api)
    await api.act(first["id"], "claim", OPS, key="shared")
    response = await api.get("/v1/bookings", OPS, params={"queue": "new", "limit": 2})
    second = response.json()["items"][1]

    theirs = await api.act(second["id"], "claim", OPS_2, key="shared")

    assert theirs.status_code == 200
    assert theirs.headers.get("idempotent-replayed") is None
    assert (await api.booking(second["id"]))["assignee"]["email"] == OPS_2


async def test_keys_expire_after_24_hours(api: Api, platform_app: Any, clock: Any) -> None:
    booking = await new_booking(api)
    await api.act(booking["id"], "claim", OPS, key="daily")
    await api.act(booking["id"], "release", OPS)
    clock.advance(hours=24, minutes=1)

    again = await api.act(booking["id"], "claim", OPS, key="daily")

    assert again.status_code == 200
    assert again.headers.get("idempotent-replayed") is None
    assert (await api.booking(booking["id"]))["assignee"]["email"] == OPS
    with platform_app.state.sessionmaker() as session:
        keys = session.scalars(select(IdempotencyRecord.created_at)).all()
    assert keys == [clock()]  # the expired record is gone, the new one kept


async def test_keys_still_replay_just_inside_24_hours(api: Api, clock: Any) -> None:
    booking = await new_booking(api)
    await api.act(booking["id"], "claim", OPS, key="daily")
    await api.act(booking["id"], "release", OPS)
    clock.advance(hours=23, minutes=59)

    replay = await api.post(
        f"/v1/bookings/{booking['id']}/claim", OPS, if_match=booking["version"], key="daily"
    )

    assert replay.headers["idempotent-replayed"] == "true"
    assert (await api.booking(booking["id"]))["assignee"] is None


async def test_a_refused_write_is_not_remembered_under_its_key(api: Api) -> None:
    booking = await new_booking(api)
    stale = await api.post(
        f"/v1/bookings/{booking['id']}/claim", OPS, if_match=booking["version"] + 5, key="retry"
    )
    assert stale.status_code == 412

    retried = await api.act(booking["id"], "claim", OPS, key="retry")

    assert retried.status_code == 200
    assert booking_state(retried.json())["assignee_id"] is not None


async def test_an_oversized_key_is_refused(api: Api) -> None:
    booking = await new_booking(api)
    response = await api.act(booking["id"], "claim", OPS, key="x" * 201)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
