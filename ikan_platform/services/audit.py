"""The one audit path: every write to an audited entity goes through `record_change`.

In the same transaction as the write it records actor (id, email, role), server time, action,
entity type and id, the entity's state before and after, and the request id. A `before_flush`
guard refuses to flush any change to an audited table that was not recorded, so no code path can
write without leaving an audit event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ikan_platform.models import AuditEvent, Booking, BookingNote, DeletionRequest, User


@dataclass(frozen=True)
class Actor:
    """Who performs a write, copied into the audit event so it survives user changes."""

    id: int | None
    email: str
    role: str

    @classmethod
    def of(cls, user: User) -> Actor:
        """The actor for a signed-in user."""
        return cls(user.id, user.email, user.role)


SYSTEM = Actor(None, "system@ikan.internal", "system")


@dataclass(frozen=True)
class WriteContext:
    """Everything an audited write needs besides the entity: actor, request id, server time."""

    actor: Actor
    request_id: str
    now: datetime


# entity type -> (model, fields captured in before/after states)
AUDITED: dict[str, tuple[type, tuple[str, ...]]] = {
    "booking": (
        Booking,
        (
            "id",
            "reference",
            "client_id",
            "traveller_name",
            "traveller_email",
            "home_city",
            "destination_city",
            "accommodation_type",
            "property_name",
            "supplier_id",
            "check_in",
            "check_out",
            "nightly_rate_minor",
            "currency",
            "priority",
            "status",
            "sla_due_at",
            "assignee_id",
            "supplier_reference",
            "status_reason",
            "escalated",
            "version",
        ),
    ),
    "booking_note": (
        BookingNote,
        ("id", "booking_id", "author_id", "body", "created_at", "version"),
    ),
    "user": (
        User,
        ("id", "email", "name", "role", "active", "client_id", "supplier_id", "version"),
    ),
    "deletion_request": (
        DeletionRequest,
        (
            "id",
            "reference",
            "subject_name",
            "subject_email",
            "client_id",
            "channel",
            "status",
            "received_at",
            "due_at",
            "extension_reason",
            "verified_at",
            "approved_by_id",
            "completed_at",
            "rejection_reason",
            "result",
            "version",
        ),
    ),
}
ENTITY_TYPE_OF: dict[type, str] = {model: name for name, (model, _) in AUDITED.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _from_json(model: type, field: str, value: Any) -> Any:
    if value is None:
        return None
    column_type = model.__table__.columns[field].type
    python_type = getattr(column_type, "impl", column_type).python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    return value


def snapshot(entity: Any) -> dict[str, Any] | None:
    """The audited state of an entity as JSON-ready data (None for "does not exist")."""
    if entity is None:
        return None
    _, fields = AUDITED[ENTITY_TYPE_OF[type(entity)]]
    return {f: _jsonable(getattr(entity, f)) for f in fields}


def apply_state(entity: Any, state: dict[str, Any]) -> None:
    """Set an entity's audited fields from a snapshot; the version moves on, never back."""
    model = type(entity)
    for field, value in state.items():
        if field in ("id", "version"):
            continue
        setattr(entity, field, _from_json(model, field, value))


def build_entity(entity_type: str, state: dict[str, Any]) -> Any:
    """Recreate a deleted entity, with the same id, from its last snapshot."""
    model, _ = AUDITED[entity_type]
    entity = model(id=state["id"])
    apply_state(entity, state)
    return entity


def _mark_audited(session: Session, entity: Any) -> None:
    session.info.setdefault("audited_objects", set()).add(id(entity))


def record_change(
    session: Session,
    ctx: WriteContext,
    entity: Any,
    action: str,
    change: Callable[[], None],
    *,
    reason: str | None = None,
    reverts_event_id: int | None = None,
) -> AuditEvent:
    """Apply `change` to `entity` and record it, in the caller's transaction."""
    before = snapshot(entity)
    _mark_audited(session, entity)
    change()
    session.flush()  # bumps the version (optimistic lock) so `after` is the stored state
    return _add_event(
        session, ctx, entity, action, before, snapshot(entity), reason, reverts_event_id
    )


def record_create(
    session: Session,
    ctx: WriteContext,
    entity: Any,
    action: str,
    *,
    reason: str | None = None,
    reverts_event_id: int | None = None,
) -> AuditEvent:
    """Insert `entity` and record its creation."""
    _mark_audited(session, entity)
    session.add(entity)
    session.flush()
    return _add_event(
        session, ctx, entity, action, None, snapshot(entity), reason, reverts_event_id
    )


def record_delete(
    session: Session,
    ctx: WriteContext,
    entity: Any,
    action: str,
    *,
    reason: str | None = None,
    reverts_event_id: int | None = None,
) -> AuditEvent:
    """Delete `entity` and record its last state."""
    before = snapshot(entity)
    _mark_audited(session, entity)
    session.delete(entity)
    session.flush()
    return _add_event(session, ctx, entity, action, before, None, reason, reverts_event_id)


def _add_event(
    session: Session,
    ctx: WriteContext,
    entity: Any,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    reverts_event_id: int | None,
) -> AuditEvent:
    entity_type = ENTITY_TYPE_OF[type(entity)]
    audit_event = AuditEvent(
        occurred_at=ctx.now,
        actor_id=ctx.actor.id,
        actor_email=ctx.actor.email,
        actor_role=ctx.actor.role,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity.id),
        before=before,
        after=after,
        request_id=ctx.request_id,
        reason=reason,
        reverts_event_id=reverts_event_id,
    )
    session.add(audit_event)
    session.flush()
    return audit_event


class UnauditedWrite(RuntimeError):
    """A write to an audited table reached the database without an audit event."""


@sa_event.listens_for(Session, "before_flush")
def _refuse_unaudited_writes(session: Session, _context: object, _instances: object) -> None:
    if session.info.get("bulk_import"):
        return  # the seed and migrations write history directly; never reachable over HTTP
    audited = session.info.get("audited_objects", set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj) in ENTITY_TYPE_OF and id(obj) not in audited:
            if obj in session.dirty and not session.is_modified(obj):
                continue
            raise UnauditedWrite(f"{type(obj).__name__} written without an audit event")


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget_audited(session: Session) -> None:
    session.info.pop("audited_objects", None)
