"""The one audit path: every write to an audited entity goes through `record_change`.

In the same transaction as the write it records actor (id, email, role), server time, action,
entity type and id, the entity's state before and after, and the request id. Two guards keep
every write on that path: `before_flush` refuses to flush any change to an audited object that
was not recorded, and `do_orm_execute` refuses INSERT, UPDATE and DELETE statements (ORM-enabled
bulk `update(Booking)`, Core `update(bookings)`, or `text("UPDATE bookings ...")`) aimed at an
audited table through a Session, since those never pass through an object. SQL sent on a raw
connection (migrations, test fixtures) is outside any Session and is not checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import ORMExecuteState, Session, object_session
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import TextClause

from ikan_platform.errors import Problem
from ikan_platform.models import AuditEvent, Booking, BookingNote, DeletionRequest, Identity, User
from ikan_platform.schemas import iso


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


def _columns(model: type, leave_out: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every column of a model: a column added later is audited without anyone remembering to."""
    return tuple(c.key for c in model.__table__.columns if c.key not in leave_out)


# entity type -> (model, fields captured in before/after states). A booking's created/updated
# times are bookkeeping that every write touches; they would only add noise to each diff.
AUDITED: dict[str, tuple[type, tuple[str, ...]]] = {
    "booking": (Booking, _columns(Booking, frozenset({"created_at", "updated_at"}))),
    "booking_note": (BookingNote, _columns(BookingNote)),
    "user": (User, _columns(User)),
    "deletion_request": (DeletionRequest, _columns(DeletionRequest)),
}
ENTITY_TYPE_OF: dict[type, str] = {model: name for name, (model, _) in AUDITED.items()}
# Rows that belong to an audited entity and appear inside its state: a user's identity-provider
# subjects are part of who the user is, so provisioning, undo and restore carry them along.
OWNED_ROWS: frozenset[type] = frozenset({Identity})
IDENTITIES = "identities"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
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


def _identities(user: User) -> list[dict[str, str]]:
    session = object_session(user)
    if session is None or user.id is None:
        return []
    rows = session.scalars(
        select(Identity).where(Identity.user_id == user.id).order_by(Identity.id)
    ).all()
    return [{"provider": r.provider, "issuer": r.issuer, "subject": r.subject} for r in rows]


def snapshot(entity: Any) -> dict[str, Any] | None:
    """The audited state of an entity as JSON-ready data (None for "does not exist")."""
    if entity is None:
        return None
    _, fields = AUDITED[ENTITY_TYPE_OF[type(entity)]]
    state = {f: _jsonable(getattr(entity, f)) for f in fields}
    if isinstance(entity, User):
        state[IDENTITIES] = _identities(entity)
    return state


# Bookkeeping that every write moves on; it says a write happened, not what the record holds.
BOOKKEEPING = frozenset({"version", "updated_at"})


