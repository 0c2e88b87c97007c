"""Deletion requests: the states, who may move a request on, and what each step records.

received -> verifying -> ready -> approved -> completed, or rejected from any open state.
Identity is attested by whoever marks the request ready; the approver must be someone else
(four eyes), so no single person can both vouch for a requester and erase data on their word.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ikan_platform.conditions import IDEMPOTENCY_TTL
from ikan_platform.errors import Problem
from ikan_platform.models import AuditEvent, Client, DeletionRequest, User
from ikan_platform.schemas import iso
from ikan_platform.services import erasure, notices, retention
from ikan_platform.services.audit import (
    ENTITY_TYPE_OF,
    WriteContext,
    record_change,
    record_create,
)

OPEN_STATES = ("received", "verifying", "ready", "approved")
STATES = (*OPEN_STATES, "completed", "rejected")
RESPONSE_DAYS = 30  # GDPR Art. 12(3): one month
MAX_EXTENSION_DAYS = 60  # "by two further months where necessary"
VERIFICATION_METHODS = (
    "signed_in_account",
    "email_confirmation",
    "id_document",
    "client_hr_confirmation",
    "other",
)
# action -> (states it starts from, what it does in words)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "verify": (("received",), "start identity verification"),
    "mark_ready": (("verifying",), "mark it ready (identity verified)"),
    "approve": (("ready",), "approve the erasure"),
    "execute": (("approved",), "carry out the erasure"),
    "reject": (OPEN_STATES, "reject it"),
    "extend": (OPEN_STATES, "extend its deadline"),
}


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "validation_failed",
        "The request is not valid",
        detail=f"body.{field}: {message}",
        errors=[{"loc": ["body", field], "msg": message}],
    )


def _new_reference(session: Session, received_at: datetime) -> str:
    """DR-<received date>-<6 random hex digits>: readable, and unique without a counter.

    A counter would need a lock shared by every platform process; a clash of the random part
    on one day is checked here, and a concurrent one fails the unique index, after which the
    route (`create_deletion_request`) draws again.
    """
    while True:
        reference = f"DR-{received_at:%Y%m%d}-{secrets.token_hex(3).upper()}"
        if session.scalar(select(DeletionRequest.id).where(DeletionRequest.reference == reference)):
            continue
        return reference


def receive(
    session: Session,
    ctx: WriteContext,
    *,
    subject_name: str,
    subject_email: str,
    client_id: int | None,
    channel: str,
    received_at: datetime | None,
    note: str | None,
) -> DeletionRequest:
    """Record a newly received request (state `received`, due 30 days after receipt), audited.

    `received_at` defaults to the server's now and may not be later than it; the deadline is
    always worked out here, never taken from the caller.
    """
    if received_at is None:
        received_at = ctx.now
    try:
        received_at = received_at.astimezone(ctx.now.tzinfo)
    except OverflowError:
        raise _invalid("received_at", "outside the years 1 to 9999 in UTC") from None
    if received_at > ctx.now:
        raise _invalid("received_at", f"lies in the future (server time is {iso(ctx.now)})")
    if not subject_name.strip():
        raise _invalid("subject_name", "is blank")
    if client_id is not None and session.get(Client, client_id) is None:
        raise _invalid("client_id", f"no client {client_id}")
    dr = DeletionRequest(
        reference=_new_reference(session, received_at),
        subject_name=subject_name.strip(),
        subject_email=subject_email.strip().lower(),
        client_id=client_id,
        channel=channel,
        status="received",
        received_at=received_at,
        due_at=received_at + timedelta(days=RESPONSE_DAYS),
    )
    record_create(session, ctx, dr, "deletion_request.create", reason=note)
    return dr


def original_due(dr: DeletionRequest) -> datetime:
    """The deadline before any extension: received + 30 days."""
    return dr.received_at + timedelta(days=RESPONSE_DAYS)


def allowed_actions(dr: DeletionRequest) -> list[str]:
    """The transitions the request's state allows (not who may take them)."""
    extended = dr.extended_at is not None or dr.extension_reason is not None
    return [
        action
        for action, (sources, _) in TRANSITIONS.items()
        if dr.status in sources and not (action == "extend" and extended)
    ]


def require_state(dr: DeletionRequest, action: str) -> None:
    """409 `invalid_state` unless `action` can start from the request's state."""
    sources, words = TRANSITIONS[action]
    if dr.status not in sources:
        raise Problem(
            409,
            "invalid_state",
            "Not possible in this state",
            detail=f"{dr.reference} is {dr.status}; to {words} it must be {' or '.join(sources)}.",
            state=dr.status,
            allowed_from=list(sources),
        )


