"""Deterministic demo data: the same seed and anchor time give the same rows.

Bookings are created and then moved through their lives with the real booking rules and the
real audit path (`record_create` / `record_change`), so the seeded audit trail is consistent
with the data: the newest event of an untouched booking can be undone exactly as a live one.
The anchor time (default: now, to the minute) places the history relative to "today", so the
sandbox always has fresh SLA breaches, today's check-ins and undoable writes.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ikan_platform import seed_data as data
from ikan_platform.models import Booking, Client, DeletionRequest, Supplier, User
from ikan_platform.services import bookings as rules
from ikan_platform.services import deletion_requests as workflow
from ikan_platform.services.audit import SYSTEM, Actor, WriteContext, record_change, record_create

DEFAULT_BOOKINGS = 600
DEFAULT_SEED = 7


def is_seeded(session: Session) -> bool:
    """True when the database already holds users."""
    return (session.scalar(select(func.count()).select_from(User)) or 0) > 0


def seed(
    session: Session,
    *,
    bookings: int = DEFAULT_BOOKINGS,
    seed_value: int = DEFAULT_SEED,
    now: datetime | None = None,
) -> dict[str, int]:
    """Fill an empty database; returns how many rows of each kind were made."""
    now = (now or datetime.now(UTC)).replace(second=0, microsecond=0)
    rng = random.Random(seed_value)
    session.info["bulk_import"] = "seed"
    try:
        clients = [Client(id=i + 1, name=name) for i, name in enumerate(data.CLIENTS)]
        suppliers = [
            Supplier(id=i + 1, name=n, kind=k) for i, (n, k, _) in enumerate(data.SUPPLIERS)
        ]
        session.add_all(clients + suppliers)
        session.flush()
        users = _seed_users(session, now)
    finally:
        session.info.pop("bulk_import", None)
    staff = [u for u in users if u.role in ("operations", "admin")]
    ops = [u for u in users if u.role == "operations"]
    timeline = Timeline()
    made = [_plan_booking(timeline, session, rng, n, now, users, ops) for n in range(bookings)]
    _give_travellers_accounts(timeline, session, made[:2], now)
    requests = _plan_deletion_requests(timeline, session, rng, now, made, staff)
    timeline.run()
    _advance_sequences(session)
    session.commit()
    return {"users": len(users) + 2, "bookings": len(made), "deletion_requests": requests}


def _advance_sequences(session: Session) -> None:
    """Rows were given explicit ids; PostgreSQL's sequences must move past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("clients", "suppliers", "bookings", "deletion_requests"):
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        )


class Timeline:
    """Writes planned at past times, run in time order.

    Planning draws every random number in a fixed order (so the data is deterministic); running
    in time order makes audit ids follow time, as they do on a live platform.
    """

    def __init__(self) -> None:
        self._writes: list[tuple[datetime, int, Callable[[], object]]] = []

    def at(self, when: datetime, write: Callable[[], object]) -> None:
        """Plan a write at `when`."""
        self._writes.append((when, len(self._writes), write))

    def run(self) -> None:
        """Perform every planned write, oldest first (ties in planning order)."""
        for _, _, write in sorted(self._writes, key=lambda w: (w[0], w[1])):
            write()


def _ascii(text: str) -> str:
    """Fold accents away: García -> garcia, for email addresses."""
    import unicodedata

    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _ctx(actor: Actor, when: datetime, tag: str) -> WriteContext:
    return WriteContext(actor, f"seed-{tag}", when)


def _seed_users(session: Session, now: datetime) -> list[User]:
    users = []
    for email, name, role, client, supplier in data.STAFF:
        user = User(
            email=email,
            name=name,
            role=role,
            active=True,
            client_id=None if client is None else client + 1,
            supplier_id=None if supplier is None else supplier + 1,
            created_at=now - timedelta(days=400),
        )
        session.add(user)
        users.append(user)
    session.flush()
    return users


def _give_travellers_accounts(
    timeline: Timeline, session: Session, bookings: list[Booking], now: datetime
) -> None:
    """Two travellers get portal accounts, so the Traveler role has someone to be."""
    when = now - timedelta(days=30)
    for booking in bookings:
        user = User(
            email=booking.traveller_email,
            name=booking.traveller_name,
            role="traveler",
            active=True,
            created_at=when,
        )
        timeline.at(
            when,
            lambda user=user: record_create(
                session, _ctx(SYSTEM, when, "traveler"), user, "user.create"
            ),
        )


def _target_status(rng: random.Random) -> str:
    return rng.choices(
        ("new", "awaiting_supplier", "needs_attention", "confirmed", "on_hold", "cancelled"),
        weights=(20, 25, 11, 33, 6, 5),
    )[0]