def same_state(entity_type: str, a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Whether two snapshots hold the same data, whatever ISO spelling a timestamp has.

    Version and update time are left out: after "release, then undo the release" the booking
    holds exactly what an earlier event left, and that event must be undoable again. A field one
    state lacks reads as None there: a state recorded before a nullable column was added says
    nothing of it, and a row the migration left empty holds None (so an unsent booking's events
    from before `sent_to_supplier_at` stay undoable; a sent one's are refused as changed).
    """
    if a is None or b is None:
        return a is b
    model, _ = AUDITED[entity_type]
    columns = model.__table__.columns
    keys = (set(a) | set(b)) - BOOKKEEPING

    def typed(state: dict[str, Any]) -> dict[str, Any]:
        return {
            k: _from_json(model, k, state.get(k)) if k in columns else state.get(k) for k in keys
        }

    return typed(a) == typed(b)


def apply_state(entity: Any, state: dict[str, Any]) -> None:
    """Set an entity's audited fields from a snapshot; the version moves on, never back.

    Owned rows (a user's identities) are set too when the entity is already in the database;
    for a new entity, `record_create(..., owned=state)` adds them after its insert.
    """
    model = type(entity)
    for field, value in state.items():
        if field in ("id", "version", IDENTITIES):
            continue
        setattr(entity, field, _from_json(model, field, value))
    session = object_session(entity)
    if session is not None and isinstance(entity, User) and IDENTITIES in state:
        _set_identities(session, entity, state[IDENTITIES])


def _set_identities(session: Session, user: User, wanted: list[dict[str, str]]) -> None:
    """Make the user's identity rows exactly `wanted`, keeping rows that already match."""
    key = ("provider", "issuer", "subject")
    want = {tuple(i[k] for k in key) for i in wanted}
    existing = session.scalars(select(Identity).where(Identity.user_id == user.id)).all()
    for row in existing:
        if (row.provider, row.issuer, row.subject) in want:
            want.discard((row.provider, row.issuer, row.subject))
        else:
            _mark_audited(session, row)
            session.delete(row)
    session.flush()  # a subject moving between rows must leave before it arrives
    for item in wanted:
        values = tuple(item[k] for k in key)
        if values in want:
            row = Identity(user_id=user.id, **dict(zip(key, values, strict=True)))
            _mark_audited(session, row)
            session.add(row)


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
    """Apply `change` to `entity` and record it, in the caller's transaction.

    A change that leaves the audited state as it was is refused (409 `no_change`): an event
    whose before and after agree records nothing but noise, and would stand in the way of undoing
    the write before it. The routes refuse the cases people meet with their own words first (the
    role a user already has, the assignee a booking already has); this is the net under them.
    """
    before = snapshot(entity)
    _mark_audited(session, entity)
    change()
    session.flush()  # bumps the version (optimistic lock) so `after` is the stored state
    after = snapshot(entity)
    if same_state(ENTITY_TYPE_OF[type(entity)], before, after):
        raise Problem(
            409,
            "no_change",
            "Nothing to change",
            detail="This would leave the record exactly as it is, so nothing was done.",
        )
    return _add_event(session, ctx, entity, action, before, after, reason, reverts_event_id)


def record_create(
    session: Session,
    ctx: WriteContext,
    entity: Any,
    action: str,
    *,
    reason: str | None = None,
    reverts_event_id: int | None = None,
    owned: dict[str, Any] | None = None,
) -> AuditEvent:
    """Insert `entity` (and its owned rows from `owned`, e.g. a user's identities) and record it."""
    _mark_audited(session, entity)
    session.add(entity)
    session.flush()
    if owned is not None and isinstance(entity, User) and IDENTITIES in owned:
        _set_identities(session, entity, owned[IDENTITIES])
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
    """Delete `entity` (with its owned rows) and record its last state."""
    before = snapshot(entity)
    _mark_audited(session, entity)
    if isinstance(entity, User):
        _set_identities(session, entity, [])
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
        if (type(obj) in ENTITY_TYPE_OF or type(obj) in OWNED_ROWS) and id(obj) not in audited:
            if obj in session.dirty and not session.is_modified(obj):
                continue
            raise UnauditedWrite(f"{type(obj).__name__} written without an audit event")


AUDITED_TABLES = frozenset(m.__table__.name for m in (*ENTITY_TYPE_OF, *OWNED_ROWS))
# The first table an SQL string writes to: INSERT INTO t, UPDATE [ONLY] t, DELETE FROM [ONLY] t.
_TEXT_WRITE = re.compile(
    r"^\s*(?:WITH\b.*?\)\s*)?(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?"
    r'(?:"?\w+"?\.)?"?(\w+)"?',
    re.IGNORECASE | re.DOTALL,
)


def _written_table(statement: Any) -> str | None:
    """The table an INSERT/UPDATE/DELETE statement (ORM, Core or text) writes to, if any."""
    if isinstance(statement, TextClause):
        match = _TEXT_WRITE.match(statement.text)
        return match.group(1).lower() if match else None
    if isinstance(statement, UpdateBase):
        return getattr(statement.table, "name", None)
    return None


@sa_event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_writes(state: ORMExecuteState) -> None:
    """A bulk statement changes rows without loading them, so it could never be recorded."""
    if state.session.info.get("bulk_import"):
        return
    table = _written_table(state.statement)
    if table in AUDITED_TABLES:
        raise UnauditedWrite(
            f"bulk write to the audited table {table!r}: change each row through"
            " services/audit.py (record_change, record_create, record_delete)"
        )


@sa_event.listens_for(Session, "after_commit")
@sa_event.listens_for(Session, "after_rollback")
def _forget_audited(session: Session) -> None:
    session.info.pop("audited_objects", None)
