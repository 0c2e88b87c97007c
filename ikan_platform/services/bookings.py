"""Bookings: server-side queue definitions, what each role may see, and the actions' rules."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from ikan_platform.errors import Problem
from ikan_platform.models import Booking, Client, Supplier, User
from ikan_platform.schemas import iso
from ikan_platform.search import contains

OPEN_STATUSES = ("new", "awaiting_supplier", "needs_attention", "on_hold")


@dataclass(frozen=True)
class Queue:
    """A named, server-defined slice of bookings."""

    id: str
    name: str
    description: str
    condition: Callable[[datetime], ColumnElement[bool]]


QUEUES: tuple[Queue, ...] = (
    Queue("new", "New", "Not yet sent to a supplier", lambda now: Booking.status == "new"),
    Queue(
        "awaiting_supplier",
        "Awaiting supplier",
        "Sent; waiting for the supplier to confirm",
        lambda now: Booking.status == "awaiting_supplier",
    ),
    Queue(
        "needs_attention",
        "Needs attention",
        "Declined, escalated or otherwise stuck",
        lambda now: Booking.status == "needs_attention",
    ),
    Queue(
        "checkins_today",
        "Check-ins today",
        "Travellers arriving today (UTC)",
        lambda now: and_(Booking.check_in == now.date(), Booking.status != "cancelled"),
    ),
    Queue("on_hold", "On hold", "Paused with a reason", lambda now: Booking.status == "on_hold"),
)
QUEUES_BY_ID = {q.id: q for q in QUEUES}


def visible_to(user: User) -> ColumnElement[bool]:
    """Row scope: which bookings a role may see at all."""
    if user.role in ("operations", "admin"):
        return true()
    if user.role == "rmc" and user.client_id is not None:
        return Booking.client_id == user.client_id
    if user.role == "supplier" and user.supplier_id is not None:
        # Only what was sent to them (or confirmed with them): a status alone would show them a
        # booking Ops held or escalated before sending it, internal reason included.
        return and_(
            Booking.supplier_id == user.supplier_id, Booking.sent_to_supplier_at.is_not(None)
        )
    if user.role == "traveler":
        return Booking.traveller_email == user.email
    return false()


def sla_breached(condition_now: datetime) -> ColumnElement[bool]:
    """Open bookings whose SLA due time has passed."""
    return and_(Booking.status.in_(OPEN_STATUSES), Booking.sla_due_at < condition_now)


def _contains(q: str) -> Callable[[Any], ColumnElement[bool]]:
    return lambda column: contains(column, q)


def suppliers_matching(session: Session, q: str) -> list[int]:
    """Ids of the suppliers whose name contains `q` (a small table, read once per search)."""
    return list(session.scalars(select(Supplier.id).where(_contains(q)(Supplier.name))))


def search_condition(q: str, supplier_ids: Collection[int]) -> ColumnElement[bool]:
    """`q` matches the booking id or reference, traveller name, either city, or supplier name.

    Pass `suppliers_matching(session, q)` as `supplier_ids`: as plain ids, not a subquery, every
    arm of the OR can use an index (on PostgreSQL the trigram index of migration 0003).
    """
    text = q.strip().lower()
    contains = _contains(q)
    is_id = text.isascii() and text.isdigit() and len(text) < 10
    return or_(
        Booking.id == int(text) if is_id else false(),
        contains(Booking.reference),
        contains(Booking.traveller_name),
        contains(Booking.home_city),
        contains(Booking.destination_city),
        Booking.supplier_id.in_(supplier_ids) if supplier_ids else false(),
    )


def queue_counts(session: Session, user: User, now: datetime) -> list[dict[str, Any]]:
    """Every queue with its count and SLA-breach count.

    One count per queue, so each reads only its own index range; a single query with a FILTER
    per queue read every booking (4x slower at 100,000 bookings, see docs/benchmarks.md).
    """
    counts = [
        session.execute(
            select(func.count(), func.count().filter(sla_breached(now)))
            .select_from(Booking)
            .where(visible_to(user), q.condition(now))
        ).one()
        for q in QUEUES
    ]
    return [
        {
            "id": q.id,
            "name": q.name,
            "description": q.description,
            "count": count,
            "sla_breached": breached,
        }
        for q, (count, breached) in zip(QUEUES, counts, strict=True)
    ]


def load_related(session: Session, bookings: Sequence[Booking]) -> list[object]:
    """Load the clients, suppliers and assignees of these bookings in three queries."""
    wanted = (
        (Client, {b.client_id for b in bookings}),
        (Supplier, {b.supplier_id for b in bookings}),
        (User, {b.assignee_id for b in bookings if b.assignee_id is not None}),
    )
    return [
        row
        for model, ids in wanted
        if ids
        for row in session.scalars(select(model).where(model.id.in_(ids)))
    ]


def serialize(session: Session, booking: Booking, now: datetime) -> dict[str, Any]:
    """The API representation of a booking."""
    client = session.get(Client, booking.client_id)
    supplier = session.get(Supplier, booking.supplier_id)
    assignee = session.get(User, booking.assignee_id) if booking.assignee_id else None
    return {
        "id": booking.id,
        "reference": booking.reference,
        "client": {"id": client.id, "name": client.name},
        "traveller_name": booking.traveller_name,
        "traveller_email": booking.traveller_email,
        "home_city": booking.home_city,
        "destination_city": booking.destination_city,
        "accommodation_type": booking.accommodation_type,
        "property_name": booking.property_name,
        "supplier": {"id": supplier.id, "name": supplier.name},
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "nights": (booking.check_out - booking.check_in).days,
        "nightly_rate_minor": booking.nightly_rate_minor,
        "currency": booking.currency,
        "priority": booking.priority,
        "status": booking.status,
        "sla_due_at": iso(booking.sla_due_at),
        "sla_breached": booking.status in OPEN_STATUSES and booking.sla_due_at < now,
        "assignee": (
            {"id": assignee.id, "name": assignee.name, "email": assignee.email}
            if assignee
            else None
        ),
        "supplier_reference": booking.supplier_reference,
        "status_reason": booking.status_reason,
        "escalated": booking.escalated,
        "sent_to_supplier_at": iso(booking.sent_to_supplier_at)
        if booking.sent_to_supplier_at
        else None,
        "version": booking.version,
        "created_at": iso(booking.created_at),
        "updated_at": iso(booking.updated_at),
    }


def _refuse(code: str, detail: str) -> Problem:
    return Problem(409, code, "Not possible in the booking's current state", detail=detail)


def _require_status(booking: Booking, allowed: tuple[str, ...], doing: str) -> None:
    if booking.status not in allowed:
        label = booking.status.replace("_", " ")
        raise _refuse("invalid_state", f"Cannot {doing} a booking that is {label}.")


def _supplier_guard(booking: Booking, actor: User) -> None:
    if actor.role == "supplier" and (
        booking.status != "awaiting_supplier" or booking.sent_to_supplier_at is None
    ):
        raise _refuse(
            "invalid_state", "Suppliers answer only bookings sent to them and awaiting them."
        )


def send_to_supplier(booking: Booking, actor: User, now: datetime) -> None:
    """New → awaiting the supplier's confirmation; from now on the supplier sees it."""
    _require_status(booking, ("new", "needs_attention"), "send to the supplier")
    booking.status = "awaiting_supplier"
    booking.status_reason = None
    booking.sent_to_supplier_at = now