def _plan_booking(
    timeline: Timeline,
    session: Session,
    rng: random.Random,
    n: int,
    now: datetime,
    users: list[User],
    ops: list[User],
) -> Booking:
    """Draw one booking and plan its creation and life."""
    client_index = rng.randrange(len(data.CLIENTS))
    supplier_index = rng.randrange(len(data.SUPPLIERS))
    _, _, accommodation = data.SUPPLIERS[supplier_index]
    home, destination = rng.sample(data.CITIES, 2)
    city, currency, base = destination
    first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
    email_local = _ascii(f"{first}.{last}".lower().replace("'", "").replace(" ", ""))
    domain = data.CLIENTS[client_index].split()[0].lower() + ".example"
    status = _target_status(rng)
    created = now - timedelta(days=rng.randint(2, 12), minutes=rng.randint(0, 1439))
    check_in = (now + timedelta(days=rng.randint(-6, 75))).date()
    if n % 17 == 0 and status != "cancelled":
        check_in = now.date()
    nights = rng.choice((14, 21, 28, 30, 45, 60, 90))
    rate = int(base * data.RATE_FACTOR[accommodation] * rng.uniform(0.85, 1.3) * 100)
    priority = rng.choices(("low", "normal", "high", "urgent"), weights=(15, 55, 22, 8))[0]
    sla_hours = {"urgent": 4, "high": 12, "normal": 24, "low": 48}[priority]
    sla_due = now + timedelta(minutes=rng.randint(-9 * 60, sla_hours * 60 + 48 * 60))
    booking = Booking(
        id=n + 1,  # ids by draw order; audit ids follow time
        reference=f"BK-{104200 + n * 7}",
        client_id=client_index + 1,
        traveller_name=f"{first} {last}",
        traveller_email=f"{email_local}{n}@{domain}",
        home_city=home[0],
        destination_city=city,
        accommodation_type=accommodation,
        property_name=f"{rng.choice(data.PROPERTY_WORDS)} {city} — "
        f"{data.SUPPLIERS[supplier_index][0].split()[0]}",
        supplier_id=supplier_index + 1,
        check_in=check_in,
        check_out=check_in + timedelta(days=nights),
        nightly_rate_minor=rate,
        currency=currency,
        priority=priority,
        status="new",
        sla_due_at=sla_due,
        assignee_id=None,
        escalated=False,
        created_at=created,
        updated_at=created,
    )
    rmc = next((u for u in users if u.role == "rmc" and u.client_id == booking.client_id), None)
    creator = Actor.of(rmc) if rmc else SYSTEM
    timeline.at(
        created,
        lambda: record_create(
            session, _ctx(creator, created, f"{n}-create"), booking, "booking.create"
        ),
    )
    _plan_life(timeline, session, rng, n, booking, status, now, users, ops)
    return booking


def _plan_life(
    timeline: Timeline,
    session: Session,
    rng: random.Random,
    n: int,
    booking: Booking,
    status: str,
    now: datetime,
    users: list[User],
    ops: list[User],
) -> None:
    """Walk the booking to its target status through the real rules, at past times."""
    supplier_user = next((u for u in users if u.supplier_id == booking.supplier_id), None)
    # Half the lives end inside the last 24 hours, so the sandbox always has undoable writes.
    span = (now - booking.created_at).total_seconds()
    if rng.random() < 0.5:
        last_at = now - timedelta(minutes=rng.randint(10, 23 * 60))
    else:
        last_at = booking.created_at + timedelta(seconds=span * rng.uniform(0.2, 0.8))
        last_at = min(last_at, now - timedelta(hours=25))
    steps: list[tuple[str, Actor, Any, str | None]] = []
    operator = rng.choice(ops)
    if rng.random() < 0.45 and status != "new":
        steps.append(
            ("booking.claim", Actor.of(operator), lambda b, u, t: rules.claim(b, u, t), None)
        )
    sent = status in ("awaiting_supplier", "confirmed", "needs_attention")
    if sent or (status in ("on_hold", "cancelled") and rng.random() < 0.5):
        steps.append(
            (
                "booking.send_to_supplier",
                Actor.of(operator),
                lambda b, u, t: rules.send_to_supplier(b, u, t),
                None,
            )
        )
    responder = Actor.of(supplier_user) if supplier_user else Actor.of(operator)
    ref = f"{rng.choice(('CH', 'MH', 'NW', 'HS', 'GC'))}-{rng.randint(100000, 999999)}"
    if status == "confirmed":
        steps.append(
            ("booking.confirm", responder, lambda b, u, t: rules.confirm(b, u, t, ref), None)
        )
    elif status == "needs_attention":
        if rng.random() < 0.6:
            reason = rng.choice(data.DECLINE_REASONS)
            steps.append(
                (
                    "booking.decline",
                    responder,
                    lambda b, u, t: rules.decline(b, u, t, reason),
                    reason,
                )
            )
        else:
            reason = rng.choice(data.ESCALATE_REASONS)
            steps.append(
                (
                    "booking.escalate",
                    Actor.of(operator),
                    lambda b, u, t: rules.escalate(b, u, t, reason),
                    reason,
                )
            )
    elif status == "on_hold":
        reason = rng.choice(data.HOLD_REASONS)
        steps.append(
            (
                "booking.hold",
                Actor.of(operator),
                lambda b, u, t: rules.hold(b, u, t, reason),
                reason,
            )
        )
    elif status == "cancelled":
        reason = rng.choice(data.CANCEL_REASONS)
        steps.append(
            (
                "booking.cancel",
                Actor.of(operator),
                lambda b, u, t: rules.cancel(b, u, t, reason),
                reason,
            )
        )
    if not steps:
        return
    gap = (last_at - booking.created_at) / (len(steps) + 1)
    by_id = {u.id: u for u in users}
    for i, (action, actor, change, reason) in enumerate(steps, start=1):
        when = booking.created_at + gap * i if i < len(steps) else last_at
        user = by_id[actor.id]

        def apply(change=change, user=user, when=when) -> None:
            change(booking, user, when)  # at the step's time, as the API passes its now
            booking.updated_at = when

        timeline.at(
            when,
            lambda action=action, actor=actor, apply=apply, reason=reason, i=i, when=when: (
                record_change(
                    session, _ctx(actor, when, f"{n}-{i}"), booking, action, apply, reason=reason
                )
            ),
        )


