"""Booking queues, lists, detail and actions (each action audited, conditional and idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ikan_platform.conditions import (
    check_if_match,
    conditional_write,
    etag,
    idempotent,
    idempotent_create,
    write_context,
)
from ikan_platform.errors import Problem
from ikan_platform.models import Booking, BookingNote, User
from ikan_platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from ikan_platform.routing import JsonBodyRoute
from ikan_platform.schemas import (
    MAX_ID,
    AssignIn,
    BookingOut,
    BookingPage,
    ConfirmIn,
    NoteIn,
    NoteOut,
    NotePage,
    QueueOut,
    ReasonIn,
    iso,
)
from ikan_platform.security import current_user, get_session
from ikan_platform.services import bookings as rules
from ikan_platform.services.audit import record_change, record_create

router = APIRouter(prefix="/v1", tags=["bookings"], route_class=JsonBodyRoute)
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
BookingId = Annotated[int, Path(ge=1, le=MAX_ID)]
WRITE_RESPONSES = {
    404: {"description": "No such booking (or not visible to you)"},
    409: {"description": "Not possible in the booking's current state"},
    412: {"description": "Stale If-Match; body carries the current booking"},
    428: {"description": "If-Match missing"},
}


@router.get("/queues", operation_id="list_queues", response_model=list[QueueOut])
def list_queues(request: Request, user: UserDep, session: SessionDep) -> list[dict]:
    """Server-defined queues with their counts and SLA breaches."""
    return rules.queue_counts(session, user, request.app.state.settings.clock())


@router.get("/bookings", operation_id="list_bookings", response_model=BookingPage)
def list_bookings(
    request: Request,
    user: UserDep,
    session: SessionDep,
    queue: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Bookings by SLA due time (soonest first), keyset-paginated, filtered by queue and search."""
    state = request.app.state
    now = state.settings.clock()
    conditions = [rules.visible_to(user)]
    if queue is not None:
        if queue not in rules.QUEUES_BY_ID:
            raise Problem(
                400,
                "unknown_queue",
                "Unknown queue",
                detail=f"Queues: {', '.join(rules.QUEUES_BY_ID)}.",
            )
        conditions.append(rules.QUEUES_BY_ID[queue].condition(now))
    if q and q.strip():
        conditions.append(rules.search_condition(q, rules.suppliers_matching(session, q)))
    scope = f"bookings:{queue}:{q}"
    # Counting every match costs a scan; the first page carries it, later pages say null.
    total = (
        session.scalar(select(func.count()).select_from(Booking).where(*conditions))
        if cursor is None
        else None
    )
    page_conditions = list(conditions)
    if cursor:
        due_iso, last_id = decode_cursor(state.secret, scope, cursor)
        due = datetime.fromisoformat(due_iso)
        # The plain `>=` lets both databases start an index range scan at the cursor; the OR
        # alone made them walk the index from the first booking (slow on deep pages).
        page_conditions.append(Booking.sla_due_at >= due)
        page_conditions.append(or_(Booking.sla_due_at > due, Booking.id > last_id))
    rows = session.scalars(
        select(Booking)
        .where(*page_conditions)
        .order_by(Booking.sla_due_at, Booking.id)
        .limit(limit + 1)
    ).all()
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(state.secret, scope, [last.sla_due_at.isoformat(), last.id])
    # The identity map holds objects weakly: keep the page's clients, suppliers and assignees
    # referenced while serialising, so a page costs three queries for them, not three a booking.
    loaded = rules.load_related(session, items)
    page = [rules.serialize(session, b, now) for b in items]
    del loaded
    return {"items": page, "next_cursor": next_cursor, "total": total}


def _visible_booking(session: Session, user: User, booking_id: int) -> Booking:
    booking = session.scalars(
        select(Booking).where(Booking.id == booking_id, rules.visible_to(user))
    ).first()
    if booking is None:
        raise Problem(
            404,
            "not_found",
            "No such booking",
            detail=f"Booking {booking_id} does not exist or is not visible to you.",
        )
    return booking


