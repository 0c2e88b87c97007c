"""Erasure: find what a deletion request's subject left on the platform, and pseudonymise it.

`plan()` is a dry run. It finds the subject's records (matched by email), decides each with the
retention rules, and works out how every audit event, note and cached response will read
afterwards. The preview shows the plan; `execute()` carries out the same plan in the request's
transaction, so what Ops approved is what happens.

Live records change through the one audit path (`record_change`, action `erasure.pseudonymise`,
never undoable). The audit event of such a change must not keep the data it erased, so its
`before` holds the marker "[erased]" for each personal field that changed, not the old value nor a
hash of it (an unkeyed hash of an email is reversed by guessing; nothing needs a keyed one). Past
audit events keep their place in the trail: only the subject's personal data inside them is
replaced by the request's pseudonym. docs/deletion-requests.md explains the whole design.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from ikan_platform.models import (
    AuditEvent,
    Booking,
    BookingNote,
    DeletionRequest,
    IdempotencyRecord,
    RefreshToken,
    User,
)
from ikan_platform.services import retention
from ikan_platform.services.audit import IDENTITIES, WriteContext, apply_state, record_change
from ikan_platform.services.pseudonyms import (
    ERASED,
    Subject,
    like_any,
    redact_identities,
    rewrite_state,
)
from ikan_platform.services.retention import Decision

ACTION = "erasure.pseudonymise"


@dataclass
class Planned:
    """One live record of the subject: kept or changed, and why."""

    category: str
    entity: Any
    label: str
    decision: Decision
    changes: dict[str, Any]


@dataclass
class Rewrite:
    """A stored row (audit event or cached response) and the values it will hold."""

    row: Any
    values: dict[str, Any]


@dataclass
class Plan:
    """Everything an erasure will do, worked out before it does any of it."""

    request: DeletionRequest
    subject: Subject
    today: date
    records: list[Planned] = field(default_factory=list)
    requests: list[DeletionRequest] = field(default_factory=list)
    audit: list[Rewrite] = field(default_factory=list)
    replay: list[Rewrite] = field(default_factory=list)
    # (entity type, id) -> field -> replacement, for the states of the subject's own records
    redactions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def erased_account(self) -> User | None:
        """The subject's user account, when it is erased."""
        for rec in self.records:
            if rec.category == "user_account" and rec.decision.action == "erase":
                return rec.entity
        return None


def _subject(
    session: Session, dr: DeletionRequest, bookings: list[Booking], account: User | None
) -> tuple[Subject, list[str]]:
    email = dr.subject_email.strip().lower()
    names = {dr.subject_name.strip(), *(b.traveller_name.strip() for b in bookings)}
    if account is not None:
        names.add(account.name.strip())
    names.discard("")
    unique, shared = [], 0
    for name in sorted(names):
        others = sum(
            session.scalar(
                select(func.count())
                .select_from(model)
                .where(func.lower(name_col) == name.lower(), func.lower(email_col) != email)
            )
            or 0
            for model, name_col, email_col in (
                (Booking, Booking.traveller_name, Booking.traveller_email),
                (User, User.name, User.email),
                (DeletionRequest, DeletionRequest.subject_name, DeletionRequest.subject_email),
            )
        )
        if others:
            shared += others
        else:
            unique.append(name)
    reference = dr.reference.lower()
    subject = Subject(
        email=email,
        names=tuple(sorted(names)),
        unique_names=tuple(unique),
        pseudonym_name=f"Erased subject ({dr.reference})",
        pseudonym_email=f"erased.{reference}@erased.invalid",
    )
    warnings = []
    if shared:
        warnings.append(
            f"The subject's name is also the name of {shared} other record(s) of other people;"
            " notes and reasons elsewhere that name them without their email are left as they"
            " are. Search for the name and check those by hand."
        )
    return subject, warnings


