"""Recording a newly received deletion request: POST /v1/deletion-requests.

The deadline is the platform's to work out (received + 30 days), the receipt time may not lie in
the future, the write is audited and idempotent. FROZEN_NOW is 2026-12-01 09:30 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from ikan_platform.models import DeletionRequest
from tests.conftest import FROZEN_NOW
from tests.platform.conftest import OPS, OPS_2, RMC, SUPPLIER
from tests.platform.harness import Api


def letter(**overrides: Any) -> dict[str, Any]:
    """A request that arrived by letter three days ago."""
    body = {
        "subject_name": "Marta Kowalska",
        "subject_email": "Marta.Kowalska@example.org",
        "client_id": 1,
        "channel": "letter",
        "received_at": "2026-11-28T10:15:00+01:00",
        "note": "Letter filed as DSR/2026/114",
    }
    return {**body, **overrides}


def at(value: str) -> datetime:
    """An API timestamp as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def request_count(platform_app: Any) -> int:
    """How many deletion requests the database holds."""
    with platform_app.state.sessionmaker() as session:
        return session.scalar(select(func.count()).select_from(DeletionRequest))


async def test_a_received_request_is_recorded_due_exactly_30_days_after_receipt(api: Api) -> None:
    response = await api.post("/v1/deletion-requests", OPS, json=letter())

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/v1/deletion-requests/{created['id']}"
    assert response.headers["etag"] == '"1"'
    assert created["status"] == "received" and created["channel"] == "letter"
    assert created["subject_email"] == "marta.kowalska@example.org"
    assert created["client"]["id"] == 1
    assert at(created["received_at"]) == datetime.fromisoformat("2026-11-28T09:15:00+00:00")
    assert at(created["due_at"]) - at(created["received_at"]) == timedelta(days=30)
    assert created["due_at"] == "2026-12-28T09:15:00Z"
    assert created["overdue"] is False and created["reference"].startswith("DR-20261128-")
    (event,) = await api.events(entity_type="deletion_request", entity_id=str(created["id"]))
    assert event["action"] == "deletion_request.create"
    assert event["actor"]["email"] == OPS
    assert event["before"] is None and event["after"]["due_at"] == created["due_at"]
    assert event["reason"] == "Letter filed as DSR/2026/114"
    assert event["undoable"] is False
    moved = await api.post(
        f"/v1/deletion-requests/{created['id']}/verify", OPS_2, if_match=created["version"]
    )
    assert moved.status_code == 200 and moved.json()["status"] == "verifying"


async def test_receipt_defaults_to_the_server_clock(api: Api) -> None:
    body = letter(channel="phone", note=None)
    del body["received_at"]

    created = (await api.post("/v1/deletion-requests", OPS, json=body)).json()

    assert at(created["received_at"]) == FROZEN_NOW
    assert at(created["due_at"]) == FROZEN_NOW + timedelta(days=30)
    (event,) = await api.events(entity_type="deletion_request", entity_id=str(created["id"]))
    assert event["reason"] is None


@pytest.mark.parametrize(
    "received_at",
    [
        (FROZEN_NOW + timedelta(seconds=1)).isoformat(),
        "2026-12-01T10:00:00+00:00",
        "2026-12-01T11:00:00+01:00",  # 10:00 UTC
        "9999-12-31T23:59:59Z",
    ],
)
async def test_a_receipt_time_in_the_future_is_refused(
    api: Api, platform_app: Any, received_at: str
) -> None:
    before = request_count(platform_app)

    response = await api.post("/v1/deletion-requests", OPS, json=letter(received_at=received_at))

    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["loc"] == ["body", "received_at"]
    assert "future" in problem["detail"]
    assert request_count(platform_app) == before