@router.get(
    "/bookings/{booking_id}",
    operation_id="get_booking",
    response_model=BookingOut,
    responses={404: {"description": "No such booking"}},
)
def get_booking(
    booking_id: BookingId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """One booking, with its ETag."""
    booking = _visible_booking(session, user, booking_id)
    body = rules.serialize(session, booking, request.app.state.settings.clock())
    return JSONResponse(body, headers={"ETag": etag(booking.version)})


def _act(
    request: Request,
    session: Session,
    user: User,
    booking_id: int,
    action: str,
    body: object,
    change: Callable[[Booking, datetime], None],
    reason: str | None = None,
) -> JSONResponse:
    """Load, check If-Match, apply `change` through the audit path, commit once."""

    def run() -> tuple[dict, dict[str, str]]:
        booking = _visible_booking(session, user, booking_id)
        ctx = write_context(request, user)
        check_if_match(request, booking.version, lambda: rules.serialize(session, booking, ctx.now))

        def apply() -> None:
            change(booking, ctx.now)
            booking.updated_at = ctx.now

        record_change(session, ctx, booking, action, apply, reason=reason)
        return rules.serialize(session, booking, ctx.now), {"ETag": etag(booking.version)}

    return idempotent(request, session, user, body, run)


def _simple_action(
    path: str,
    operation_id: str,
    action: str,
    rule: Callable[[Booking, User, datetime], None],
    summary: str,
) -> None:
    @router.post(
        f"/bookings/{{booking_id}}/{path}",
        operation_id=operation_id,
        response_model=BookingOut,
        responses=WRITE_RESPONSES,
        summary=summary,
        dependencies=[Depends(conditional_write)],
    )
    def endpoint(
        booking_id: BookingId, request: Request, user: UserDep, session: SessionDep
    ) -> JSONResponse:
        return _act(
            request, session, user, booking_id, action, None, lambda b, now: rule(b, user, now)
        )


def _reason_action(
    path: str,
    operation_id: str,
    action: str,
    rule: Callable[[Booking, User, datetime, str], None],
    summary: str,
) -> None:
    @router.post(
        f"/bookings/{{booking_id}}/{path}",
        operation_id=operation_id,
        response_model=BookingOut,
        responses=WRITE_RESPONSES,
        summary=summary,
        dependencies=[Depends(conditional_write)],
    )
    def endpoint(
        booking_id: BookingId, body: ReasonIn, request: Request, user: UserDep, session: SessionDep
    ) -> JSONResponse:
        return _act(
            request,
            session,
            user,
            booking_id,
            action,
            body,
            lambda b, now: rule(b, user, now, body.reason),
            reason=body.reason,
        )


_simple_action(
    "send-to-supplier",
    "send_booking_to_supplier",
    "booking.send_to_supplier",
    rules.send_to_supplier,
    "Send a new booking to its supplier",
)
_simple_action("claim", "claim_booking", "booking.claim", rules.claim, "Take the booking")
_simple_action(
    "release",
    "release_booking",
    "booking.release",
    rules.release,
    "Give the booking back to the queue",
)
_simple_action("resume", "resume_booking", "booking.resume", rules.resume, "Take off hold")
_reason_action(
    "decline",
    "decline_booking",
    "booking.decline",
    rules.decline,
    "Record that the supplier declined",
)
_reason_action("escalate", "escalate_booking", "booking.escalate", rules.escalate, "Escalate")
_reason_action("hold", "hold_booking", "booking.hold", rules.hold, "Put on hold")
_reason_action("cancel", "cancel_booking", "booking.cancel", rules.cancel, "Cancel")


@router.post(
    "/bookings/{booking_id}/confirm",
    operation_id="confirm_booking",
    response_model=BookingOut,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(conditional_write)],
)
def confirm_booking(
    booking_id: BookingId, body: ConfirmIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Record the supplier's confirmation and reference."""
    return _act(
        request,
        session,
        user,
        booking_id,
        "booking.confirm",
        body,
        lambda b, now: rules.confirm(b, user, now, body.supplier_reference),
    )


@router.post(
    "/bookings/{booking_id}/assign",
    operation_id="assign_booking",
    response_model=BookingOut,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(conditional_write)],
)
def assign_booking(
    booking_id: BookingId, body: AssignIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Hand the booking to a teammate."""
    assignee = session.get(User, body.assignee_id)
    if assignee is None:
        raise Problem(
            422,
            "invalid_assignee",
            "No such user",
            detail=f"User {body.assignee_id} does not exist.",
        )
    return _act(
        request,
        session,
        user,
        booking_id,
        "booking.assign",
        body,
        lambda b, now: rules.assign(b, user, now, assignee),
    )


def _note_out(session: Session, note: BookingNote) -> dict:
    author = session.get(User, note.author_id)
    return {
        "id": note.id,
        "booking_id": note.booking_id,
        "author": {"id": author.id, "name": author.name, "email": author.email},
        "body": note.body,
        "created_at": iso(note.created_at),
        "version": note.version,
    }


@router.get(
    "/bookings/{booking_id}/notes",
    operation_id="list_booking_notes",
    response_model=NotePage,
    responses={404: {"description": "No such booking (or not visible to you)"}},
)
def list_booking_notes(
    booking_id: BookingId,
    request: Request,
    user: UserDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Notes on a booking, newest first."""
    _visible_booking(session, user, booking_id)
    secret = request.app.state.secret
    conditions = [BookingNote.booking_id == booking_id]
    scope = f"notes:{booking_id}"
    if cursor:
        (last_id,) = decode_cursor(secret, scope, cursor)
        conditions.append(BookingNote.id < int(last_id))
    rows = session.scalars(
        select(BookingNote).where(*conditions).order_by(BookingNote.id.desc()).limit(limit + 1)
    ).all()
    items = rows[:limit]
    next_cursor = encode_cursor(secret, scope, [items[-1].id]) if len(rows) > limit else None
    return {"items": [_note_out(session, n) for n in items], "next_cursor": next_cursor}


@router.post(
    "/bookings/{booking_id}/notes",
    operation_id="add_booking_note",
    response_model=NoteOut,
    status_code=201,
    responses={404: {"description": "No such booking"}},
    dependencies=[Depends(idempotent_create)],
)
def add_booking_note(
    booking_id: BookingId, body: NoteIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Add a note (needs no If-Match: it changes no existing record)."""

    def run() -> tuple[dict, dict[str, str]]:
        _visible_booking(session, user, booking_id)
        ctx = write_context(request, user)
        note = BookingNote(
            booking_id=booking_id, author_id=user.id, body=body.body, created_at=ctx.now
        )
        record_create(session, ctx, note, "booking_note.create")
        return _note_out(session, note), {"ETag": etag(note.version)}

    return idempotent(request, session, user, body, run, status_code=201)
