"""Undo: restore an entity to the state before an audited write, within the undo window.

Which actions can be undone, and by which roles, is a table (`ACTIONS`, rendered in
docs/audit.md and summarised in docs/rbac.md). An undo is itself an audit event (action `undo`,
`reverts_event_id` pointing at the reverted event), so it can be undone in turn inside its own
window; who may undo it is decided by the write at the start of that chain, so undoing an undo of
a role change needs an Admin just like undoing the role change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ikan_platform.errors import Problem
from ikan_platform.models import AuditEvent
from ikan_platform.policy import ADMIN, OPS
from ikan_platform.schemas import iso
from ikan_platform.services.audit import (
    AUDITED,
    WriteContext,
    apply_state,
    build_entity,
    record_change,
    record_create,
    record_delete,
    same_state,
    snapshot,
)


@dataclass(frozen=True)
class ActionRule:
    """How the audit trail treats one action."""

    undoable: bool
    destructive: bool
    description: str
    # Who may undo it: whoever may make such a write (user management is Admin-only, so its
    # undo is too: an undo is a write of the same entity).
    undo_roles: frozenset[str] = OPS


ACTIONS: dict[str, ActionRule] = {
    "booking.create": ActionRule(True, False, "A booking was created"),
    "booking.send_to_supplier": ActionRule(True, False, "Sent to the supplier for confirmation"),
    "booking.claim": ActionRule(True, False, "An operator took the booking"),
    "booking.release": ActionRule(True, True, "The assignee gave the booking back"),
    "booking.assign": ActionRule(True, True, "Assigned to a teammate"),
    "booking.confirm": ActionRule(True, False, "Confirmed with the supplier"),
    "booking.decline": ActionRule(True, True, "The supplier declined"),
    "booking.escalate": ActionRule(True, False, "Escalated"),
    "booking.hold": ActionRule(True, True, "Put on hold"),
    "booking.resume": ActionRule(True, False, "Taken off hold"),
    "booking.cancel": ActionRule(True, True, "Cancelled"),
    "booking_note.create": ActionRule(True, False, "A note was added"),
    "user.create": ActionRule(True, False, "A user was provisioned", ADMIN),
    "user.change_role": ActionRule(True, True, "A user's role was changed", ADMIN),
    "user.deactivate": ActionRule(True, True, "A user was deactivated", ADMIN),
    "user.reactivate": ActionRule(True, False, "A user was reactivated", ADMIN),
    "deletion_request.create": ActionRule(False, False, "A deletion request was received"),
    "deletion_request.verify": ActionRule(False, False, "Identity verification started"),
    "deletion_request.mark_ready": ActionRule(False, False, "Identity verified; ready"),
    "deletion_request.approve": ActionRule(False, False, "Erasure approved"),
    "deletion_request.execute": ActionRule(False, True, "Personal data erased (never undoable)"),
    "deletion_request.reject": ActionRule(False, False, "Request rejected"),
    "deletion_request.extend": ActionRule(False, False, "Deadline extended"),
    "deletion_request.confirm": ActionRule(False, False, "Written confirmation sent"),
    "erasure.pseudonymise": ActionRule(False, True, "Personal data pseudonymised (never undoable)"),
    "undo": ActionRule(True, True, "An earlier write was undone"),
}


def rule_for(action: str) -> ActionRule:
    """The rule for an action; unknown actions are never undoable."""
    return ACTIONS.get(action, ActionRule(False, False, action, frozenset()))


def origin(session: Session, event: AuditEvent) -> AuditEvent | None:
    """The write at the start of `event`'s undo chain (`event` itself unless it is an undo)."""
    while event.action == "undo":
        if event.reverts_event_id is None:
            return None
        reverted = session.get(AuditEvent, event.reverts_event_id)
        if reverted is None:
            return None
        event = reverted
    return event


def undo_roles(session: Session, event: AuditEvent) -> frozenset[str]:
    """The roles that may undo `event`: those of the write at the start of its undo chain.

    An `undo` restores whatever the write it reverted had changed, so undoing it is governed by
    that write (an Operations user may not undo an Admin's undo of a role change either). A chain
    whose start cannot be found (never, since events are kept) is left to Admins.
    """
    first = origin(session, event)
    return rule_for(first.action).undo_roles if first is not None else ADMIN