DELETION_PLAN = (
    # (status, days since received, channel)
    ("received", 1, "email"),
    ("received", 4, "web_form"),
    ("received", 12, "email"),
    ("verifying", 6, "email"),
    ("verifying", 26, "web_form"),
    ("verifying", 33, "letter"),
    ("ready", 9, "web_form"),
    ("ready", 27, "email"),
    ("approved", 15, "email"),
    ("approved", 28, "web_form"),
    ("completed", 40, "email"),
    ("completed", 22, "web_form"),
    ("rejected", 18, "email"),
    ("received", 2, "phone"),
)


def _plan_deletion_requests(
    timeline: Timeline,
    session: Session,
    rng: random.Random,
    now: datetime,
    bookings: list[Booking],
    staff: list[User],
) -> int:
    """Requests across every state, moved on by the real workflow (erasure included).

    Open requests name travellers with bookings, so their previews have something to show.
    Completed ones name former travellers whose stays are long gone from this data set: their
    erasure ran for real, so nothing of them is left but the request itself.
    """
    subjects = rng.sample(bookings[10:], len(DELETION_PLAN))
    for i, ((status, days, channel), booking) in enumerate(
        zip(DELETION_PLAN, subjects, strict=True)
    ):
        received = datetime.combine(
            (now - timedelta(days=days)).date(), time(9 + i % 8, 15 * (i % 4)), tzinfo=UTC
        )
        name, email = booking.traveller_name, booking.traveller_email
        if status == "completed":
            first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
            name = f"{first} {last}"
            email = _ascii(f"{first}.{last}.former{i}@example.org".lower().replace("'", ""))
        dr = DeletionRequest(
            id=i + 1,
            reference=f"DR-{2026_0900 + i * 13}",
            subject_name=name,
            subject_email=email,
            client_id=booking.client_id,
            channel=channel,
            status="received",
            received_at=received,
            due_at=received + timedelta(days=30),
        )
        timeline.at(
            received,
            lambda dr=dr, i=i, received=received: record_create(
                session, _ctx(SYSTEM, received, f"dr{i}"), dr, "deletion_request.create"
            ),
        )
        verifier, approver = staff[i % len(staff)], staff[(i + 1) % len(staff)]
        for j, step in enumerate(DELETION_PATHS[status], start=1):
            when = min(received + timedelta(days=j * 2, hours=j), now - timedelta(hours=1))
            actor = approver if step in ("approve", "execute") else verifier
            timeline.at(
                when,
                lambda dr=dr, step=step, actor=actor, when=when, tag=f"dr{i}-{j}": _dr_step(
                    session, dr, step, actor, _ctx(Actor.of(actor), when, tag)
                ),
            )
    return len(DELETION_PLAN)


DELETION_PATHS = {
    "received": (),
    "verifying": ("verify",),
    "ready": ("verify", "mark_ready"),
    "approved": ("verify", "mark_ready", "approve"),
    "completed": ("verify", "mark_ready", "approve", "execute"),
    "rejected": ("verify", "reject"),
}
REJECTION = "Identity could not be verified after two reminders."


def _dr_step(
    session: Session, dr: DeletionRequest, step: str, actor: User, ctx: WriteContext
) -> None:
    """One workflow step, exactly as the API performs it."""
    if step == "execute":
        workflow.execute(session, ctx, dr)
        return
    changes: dict[str, Callable[[], None]] = {
        "verify": lambda: workflow.verify(dr),
        "mark_ready": lambda: workflow.mark_ready(
            dr, actor, ctx.now, "email_confirmation", "Confirmed from the address on file"
        ),
        "approve": lambda: workflow.approve(session, dr, actor, ctx.now),
        "reject": lambda: workflow.reject(session, dr, ctx.now, REJECTION),
    }
    reason = {"mark_ready": "Identity verified by email_confirmation", "reject": REJECTION}
    record_change(
        session, ctx, dr, f"deletion_request.{step}", changes[step], reason=reason.get(step)
    )