def plan(session: Session, dr: DeletionRequest, now: datetime) -> Plan:
    """Work out what erasing the request's subject does, without changing anything."""
    email = dr.subject_email.strip().lower()
    today = now.date()
    bookings = list(
        session.scalars(
            select(Booking).where(func.lower(Booking.traveller_email) == email).order_by(Booking.id)
        )
    )
    account = session.scalars(select(User).where(func.lower(User.email) == email)).first()
    subject, warnings = _subject(session, dr, bookings, account)
    result = Plan(dr, subject, today, warnings=warnings)
    result.requests = list(
        session.scalars(
            select(DeletionRequest)
            .where(func.lower(DeletionRequest.subject_email) == email)
            .order_by(DeletionRequest.id)
        )
    )
    _plan_bookings(session, result, bookings)
    _plan_notes(session, result, bookings)
    untouched = _plan_account(result, account)
    for request in result.requests:
        result.redactions[("deletion_request", str(request.id))] = {
            "subject_name": subject.pseudonym_name,
            "subject_email": subject.pseudonym_email,
        }
    _plan_audit(session, result, untouched)
    _plan_replay(session, result)
    return result


def _plan_bookings(session: Session, result: Plan, bookings: list[Booking]) -> None:
    subject = result.subject
    for booking in bookings:
        decision = retention.booking_decision(booking, result.today)
        wanted = {
            "traveller_name": subject.pseudonym_name,
            "traveller_email": subject.pseudonym_email,
            "status_reason": subject.scrub(booking.status_reason, own_record=True),
        }
        changes = {
            k: v for k, v in wanted.items() if k not in decision.keep and getattr(booking, k) != v
        }
        result.records.append(Planned("bookings", booking, booking.reference, decision, changes))
        result.redactions[("booking", str(booking.id))] = {
            "traveller_name": subject.pseudonym_name,
            "traveller_email": subject.pseudonym_email,
        }
    own_ids = [b.id for b in bookings]
    for booking in session.scalars(
        select(Booking)
        .where(Booking.id.not_in(own_ids), like_any(Booking.status_reason, _needles(subject)))
        .order_by(Booking.id)
    ):
        scrubbed = subject.scrub(booking.status_reason)
        if scrubbed != booking.status_reason:
            label = f"{booking.reference} (another traveller's booking that mentions them)"
            result.records.append(
                Planned(
                    "bookings", booking, label, retention.PSEUDONYMISE, {"status_reason": scrubbed}
                )
            )


def _needles(subject: Subject) -> list[str]:
    return [subject.email, *subject.unique_names]


def _plan_notes(session: Session, result: Plan, bookings: list[Booking]) -> None:
    by_id = {b.id: b for b in bookings}
    placeholder = f"[Note erased under {result.request.reference}]"
    notes = session.scalars(
        select(BookingNote).where(BookingNote.booking_id.in_(list(by_id))).order_by(BookingNote.id)
    )
    for note in notes:
        booking = by_id[note.booking_id]
        decision = retention.note_decision(booking, result.today)
        erase = decision.action == "erase"
        changes = {"body": placeholder} if erase else {}
        label = f"Note {note.id} on {booking.reference}"
        result.records.append(Planned("booking_notes", note, label, decision, changes))
        result.redactions[("booking_note", str(note.id))] = {"body": ERASED} if erase else {}
    for note in session.scalars(
        select(BookingNote)
        .where(
            BookingNote.booking_id.not_in(list(by_id)),
            like_any(BookingNote.body, _needles(result.subject)),
        )
        .order_by(BookingNote.id)
    ):
        scrubbed = result.subject.scrub(note.body)
        if scrubbed != note.body:
            label = f"Note {note.id} on booking {note.booking_id} (mentions them)"
            result.records.append(
                Planned("booking_notes", note, label, retention.PSEUDONYMISE, {"body": scrubbed})
            )


def _plan_account(result: Plan, account: User | None) -> set[tuple[str, str]]:
    """Plan the user account; returns entities whose audit states stay as they are."""
    if account is None:
        return set()
    decision = retention.account_decision(account)
    label = f"User {account.id} ({account.role})"
    key = ("user", str(account.id))
    if decision.action != "erase":
        result.records.append(Planned("user_account", account, label, decision, {}))
        return {key}
    subject = result.subject
    changes = {"name": subject.pseudonym_name, "email": subject.pseudonym_email, "active": False}
    result.records.append(Planned("user_account", account, label, decision, changes))
    result.redactions[key] = {
        "name": subject.pseudonym_name,
        "email": subject.pseudonym_email,
        IDENTITIES: redact_identities,
    }
    return set()