def _require_role(session: Session, ctx: WriteContext, event: AuditEvent) -> None:
    """403 `undo_forbidden` when the caller's role may not undo this kind of write."""
    allowed = undo_roles(session, event)
    if ctx.actor.role in allowed:
        return
    first = origin(session, event)
    what = first.action if first is not None else event.action
    who = " or ".join(sorted(r.capitalize() for r in allowed))
    raise Problem(
        403,
        "undo_forbidden",
        "Not yours to undo",
        detail=f"Only {who} may undo '{what}' changes ({event.entity_type} {event.entity_id});"
        " ask someone with that role.",
        allowed_roles=sorted(allowed),
    )


def undo_expires_at(event: AuditEvent, window: timedelta) -> datetime | None:
    """When the event stops being undoable, or None if it never was."""
    return event.occurred_at + window if rule_for(event.action).undoable else None


def undone_by(session: Session, event_id: int) -> AuditEvent | None:
    """The undo event that reverted this one, if any."""
    return session.scalars(
        select(AuditEvent).where(AuditEvent.reverts_event_id == event_id).limit(1)
    ).first()


@dataclass(frozen=True)
class Since:
    """What the trail says happened to an event's entity after it."""

    undone_by_event_id: int | None
    # A later write of the entity is still in effect (it was not undone, or its undo was undone
    # in turn): undoing the event would silently revert that write too.
    overtaken: bool


def _since(event_id: int, later: list[tuple[int, int | None]]) -> Since:
    """Walk the entity's later events (id, reverted event id) in order, with a stack.

    An undo whose target is on top of the stack takes it off (that write is no longer in
    effect); any other event goes on. The event still stands, unchanged, only if the stack ends
    empty. States alone cannot tell: after "hold, resume, hold again" the booking holds what the
    first hold left, but undoing that hold would revert the second one, a teammate's newer
    write. "Claim, release, undo the release" leaves the stack empty: the claim can be undone.
    """
    undone = None
    stack: list[int] = []
    for later_id, reverts in later:
        if later_id <= event_id:
            continue
        if undone is None and reverts == event_id:
            undone = later_id
        if stack and reverts is not None and reverts == stack[-1]:
            stack.pop()
        else:
            stack.append(later_id)
    return Since(undone, bool(stack))


def since_many(session: Session, events: Sequence[AuditEvent]) -> dict[int, Since]:
    """`Since` for each of these events, by event id, from one query.

    The undo that reverted an event is a later event of the same entity, so one read of each
    entity's later events answers both "undone by whom" and "overtaken". Entities have short
    histories (a booking's life is a handful of writes), so the read stays small.
    """
    first: dict[tuple[str, str], int] = {}
    for event in events:
        key = (event.entity_type, event.entity_id)
        first[key] = min(first.get(key, event.id), event.id)
    if not first:
        return {}
    # Two IN lists and one bound, sorted out below, rather than an OR of one (type, id, after)
    # term per entity: the same rows from the same index, but the OR took 2-3 ms to plan on
    # SQLite for a page of 50 (measured on the benchmark data), the IN lists 0.3-0.6 ms.
    rows = session.execute(
        select(
            AuditEvent.id,
            AuditEvent.entity_type,
            AuditEvent.entity_id,
            AuditEvent.reverts_event_id,
        )
        .where(
            AuditEvent.entity_type.in_({t for t, _ in first}),
            AuditEvent.entity_id.in_({i for _, i in first}),
            AuditEvent.id > min(first.values()),
        )
        .order_by(AuditEvent.id)
    ).all()
    later: dict[tuple[str, str], list[tuple[int, int | None]]] = {}
    for row in rows:
        key = (row.entity_type, row.entity_id)
        if key in first and row.id > first[key]:
            later.setdefault(key, []).append((row.id, row.reverts_event_id))
    return {e.id: _since(e.id, later.get((e.entity_type, e.entity_id), [])) for e in events}


