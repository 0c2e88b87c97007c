"""Deletion requests: the list, the states, who may move a request on, and the written notices.

Seeded requests (FROZEN_NOW = 2026-12-01 09:30 UTC): 1-3 and 14 received, 4-6 verifying (6 was
received 33 days ago, so it is overdue), 7-8 ready (7 verified by Priya), 9-10 approved,
11-12 completed, 13 rejected.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ikan_platform.models import OutboxMessage
from tests.platform.conftest import ADMIN, ADMIN_2, OPS, OPS_2, RMC, SUPPLIER
from tests.platform.harness import Api

RECEIVED, OVERDUE_VERIFYING, READY_BY_PRIYA, APPROVED, COMPLETED, REJECTED = 1, 6, 7, 9, 11, 13


async def request_of(api: Api, request_id: int) -> dict[str, Any]:
    """A deletion request as GET shows it."""
    response = await api.get(f"/v1/deletion-requests/{request_id}", OPS)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()


async def step(
    api: Api, request_id: int, action: str, as_: str = OPS, json: Any = None, **kw: Any
) -> Any:
    """POST a workflow step with the request's current version as If-Match."""
    version = (await request_of(api, request_id))["version"]
    return await api.post(
        f"/v1/deletion-requests/{request_id}/{action}", as_, json=json, if_match=version, **kw
    )


def outbox(platform_app: Any, request_id: int) -> list[OutboxMessage]:
    """The letters and emails queued for a request."""
    with platform_app.state.sessionmaker() as session:
        return list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.deletion_request_id == request_id)
                .order_by(OutboxMessage.id)
            )
        )