def _plan_audit(session: Session, result: Plan, untouched: set[tuple[str, str]]) -> None:
    subject = result.subject
    by_type: dict[str, list[str]] = {}
    for entity_type, entity_id in result.redactions:
        by_type.setdefault(entity_type, []).append(entity_id)
    needles = _needles(subject)
    conditions = [
        and_(AuditEvent.entity_type == t, AuditEvent.entity_id.in_(ids))
        for t, ids in by_type.items()
    ]
    conditions += [
        like_any(cast(AuditEvent.before, Text), needles),
        like_any(cast(AuditEvent.after, Text), needles),
        like_any(AuditEvent.reason, needles),
        func.lower(AuditEvent.actor_email) == subject.email,
    ]
    erased_account = result.erased_account is not None
    for event in session.scalars(
        select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.id)
    ):
        key = (event.entity_type, event.entity_id)
        if key in untouched:
            continue
        replace = result.redactions.get(key, {})
        own = key in result.redactions
        values = {
            "before": rewrite_state(event.before, replace, subject, own),
            "after": rewrite_state(event.after, replace, subject, own),
            "reason": subject.scrub(event.reason, own),
        }
        if erased_account and event.actor_email.lower() == subject.email:
            values["actor_email"] = subject.pseudonym_email
        changed = {k: v for k, v in values.items() if getattr(event, k) != v}
        if changed:
            result.audit.append(Rewrite(event, changed))


def _plan_replay(session: Session, result: Plan) -> None:
    subject = result.subject
    rows = session.scalars(
        select(IdempotencyRecord).where(
            like_any(cast(IdempotencyRecord.response, Text), _needles(subject))
        )
    )
    for row in rows:
        response = subject.scrub(row.response)
        if response != row.response:
            result.replay.append(Rewrite(row, {"response": response}))


def execute(session: Session, ctx: WriteContext, dr: DeletionRequest) -> Plan:
    """Carry out the erasure in the caller's transaction; returns the plan that was carried out."""
    result = plan(session, dr, ctx.now)
    for record in result.records:
        if record.changes:
            _erase_record(session, ctx, result, record)
    for rewrite in (*result.audit, *result.replay):
        for column, value in rewrite.values.items():
            setattr(rewrite.row, column, value)
    account = result.erased_account
    if account is not None:
        for token in session.scalars(
            select(RefreshToken).where(
                RefreshToken.user_id == account.id, RefreshToken.revoked_at.is_(None)
            )
        ):
            token.revoked_at = ctx.now
    session.flush()
    return result


def _erase_record(session: Session, ctx: WriteContext, result: Plan, record: Planned) -> None:
    entity = record.entity

    def change() -> None:
        for column, value in record.changes.items():
            setattr(entity, column, value)
        if isinstance(entity, Booking):
            entity.updated_at = ctx.now
        if isinstance(entity, User):
            apply_state(entity, {IDENTITIES: []})  # they can no longer sign in as anyone

    why = record.decision.legal_basis or "no legal basis to keep it"
    event = record_change(
        session, ctx, entity, ACTION, change, reason=f"{result.request.reference}: {why}"
    )
    redact_event(event, result, erased=set(record.changes) | {IDENTITIES})


def redact_event(event: AuditEvent, result: Plan, erased: Collection[str] = ()) -> None:
    """Rewrite a new audit event of this erasure so it does not repeat the subject's data.

    Fields in `erased` that changed read "[erased]" in `before`; the subject's other personal
    fields read as the pseudonym, in `before` and `after` alike.
    """
    key = (event.entity_type, event.entity_id)
    subject = result.subject
    replace = result.redactions.get(key, {})
    own = key in result.redactions  # else another person's record that mentioned them
    before = rewrite_state(event.before, replace, subject, own)
    after = rewrite_state(
        event.after, {k: v for k, v in replace.items() if v != ERASED}, subject, own
    )
    if before is not None and event.before is not None and event.after is not None:
        for name in erased:
            if name in before and event.before.get(name) != event.after.get(name):
                before[name] = ERASED
    event.before, event.after = before, after