def verifier_id(session: Session, dr: DeletionRequest) -> int | None:
    """Who attested the subject's identity.

    Requests verified before the column existed (and the seeded history) know it only from
    their audit trail, so that is the fallback.
    """
    if dr.verified_by_id is not None:
        return dr.verified_by_id
    return session.scalar(
        select(AuditEvent.actor_id)
        .where(
            AuditEvent.entity_type == "deletion_request",
            AuditEvent.entity_id == str(dr.id),
            AuditEvent.action == "deletion_request.mark_ready",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def verify(dr: DeletionRequest) -> None:
    """received -> verifying."""
    require_state(dr, "verify")
    dr.status = "verifying"


def mark_ready(
    dr: DeletionRequest, user: User, now: datetime, method: str, note: str | None
) -> None:
    """verifying -> ready, recording who verified the identity and how."""
    require_state(dr, "mark_ready")
    dr.status = "ready"
    dr.verified_at = now
    dr.verified_by_id = user.id
    dr.verification_method = method
    dr.verification_note = note


def approve(session: Session, dr: DeletionRequest, user: User, now: datetime) -> None:
    """ready -> approved, by someone other than the verifier."""
    require_state(dr, "approve")
    if verifier_id(session, dr) == user.id:
        raise Problem(
            409,
            "four_eyes_required",
            "Someone else must approve",
            detail=f"You verified the identity on {dr.reference}; another Operations or Admin"
            " user must approve its erasure.",
        )
    dr.status = "approved"
    dr.approved_by_id = user.id
    dr.approved_at = now


def reject(session: Session, dr: DeletionRequest, now: datetime, reason: str) -> None:
    """Any open state -> rejected; the subject is told why."""
    require_state(dr, "reject")
    dr.status = "rejected"
    dr.rejection_reason = reason
    notices.rejection_notice(session, dr, now)


def extend(session: Session, dr: DeletionRequest, now: datetime, reason: str, days: int) -> None:
    """Push the deadline out once, by up to 60 days, inside the first month; tell the subject."""
    require_state(dr, "extend")
    if dr.extended_at is not None or dr.extension_reason is not None:
        raise Problem(
            409,
            "already_extended",
            "Already extended",
            detail=f"{dr.reference} was already extended to {dr.due_at:%Y-%m-%d}; the law"
            " allows one extension.",
        )
    first_month = original_due(dr)
    if now > first_month:
        raise Problem(
            409,
            "extension_too_late",
            "Too late to extend",
            detail=f"The subject must be told of an extension within a month of receipt;"
            f" that month ended on {first_month:%Y-%m-%d %H:%M} UTC.",
        )
    dr.due_at = first_month + timedelta(days=days)
    dr.extension_reason = reason
    dr.extended_at = now
    notices.extension_notice(session, dr, now)


def execute(session: Session, ctx: WriteContext, dr: DeletionRequest) -> None:
    """approved -> completed: erase, queue the written confirmation, record the result.

    All in the caller's transaction: the request is completed only with its confirmation queued.
    """
    require_state(dr, "execute")
    plan = erasure.execute(session, ctx, dr)
    result: dict[str, Any] = {
        "executed_at": iso(ctx.now),
        "categories": categories(plan, completed_at=ctx.now),
        "warnings": plan.warnings,
    }
    messages = notices.confirmation(session, dr, ctx.now, result)
    result["confirmation"] = {
        "queued_at": iso(ctx.now),
        "message_ids": [m.id for m in messages],
        "channels": [m.channel for m in messages],
    }

    ids = ", ".join(str(m.id) for m in messages)

    def complete() -> None:
        dr.status = "completed"
        dr.completed_at = ctx.now
        dr.result = result

    event = record_change(
        session,
        ctx,
        dr,
        "deletion_request.execute",
        complete,
        reason=f"Erased; written confirmation queued as outbox messages {ids}",
    )
    erasure.redact_event(event, plan)


def _item(record: erasure.Planned) -> dict[str, Any]:
    decision = record.decision
    return {
        "entity_type": ENTITY_TYPE_OF[type(record.entity)],
        "entity_id": str(record.entity.id),
        "label": record.label,
        "action": decision.action,
        "legal_basis": decision.legal_basis,
        "retain_until": decision.until.isoformat() if decision.until else None,
        "erase_fields": sorted(record.changes),
    }


def _category(
    key: str, count: int, items: list[dict[str, Any]], **overrides: Any
) -> dict[str, Any]:
    rule = retention.CATEGORY_BY_KEY[key]
    actions = [i["action"] for i in items]
    untils = [i["retain_until"] for i in items if i["action"] == "retain" and i["retain_until"]]
    summary = {
        "category": key,
        "label": rule.label,
        "retention_rule": rule.rule,
        "count": count,
        "erase": actions.count("erase"),
        "pseudonymise": actions.count("pseudonymise"),
        "retain": actions.count("retain"),
        "legal_basis": sorted({i["legal_basis"] for i in items if i["action"] == "retain"}),
        "retain_until": max(untils) if untils else None,
        "items": items,
    }
    summary.update(overrides)
    return summary


def categories(plan: erasure.Plan, completed_at: datetime | None) -> list[dict[str, Any]]:
    """The plan per data category: how many records, erased or kept, on what basis, until when."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    for record in plan.records:
        by_category.setdefault(record.category, []).append(_item(record))
    audit_until = max(
        (retention.audit_retention_end(r.row.occurred_at) for r in plan.audit), default=None
    )
    replay_until = max((r.row.created_at for r in plan.replay), default=None)
    record_until = retention.request_record_end(completed_at)
    summaries = [
        _category(key, len(by_category.get(key, [])), by_category.get(key, []))
        for key in ("bookings", "booking_notes", "user_account")
    ]
    summaries += [
        _category(
            "audit_trail",
            len(plan.audit),
            [],
            pseudonymise=len(plan.audit),
            legal_basis=[retention.AUDIT_BASIS] if plan.audit else [],
            retain_until=audit_until.isoformat() if audit_until else None,
        ),
        _category("voice_transcripts", 0, []),
        _category("voice_recordings", 0, []),
        _category(
            "replay_cache",
            len(plan.replay),
            [],
            pseudonymise=len(plan.replay),
            retain_until=(replay_until + IDEMPOTENCY_TTL).date().isoformat()
            if replay_until
            else None,
        ),
        _category(
            "request_record",
            len(plan.requests),
            [],
            retain=len(plan.requests),
            legal_basis=[retention.REQUEST_BASIS],
            retain_until=record_until.isoformat() if record_until else None,
        ),
    ]
    return summaries