async def test_list_is_filtered_by_state_and_overdue_soonest_deadline_first(api: Api) -> None:
    verifying = (await api.get("/v1/deletion-requests", OPS, params={"status": "verifying"})).json()
    overdue = (await api.get("/v1/deletion-requests", OPS, params={"overdue": "true"})).json()
    every = (await api.get("/v1/deletion-requests", ADMIN, params={"limit": 200})).json()

    assert sorted(r["id"] for r in verifying["items"]) == [4, 5, 6]
    assert [r["id"] for r in overdue["items"]] == [OVERDUE_VERIFYING]
    assert overdue["items"][0]["overdue"] is True
    dues = [r["due_at"] for r in every["items"]]
    assert dues == sorted(dues) and len(dues) == 14
    bad = await api.get("/v1/deletion-requests", OPS, params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"


async def test_a_request_walks_to_approved_recording_who_verified_and_who_approved(
    api: Api,
) -> None:
    verified = await step(api, RECEIVED, "verify")
    assert verified.status_code == 200, verified.text
    assert verified.json()["status"] == "verifying"
    assert verified.headers["etag"] == f'"{verified.json()["version"]}"'

    ready = await step(
        api, RECEIVED, "mark-ready", json={"method": "email_confirmation", "note": "Replied"}
    )
    assert ready.status_code == 200, ready.text
    body = ready.json()
    assert body["status"] == "ready"
    assert body["verification_method"] == "email_confirmation"
    assert body["verification_note"] == "Replied"
    assert body["verified_at"] == "2026-12-01T09:30:00Z"
    assert body["verified_by_id"] is not None

    approved = await step(api, RECEIVED, "approve", as_=ADMIN)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approved_at"] == "2026-12-01T09:30:00Z"
    assert approved.json()["approved_by_id"] not in (None, body["verified_by_id"])
    events = await api.events(entity_type="deletion_request", entity_id=str(RECEIVED))
    assert [e["action"] for e in events[:3]] == [
        "deletion_request.approve",
        "deletion_request.mark_ready",
        "deletion_request.verify",
    ]
    assert events[1]["reason"] == "Identity verified by email_confirmation: Replied"
    assert not any(e["undoable"] for e in events)
    assert api.checked_writes == 3  # the harness compared each event with what GET showed


async def test_the_verifier_may_not_approve_the_erasure(api: Api) -> None:
    await step(api, RECEIVED, "verify", as_=OPS_2)
    await step(api, RECEIVED, "mark-ready", as_=OPS_2, json={"method": "id_document"})

    own = await step(api, RECEIVED, "approve", as_=OPS_2)
    seeded = await step(api, READY_BY_PRIYA, "approve", as_=OPS)  # verified before the column

    for refused in (own, seeded):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "four_eyes_required"
    assert (await step(api, RECEIVED, "approve", as_=OPS)).status_code == 200
    assert (await step(api, READY_BY_PRIYA, "approve", as_=ADMIN_2)).status_code == 200


@pytest.mark.parametrize(
    ("request_id", "action", "body", "state"),
    [
        (RECEIVED, "approve", None, "received"),
        (RECEIVED, "mark-ready", {"method": "id_document"}, "received"),
        (RECEIVED, "execute", None, "received"),
        (READY_BY_PRIYA, "verify", None, "ready"),
        (COMPLETED, "reject", {"reason": "Too late now"}, "completed"),
        (REJECTED, "extend", {"reason": "More time"}, "rejected"),
        (APPROVED, "approve", None, "approved"),
    ],
)
async def test_a_step_from_the_wrong_state_is_refused_and_changes_nothing(
    api: Api, request_id: int, action: str, body: Any, state: str
) -> None:
    before = await request_of(api, request_id)

    response = await step(api, request_id, action, as_=ADMIN, json=body)

    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["code"] == "invalid_state"
    assert problem["state"] == state
    assert f"is {state}; to " in problem["detail"]
    assert await request_of(api, request_id) == before


async def test_writes_need_a_current_if_match(api: Api) -> None:
    path = f"/v1/deletion-requests/{RECEIVED}/verify"
    current = await request_of(api, RECEIVED)

    missing = await api.post(path, OPS)
    stale = await api.post(path, OPS, if_match=current["version"] - 1)

    assert missing.status_code == 428 and missing.json()["code"] == "if_match_required"
    assert stale.status_code == 412 and stale.json()["code"] == "stale_version"
    assert stale.json()["current"]["version"] == current["version"]
    assert stale.headers["etag"] == f'"{current["version"]}"'
    assert await request_of(api, RECEIVED) == current


async def test_a_retried_step_with_the_same_key_replays_and_writes_once(
    api: Api, platform_app: Any
) -> None:
    version = (await request_of(api, RECEIVED))["version"]
    path = f"/v1/deletion-requests/{RECEIVED}/reject"
    body = {"reason": "The requester withdrew it"}

    first = await api.post(path, OPS, json=body, if_match=version, key="dr-1-reject")
    again = await api.post(path, OPS, json=body, if_match=version, key="dr-1-reject")
    other = await api.post(
        path, OPS, json={"reason": "Something else"}, if_match=version, key="dr-1-reject"
    )

    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    events = await api.events(entity_type="deletion_request", entity_id=str(RECEIVED))
    assert [e["action"] for e in events].count("deletion_request.reject") == 1
    assert len(outbox(platform_app, RECEIVED)) == 2  # one email, one letter, not four


@pytest.mark.parametrize("request_id", [1, 4, 7, 9])  # received, verifying, ready, approved
async def test_any_open_request_can_be_rejected_and_the_subject_is_told_why(
    api: Api, platform_app: Any, request_id: int
) -> None:
    reason = "We could not verify your identity after two reminders."

    response = await step(api, request_id, "reject", json={"reason": reason})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["rejection_reason"] == reason
    email, letter = outbox(platform_app, request_id)
    assert (email.channel, letter.channel) == ("email", "letter")
    assert email.recipient_address == response.json()["subject_email"]
    for message in (email, letter):
        assert message.kind == "deletion_rejection" and message.status == "queued"
        assert reason in message.body and "supervisory authority" in message.body
        assert response.json()["subject_name"] in message.body


async def test_reject_needs_a_reason(api: Api) -> None:
    response = await step(api, RECEIVED, "reject", json={})

    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


async def test_extend_moves_the_deadline_once_and_tells_the_subject(
    api: Api, platform_app: Any
) -> None:
    before = await request_of(api, RECEIVED)
    received = datetime.fromisoformat(before["received_at"])

    response = await step(
        api, RECEIVED, "extend", json={"reason": "Records are held by two suppliers", "days": 45}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["due_at"]) == received + timedelta(days=30 + 45)
    assert body["extension_reason"] == "Records are held by two suppliers"
    assert body["extended_at"] == "2026-12-01T09:30:00Z"
    email, letter = outbox(platform_app, RECEIVED)
    assert email.kind == letter.kind == "deletion_extension"
    new_date = f"{received + timedelta(days=75):%d %B %Y}"
    assert new_date in email.body and "two suppliers" in letter.body
    again = await step(api, RECEIVED, "extend", json={"reason": "Still more time"})
    assert again.status_code == 409 and again.json()["code"] == "already_extended"


async def test_extend_defaults_to_sixty_days_and_refuses_more(api: Api) -> None:
    received = datetime.fromisoformat((await request_of(api, RECEIVED))["received_at"])

    too_long = await step(api, RECEIVED, "extend", json={"reason": "Slow", "days": 61})
    default = await step(api, RECEIVED, "extend", json={"reason": "Slow"})

    assert too_long.status_code == 422
    assert datetime.fromisoformat(default.json()["due_at"]) == received + timedelta(days=90)


async def test_extend_is_refused_once_the_first_month_is_over(api: Api) -> None:
    response = await step(api, OVERDUE_VERIFYING, "extend", json={"reason": "Need more time"})

    assert response.status_code == 409, response.text
    assert response.json()["code"] == "extension_too_late"


async def test_mark_ready_with_other_method_needs_a_note(api: Api) -> None:
    await step(api, RECEIVED, "verify")

    response = await step(api, RECEIVED, "mark-ready", json={"method": "other"})

    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


async def test_an_unknown_request_is_404(api: Api) -> None:
    assert (await api.get("/v1/deletion-requests/999", OPS)).status_code == 404
    assert (await api.get("/v1/deletion-requests/999/preview", OPS)).status_code == 404
    response = await api.post("/v1/deletion-requests/999/verify", OPS, if_match=1)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/deletion-requests"),
        ("GET", f"/v1/deletion-requests/{APPROVED}"),
        ("GET", f"/v1/deletion-requests/{APPROVED}/preview"),
        ("POST", f"/v1/deletion-requests/{RECEIVED}/verify"),
        ("POST", f"/v1/deletion-requests/{APPROVED}/execute"),
        ("POST", f"/v1/deletion-requests/{RECEIVED}/reject"),
    ],
)
async def test_only_operations_and_admin_may_touch_deletion_requests(
    api: Api, traveler: str, method: str, path: str
) -> None:
    for email in (SUPPLIER, RMC, traveler):
        headers = await api.headers(email, **{"If-Match": "*"})
        response = await api.oracle.request(
            method, path, headers=headers, json={"reason": "Not mine to do"}
        )
        assert response.status_code == 403, (email, response.text)
        assert response.json()["code"] == "forbidden"
    assert (await request_of(api, RECEIVED))["status"] == "received"
    assert (await request_of(api, APPROVED))["status"] == "approved"