def claim(booking: Booking, actor: User, now: datetime) -> None:
    """Take the booking; refused if a teammate already holds it."""
    _require_status(booking, (*OPEN_STATUSES, "confirmed"), "claim")
    if booking.assignee_id == actor.id:
        raise _refuse("already_claimed", "You already hold this booking.")
    if booking.assignee_id is not None:
        raise _refuse("already_claimed", "A teammate holds this booking; ask them, or use Assign.")
    booking.assignee_id = actor.id


def release(booking: Booking, actor: User, now: datetime) -> None:
    """Give the booking back to the queue (a cancelled booking keeps who cancelled it)."""
    _require_status(booking, (*OPEN_STATUSES, "confirmed"), "release")
    if booking.assignee_id is None:
        raise _refuse("not_claimed", "Nobody holds this booking.")
    if booking.assignee_id != actor.id and actor.role != "admin":
        raise _refuse("not_yours", "Only the assignee or an admin can release it.")
    booking.assignee_id = None


def assign(booking: Booking, actor: User, now: datetime, assignee: User) -> None:
    """Hand the booking to an active Operations or Admin teammate."""
    _require_status(booking, (*OPEN_STATUSES, "confirmed"), "assign")
    if assignee.role not in ("operations", "admin") or not assignee.active:
        raise Problem(
            422,
            "invalid_assignee",
            "Cannot assign to this user",
            detail="Bookings go to active Operations or Admin staff only.",
        )
    if booking.assignee_id == assignee.id:
        raise Problem(
            409,
            "no_change",
            "Nothing to change",
            detail=f"{booking.reference} is already assigned to {assignee.name}.",
        )
    booking.assignee_id = assignee.id


def confirm(booking: Booking, actor: User, now: datetime, supplier_reference: str) -> None:
    """The supplier confirmed: record their reference."""
    _supplier_guard(booking, actor)
    _require_status(booking, ("new", "awaiting_supplier", "needs_attention"), "confirm")
    booking.status = "confirmed"
    booking.supplier_reference = supplier_reference
    booking.status_reason = None
    if booking.sent_to_supplier_at is None:  # confirmed by phone, never sent: now it is theirs
        booking.sent_to_supplier_at = now


def decline(booking: Booking, actor: User, now: datetime, reason: str) -> None:
    """The supplier declined: back to Operations with the reason."""
    _supplier_guard(booking, actor)
    _require_status(booking, ("awaiting_supplier", "confirmed"), "record a decline for")
    booking.status = "needs_attention"
    booking.supplier_reference = None
    booking.status_reason = f"Supplier declined: {reason}"


def escalate(booking: Booking, actor: User, now: datetime, reason: str) -> None:
    """Flag for senior attention."""
    _require_status(booking, (*OPEN_STATUSES, "confirmed"), "escalate")
    if booking.escalated:
        raise _refuse("already_escalated", "This booking is already escalated.")
    booking.escalated = True
    booking.status = "needs_attention"
    booking.status_reason = f"Escalated: {reason}"


def hold(booking: Booking, actor: User, now: datetime, reason: str) -> None:
    """Pause work with a reason."""
    _require_status(booking, ("new", "awaiting_supplier", "needs_attention", "confirmed"), "hold")
    booking.status = "on_hold"
    booking.status_reason = f"On hold: {reason}"


def resume(booking: Booking, actor: User, now: datetime) -> None:
    """Take off hold: confirmed if the supplier confirmed, awaiting them if sent, else new."""
    _require_status(booking, ("on_hold",), "resume")
    if booking.supplier_reference:
        booking.status = "confirmed"
    elif booking.sent_to_supplier_at is not None:
        booking.status = "awaiting_supplier"
    else:  # held before it was ever sent: it is not awaiting anyone
        booking.status = "new"
    booking.status_reason = None


def cancel(booking: Booking, actor: User, now: datetime, reason: str) -> None:
    """Cancel with a reason (reversible for 24 hours through undo)."""
    _require_status(booking, (*OPEN_STATUSES, "confirmed"), "cancel")
    booking.status = "cancelled"
    booking.status_reason = reason