def undo(
    session: Session, ctx: WriteContext, event: AuditEvent, window: timedelta, reason: str
) -> AuditEvent:
    """Revert `event`; raises a Problem (409, 410, 422) when it cannot be done safely."""
    if not rule_for(event.action).undoable:
        raise Problem(
            422,
            "not_undoable",
            "This change cannot be undone",
            detail=f"'{event.action}' writes are never undoable.",
        )
    _require_role(session, ctx, event)
    # Lock the entity first, so two undos of one event serialise and the second sees the first.
    model, _ = AUDITED[event.entity_type]
    entity = session.get(model, int(event.entity_id), with_for_update=True)
    previous = undone_by(session, event.id)
    if previous is not None:
        raise Problem(
            409,
            "already_undone",
            "Already undone",
            detail=f"Undone by {previous.actor_email}"
            f" at {previous.occurred_at:%Y-%m-%d %H:%M} UTC.",
            undone_by_event_id=previous.id,
        )
    expires = event.occurred_at + window
    if ctx.now > expires:
        raise Problem(
            410,
            "undo_window_passed",
            "The undo window has passed",
            detail=f"Changes can be undone for {window.total_seconds() / 3600:g} hours;"
            f" this one closed at {expires:%Y-%m-%d %H:%M} UTC.",
            undo_expired_at=iso(expires),
        )
    current = snapshot(entity)
    if (
        since_many(session, [event])[event.id].overtaken
        or not same_state(event.entity_type, current, event.after)
        or _behind_a_barrier(session, event)
    ):
        raise _changed_since(current)
    try:
        return _restore(session, ctx, event, entity, reason)
    except StaleDataError:
        # A write committed between our read and our flush (SQLite has no row lock to stop
        # it; PostgreSQL's FOR UPDATE above does): the same refusal as a change seen earlier.
        session.rollback()
        raise _changed_since(snapshot(session.get(model, int(event.entity_id)))) from None
    except IntegrityError:
        session.rollback()
        raise Problem(
            409,
            "entity_in_use",
            "Other records depend on it",
            detail="Undoing this would remove or duplicate a record that other records now"
            " use (for example a user who has since signed in or holds bookings).",
        ) from None


def _changed_since(current: dict[str, Any] | None) -> Problem:
    return Problem(
        409,
        "entity_changed",
        "Changed since",
        detail="The record was changed after this event; undoing would overwrite"
        " the newer change. Review its current state.",
        current=current,
    )


def _behind_a_barrier(session: Session, event: AuditEvent) -> bool:
    """Whether a never-undoable write (an erasure) touched the entity after this event.

    Erasure rewrites earlier events too, so comparing states alone cannot see it; nothing
    before such a write may be undone.
    """
    never = [action for action, rule in ACTIONS.items() if not rule.undoable]
    later = select(AuditEvent.id).where(
        AuditEvent.entity_type == event.entity_type,
        AuditEvent.entity_id == event.entity_id,
        AuditEvent.id > event.id,
        AuditEvent.action.in_(never),
    )
    return session.scalars(later.limit(1)).first() is not None


def _restore(
    session: Session, ctx: WriteContext, event: AuditEvent, entity: Any, reason: str
) -> AuditEvent:
    before = event.before
    if before is None:  # undo a create: remove the row
        return record_delete(session, ctx, entity, "undo", reason=reason, reverts_event_id=event.id)
    if entity is None:  # undo a delete: the row comes back with the same id
        restored = build_entity(event.entity_type, before)
        if hasattr(restored, "updated_at"):
            # A booking's state leaves its bookkeeping times out (services/audit.AUDITED): it was
            # created when its history starts, and updated now.
            restored.created_at = _history_start(session, event)
            restored.updated_at = ctx.now
        return record_create(
            session, ctx, restored, "undo", reason=reason, reverts_event_id=event.id, owned=before
        )

    def revert() -> None:
        apply_state(entity, before)
        if hasattr(entity, "updated_at"):
            entity.updated_at = ctx.now

    return record_change(
        session, ctx, entity, "undo", revert, reason=reason, reverts_event_id=event.id
    )


def _history_start(session: Session, event: AuditEvent) -> datetime:
    """When the entity's first audit event (its creation) happened."""
    first = session.scalar(
        select(AuditEvent.occurred_at)
        .where(
            AuditEvent.entity_type == event.entity_type,
            AuditEvent.entity_id == event.entity_id,
        )
        .order_by(AuditEvent.id)
        .limit(1)
    )
    return first or event.occurred_at


