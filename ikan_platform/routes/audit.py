"""The audit trail: filtered keyset lists, one event with its diff, and undo."""

from __future__ import annotations

import difflib
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ikan_platform.conditions import idempotent, idempotent_create, write_context
from ikan_platform.errors import Problem
from ikan_platform.models import AuditEvent, User
from ikan_platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from ikan_platform.policy import SEES_IDENTITY_SUBJECTS
from ikan_platform.routing import JsonBodyRoute
from ikan_platform.schemas import (
    MAX_EVENT_ID,
    MAX_ID,
    NOT_A_NUMBER,
    AuditEventOut,
    AuditPage,
    ReasonIn,
    UndoOut,
    iso,
)
from ikan_platform.security import current_user, get_session
from ikan_platform.services import undo as undo_service
from ikan_platform.services.audit import IDENTITIES

router = APIRouter(prefix="/v1", tags=["audit"], route_class=JsonBodyRoute)
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
EventId = Annotated[int, Path(ge=1, le=MAX_EVENT_ID)]
REDACTED = "[redacted]"


def _label(event: AuditEvent) -> str:
    state = event.after or event.before or {}
    for key in ("reference", "email"):
        if state.get(key):
            return str(state[key])
    return f"{event.entity_type} {event.entity_id}"


def _changed(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    keys = set(before or {}) | set(after or {})
    return sorted(
        k for k in keys if (before or {}).get(k) != (after or {}).get(k) and k != "version"
    )


def _redact_subjects(state: dict[str, Any] | None) -> dict[str, Any] | None:
    """A user's state with the identity-provider subjects (sign-in identifiers) hidden."""
    if not state or not isinstance(state.get(IDENTITIES), list):
        return state
    hidden = [{**i, "subject": REDACTED} for i in state[IDENTITIES] if isinstance(i, dict)]
    return {**state, IDENTITIES: hidden}


def serialize_event(
    session: Session,
    event: AuditEvent,
    now: datetime,
    window: timedelta,
    viewer: User,
    since: dict[int, undo_service.Since] | None = None,
) -> dict[str, Any]:
    """The API representation of an audit event, as `viewer` may see it.

    `undoable` says whether the window is open, it was not undone yet, and no later write of the
    entity still in effect stands in the way (`undo_service.since_many`, the history rule the
    undo route applies), whoever asks: the route refuses a role that may not undo it with 403
    `undo_forbidden`. The route also compares the entity's current state with the event's
    `after`, which would cost a read of every entity on the page; the trail already records every
    write (the audit guards refuse any other), so the history answers the same, except for the
    first day after a migration adds a column a sent booking's older states lack (migration
    0004): those events show undoable and are refused with 409 `entity_changed`.
    Identity-provider subjects inside user states are shown only to the roles in
    `policy.SEES_IDENTITY_SUBJECTS`. `since` (event id -> `Since`), when given for a whole page,
    saves a query per event.
    """
    rule = undo_service.rule_for(event.action)
    if since is None:
        since = undo_service.since_many(session, [event])
    history = since[event.id]
    expires = undo_service.undo_expires_at(event, window)
    before, after = event.before, event.after
    if event.entity_type == "user" and viewer.role not in SEES_IDENTITY_SUBJECTS:
        before, after = _redact_subjects(before), _redact_subjects(after)
    return {
        "id": event.id,
        "occurred_at": iso(event.occurred_at),
        "actor": {"id": event.actor_id, "email": event.actor_email, "role": event.actor_role},
        "action": event.action,
        "action_description": rule.description,
        "entity_type": event.entity_type,
        "entity_id": event.entity_id,
        "entity_label": _label(event),
        "before": before,
        "after": after,
        "changed_fields": _changed(event.before, event.after),
        "request_id": event.request_id,
        "reason": event.reason,
        "reverts_event_id": event.reverts_event_id,
        "undoable": bool(
            expires
            and now <= expires
            and history.undone_by_event_id is None
            and not history.overtaken
        ),
        "undo_expires_at": iso(expires) if expires else None,
        "undone_by_event_id": history.undone_by_event_id,
    }


@router.get("/audit-events", operation_id="list_audit_events", response_model=AuditPage)
def list_audit_events(
    request: Request,
    user: UserDep,
    session: SessionDep,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=60)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    request_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, NOT_A_NUMBER] = None,
    until: Annotated[datetime | None, NOT_A_NUMBER] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Audit events, newest first; every filter is applied by the database."""
    state = request.app.state
    conditions = []
    if entity_type:
        conditions.append(AuditEvent.entity_type == entity_type)
    if entity_id:
        conditions.append(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        conditions.append(AuditEvent.actor_id == actor_id)
    if action:
        conditions.append(AuditEvent.action == _known_action(action))
    if request_id:
        conditions.append(AuditEvent.request_id == request_id)
    since, until = _utc(since), _utc(until)
    if since is not None:
        conditions.append(AuditEvent.occurred_at >= since)
    if until is not None:
        conditions.append(AuditEvent.occurred_at < until)
    scope = "audit:" + "|".join(
        str(v) for v in (entity_type, entity_id, actor_id, action, request_id, since, until)
    )
    if cursor:
        (last_id,) = decode_cursor(state.secret, scope, cursor)
        conditions.append(AuditEvent.id < int(last_id))
    # Pick the page's ids with a narrow query first, then load those rows: asked for whole rows
    # directly, PostgreSQL walked the primary key through half a million events to fill a page
    # from one day long ago (docs/benchmarks.md); the ids alone come from a covering index.
    page_ids = (
        select(AuditEvent.id).where(*conditions).order_by(AuditEvent.id.desc()).limit(limit + 1)
    )
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.id.in_(page_ids)).order_by(AuditEvent.id.desc())
    ).all()
    items = rows[:limit]
    now = state.settings.clock()
    window = timedelta(seconds=state.settings.undo_window_seconds)
    next_cursor = encode_cursor(state.secret, scope, [items[-1].id]) if len(rows) > limit else None
    since = undo_service.since_many(session, items)
    return {
        "items": [serialize_event(session, e, now, window, user, since) for e in items],
        "next_cursor": next_cursor,
    }


def _known_action(action: str) -> str:
    """The action filter, refused when no write is ever recorded under that name (a typo)."""
    if action in undo_service.ACTIONS:
        return action
    near = difflib.get_close_matches(action, undo_service.ACTIONS, n=1, cutoff=0.75)
    raise Problem(
        400,
        "unknown_action",
        "Unknown action",
        detail=f"No audited action is called {action!r}."
        + (f" Did you mean {near[0]}?" if near else " docs/audit.md lists them."),
    )


def _utc(bound: datetime | None) -> datetime | None:
    """A time filter in UTC; refused without a zone, or outside what a timestamp can hold."""
    if bound is None:
        return None
    if bound.tzinfo is None:
        raise Problem(
            400,
            "naive_datetime",
            "Time without a zone",
            detail="Give `since` and `until` with a UTC offset, e.g. 2026-12-01T00:00:00Z.",
        )
    try:
        return bound.astimezone(UTC)
    except OverflowError:
        raise Problem(
            400, "time_out_of_range", "Time out of range", detail="Use a year from 1 to 9999."
        ) from None


def _event(session: Session, event_id: int) -> AuditEvent:
    event = session.get(AuditEvent, event_id)
    if event is None:
        raise Problem(
            404,
            "not_found",
            "No such audit event",
            detail=f"Audit event {event_id} does not exist.",
        )
    return event


@router.get(
    "/audit-events/{event_id}",
    operation_id="get_audit_event",
    response_model=AuditEventOut,
    responses={404: {"description": "No such event"}},
)
def get_audit_event(
    event_id: EventId, request: Request, user: UserDep, session: SessionDep
) -> dict:
    """One event with before, after, and whether it can still be undone."""
    settings = request.app.state.settings
    return serialize_event(
        session,
        _event(session, event_id),
        settings.clock(),
        timedelta(seconds=settings.undo_window_seconds),
        user,
    )


@router.post(
    "/audit-events/{event_id}/undo",
    operation_id="undo_audit_event",
    response_model=UndoOut,
    responses={
        404: {"description": "No such event"},
        403: {"description": "Your role may not undo (this kind of) write"},
        409: {"description": "Changed since (body carries `current`), or already undone"},
        410: {"description": "The 24-hour undo window has passed"},
        422: {"description": "This action is never undoable"},
    },
    dependencies=[Depends(idempotent_create)],
)
def undo_audit_event(
    event_id: EventId, body: ReasonIn, request: Request, user: UserDep, session: SessionDep
):  # type: ignore[no-untyped-def]
    """Restore the entity to its state before the event; the undo is itself audited."""
    settings = request.app.state.settings
    window = timedelta(seconds=settings.undo_window_seconds)

    def run() -> tuple[dict, dict[str, str]]:
        event = _event(session, event_id)
        ctx = write_context(request, user)
        undo_event = undo_service.undo(session, ctx, event, window, body.reason)
        return {
            "undo_event": serialize_event(session, undo_event, ctx.now, window, user),
            "reverted_event": serialize_event(session, event, ctx.now, window, user),
        }, {}

    return idempotent(request, session, user, body, run)