async def test_receipt_at_exactly_now_is_accepted(api: Api) -> None:
    response = await api.post(
        "/v1/deletion-requests", OPS, json=letter(received_at="2026-12-01T10:30:00+01:00")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("received_at", "2026-11-28T10:15:00"),  # no offset: which 10:15?
        ("received_at", "0001-01-01T00:00:00+01:00"),
        ("channel", "fax"),
        ("subject_email", "not-an-email"),
        ("subject_name", "   "),
        ("client_id", 999),
    ],
)
async def test_an_invalid_request_is_refused(
    api: Api, platform_app: Any, field: str, value: Any
) -> None:
    before = request_count(platform_app)

    response = await api.post("/v1/deletion-requests", OPS, json=letter(**{field: value}))

    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert field in str(response.json()["errors"])
    assert request_count(platform_app) == before


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0001-01-01T00:00:00Z", "lies before 2000-01-01"),
        ("1999-12-31T23:59:59Z", "lies before 2000-01-01"),
        (1764581400, "is a number"),
        (1764581400.5, "is a number"),
        ("1764581400", "is a number"),
        (-1, "is a number"),
    ],
)
async def test_a_receipt_time_before_2000_or_given_as_a_number_is_refused_in_words(
    api: Api, platform_app: Any, value: Any, says: str
) -> None:
    before = request_count(platform_app)

    response = await api.post("/v1/deletion-requests", OPS, json=letter(received_at=value))

    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_failed"
    assert problem["errors"][0]["loc"][-1] == "received_at"
    assert problem["detail"].startswith(f"body.received_at: {says}"), problem["detail"]
    assert request_count(platform_app) == before


async def test_a_receipt_on_new_years_day_2000_is_accepted(api: Api) -> None:
    response = await api.post(
        "/v1/deletion-requests", OPS, json=letter(received_at="2000-01-01T00:00:00Z")
    )

    assert response.status_code == 201, response.text
    assert response.json()["reference"].startswith("DR-20000101-")


async def test_a_request_received_long_ago_is_overdue_from_the_start(api: Api) -> None:
    old = letter(received_at="2026-10-30T09:00:00Z")

    created = (await api.post("/v1/deletion-requests", OPS, json=old)).json()

    assert created["due_at"] == "2026-11-29T09:00:00Z" and created["overdue"] is True


async def test_a_retried_intake_records_one_request(api: Api, platform_app: Any) -> None:
    before = request_count(platform_app)
    first = await api.post("/v1/deletion-requests", OPS, json=letter(), key="intake-1")

    again = await api.post("/v1/deletion-requests", OPS, json=letter(), key="intake-1")
    other = await api.post(
        "/v1/deletion-requests", OPS, json=letter(channel="email"), key="intake-1"
    )

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert request_count(platform_app) == before + 1


@pytest.mark.parametrize("who", [SUPPLIER, RMC, "traveler"])
async def test_only_operations_and_admin_record_requests(
    api: Api, platform_app: Any, who: str, traveler: str
) -> None:
    before = request_count(platform_app)
    response = await api.post(
        "/v1/deletion-requests", traveler if who == "traveler" else who, json=letter()
    )
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert request_count(platform_app) == before


async def test_an_intake_that_loses_its_reference_to_a_concurrent_one_draws_another(
    api: Api, platform_app: Any
) -> None:
    """Another process inserts a request with the very reference drawn here, just before us."""
    engine = platform_app.state.engine
    raced: list[str] = []

    def other_intake_first(
        conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any
    ) -> None:
        if raced or not statement.lstrip().upper().startswith("INSERT INTO DELETION_REQUESTS"):
            return
        other = engine.raw_connection()
        try:
            other.cursor().execute(statement, parameters)  # the same row, committed first
            other.commit()
        finally:
            other.close()
        with engine.connect() as connection:
            newest = select(DeletionRequest.reference).order_by(DeletionRequest.id.desc())
            raced.append(connection.execute(newest.limit(1)).scalar_one())

    before = request_count(platform_app)
    sa_event.listen(engine, "before_cursor_execute", other_intake_first)
    try:
        response = await api.post("/v1/deletion-requests", OPS, json=letter())
    finally:
        sa_event.remove(engine, "before_cursor_execute", other_intake_first)

    assert response.status_code == 201, response.text
    assert len(raced) == 1 and response.json()["reference"] != raced[0]
    assert request_count(platform_app) == before + 2