def render_markdown() -> str:
    """docs/audit.md: what the trail records, the undo rules, and the ACTIONS table."""
    lines = [
        "# Audit trail and undo",
        "",
        "Generated from `ikan_platform/services/undo.py` by"
        " `python -m ikan_platform.services.undo > docs/audit.md`; a test fails when it is stale.",
        "",
        "Every write goes through one path (`services/audit.py`) that records, in the same"
        " transaction: the actor (id, email, role), the server time (UTC), the action, the"
        " entity type and id, the entity's full state before and after, the reason when one"
        " was given, and the request id (all writes of one request share it; send"
        " `X-Request-Id` to choose it). Guards refuse to flush any change to an audited table"
        " that did not go through that path, and any bulk INSERT, UPDATE or DELETE statement"
        " (ORM, Core or SQL text) sent to an audited table through a session. One write of one"
        " entity is one event.",
        "",
        "`GET /v1/audit-events` filters by `entity_type`, `entity_id`, `actor_id`, `action`,"
        " `request_id`, and a time range `since` (inclusive) / `until` (exclusive), newest first.",
        "",
        "## Undo",
        "",
        "`POST /v1/audit-events/{id}/undo {reason}` restores the entity to the event's `before`"
        " state, as a new event (`action` `undo`, `reverts_event_id` pointing back). Only"
        " Operations and Admin may call undo at all (docs/rbac.md), and each action names the"
        " roles that may undo it (column *undo by* below): user management is Admin's, so"
        " only an Admin undoes it. An `undo` is undone by the roles of the write at the start"
        " of its chain. Undo is refused with:",
        "",
        "| status | code | when |",
        "| --- | --- | --- |",
        "| 403 | `forbidden` | the caller's role is not Operations or Admin |",
        "| 403 | `undo_forbidden` | the caller's role may not undo this action (`allowed_roles`) |",
        "| 409 | `entity_changed` | the entity changed since the event (body: `current`) |",
        "| 409 | `already_undone` | the event was already undone (`undone_by_event_id`) |",
        "| 409 | `entity_in_use` | removing a created record would break records that use it |",
        "| 410 | `undo_window_passed` | more than 24 hours passed, by the server's clock |",
        "| 422 | `not_undoable` | the action is never undoable (below) |",
        "",
        "*Changed since* is read from the entity's history, not from its state alone. Walk the"
        " entity's events after the one to undo, in order, with a stack: an undo of the write on"
        " top takes it off, any other write goes on. The event can be undone only if the stack"
        " ends empty and the entity still holds the event's `after` state. So after \"hold,"
        ' resume, hold again" (maybe by a teammate, with the same reason) the first hold is not'
        " undoable: the booking looks as that hold left it, but undoing it would revert the"
        ' newer hold. After "claim, release, undo the release" the claim is undoable again;'
        " undo that undo and the release is back in effect, and the claim is refused again. A"
        " write that is never undoable (an erasure) after the event bars its undo for good."
        " `undoable` in event lists and details applies the same history rule (one query per"
        " page).",
        "",
        "Undoing a creation removes the record; undoing that undo (or a deletion) brings the"
        " record back with the same id. No id is ever handed to a new record again (SQLite"
        " tables are AUTOINCREMENT; PostgreSQL sequences never go back), so a restored record"
        " never collides with a newer one and every history belongs to one record. An undo is"
        " itself undoable inside its own 24 hours.",
        "",
        "## Actions",
        "",
        "Destructive: the write loses or overrides information someone relied on. Undoable:"
        " the write can be reverted from the trail within 24 hours.",
        "",
        "| action | destructive | undoable | undo by | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for action, rule in ACTIONS.items():
        lines.append(
            f"| `{action}` | {'yes' if rule.destructive else 'no'} |"
            f" {'yes' if rule.undoable else 'no'} | {_undo_by(action, rule)} |"
            f" {rule.description} |"
        )
    return "\n".join(lines) + "\n"


def _undo_by(action: str, rule: ActionRule) -> str:
    if not rule.undoable:
        return "-"
    if action == "undo":
        return "as the undone write"
    return ", ".join(r for r in ("operations", "admin") if r in rule.undo_roles)


if __name__ == "__main__":
    print(render_markdown(), end="")
