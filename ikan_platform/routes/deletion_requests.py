"""Data-subject deletion requests: list by deadline, detail, scope preview, and the workflow.

Every action is conditional (If-Match), idempotent (Idempotency-Key) and audited through the one
audit path. The rules live in services/deletion_requests.py; the erasure in services/erasure.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
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
from ikan_platform.models import Client, DeletionRequest, User
from ikan_platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from ikan_platform.routing import JsonBodyRoute
from ikan_platform.schemas import MAX_ID, ReasonIn, iso
from ikan_platform.schemas_deletion import (
    DeletionPreview,
    DeletionRequestDetail,
    DeletionRequestDetailPage,
    DeletionRequestIn,
    ExtendIn,
    MarkReadyIn,
    RequestState,
)
from ikan_platform.security import current_user, get_session
from ikan_platform.services import deletion_requests as workflow
from ikan_platform.services import erasure
from ikan_platform.services.audit import WriteContext, record_change

router = APIRouter(prefix="/v1", tags=["deletion requests"], route_class=JsonBodyRoute)
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
RequestId = Annotated[int, Path(ge=1, le=MAX_ID)]
Status = Annotated[RequestState | None, Query(description="Only requests in this state")]
OPEN_STATES = workflow.OPEN_STATES
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such deletion request"},
    409: {"description": "Not possible in the request's state (`invalid_state`), or a rule"},
    412: {"description": "Stale If-Match; body carries the current request"},
    428: {"description": "If-Match missing"},
}


def _time(value: datetime | None) -> str | None:
    return iso(value) if value else None


def serialize_request(session: Session, dr: DeletionRequest, now: datetime) -> dict[str, Any]:
    """The API representation of a deletion request."""
    client = session.get(Client, dr.client_id) if dr.client_id else None
    return {
        "id": dr.id,
        "reference": dr.reference,
        "subject_name": dr.subject_name,
        "subject_email": dr.subject_email,
        "client": {"id": client.id, "name": client.name} if client else None,
        "channel": dr.channel,
        "status": dr.status,
        "received_at": iso(dr.received_at),
        "due_at": iso(dr.due_at),
        "overdue": dr.status in OPEN_STATES and dr.due_at < now,
        "extension_reason": dr.extension_reason,
        "extended_at": _time(dr.extended_at),
        "verified_at": _time(dr.verified_at),
        "verified_by_id": dr.verified_by_id,
        "verification_method": dr.verification_method,
        "verification_note": dr.verification_note,
        "approved_by_id": dr.approved_by_id,
        "approved_at": _time(dr.approved_at),
        "completed_at": _time(dr.completed_at),
        "rejection_reason": dr.rejection_reason,
        "result": dr.result,
        "version": dr.version,
    }


@router.get(
    "/deletion-requests",
    operation_id="list_deletion_requests",
    response_model=DeletionRequestDetailPage,
)
def list_deletion_requests(
    request: Request,
    user: UserDep,
    session: SessionDep,
    status: Status = None,
    overdue: Annotated[
        bool | None, Query(description="true: open requests past their due date")
    ] = None,
    open_only: Annotated[
        bool | None,
        Query(alias="open", description="true: only open requests; false: only closed ones"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Deletion requests, soonest deadline first, filtered by state, open/closed and overdue."""
    state = request.app.state
    now = state.settings.clock()
    conditions = []
    if status:
        conditions.append(DeletionRequest.status == status)
    late = and_(DeletionRequest.status.in_(OPEN_STATES), DeletionRequest.due_at < now)
    if overdue is True:
        conditions.append(late)
    elif overdue is False:
        conditions.append(~late)
    if open_only is not None:
        is_open = DeletionRequest.status.in_(OPEN_STATES)
        conditions.append(is_open if open_only else ~is_open)
    scope = f"deletion:{status}:{overdue}:{open_only}"
    if cursor:
        due_iso, last_id = decode_cursor(state.secret, scope, cursor)
        due = datetime.fromisoformat(due_iso)
        conditions.append(
            or_(
                DeletionRequest.due_at > due,
                and_(DeletionRequest.due_at == due, DeletionRequest.id > last_id),
            )
        )
    rows = session.scalars(
        select(DeletionRequest)
        .where(*conditions)
        .order_by(DeletionRequest.due_at, DeletionRequest.id)
        .limit(limit + 1)
    ).all()
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(
            state.secret, scope, [items[-1].due_at.isoformat(), items[-1].id]
        )
    return {
        "items": [serialize_request(session, r, now) for r in items],
        "next_cursor": next_cursor,
    }


@router.post(
    "/deletion-requests",
    operation_id="create_deletion_request",
    response_model=DeletionRequestDetail,
    status_code=201,
    dependencies=[Depends(idempotent_create)],
    summary="Record a newly received request",
    description="Creates the request in state `received`, due 30 days after `received_at`"
    " (default now; never in the future). Audited as `deletion_request.create`, with `note` as"
    " the event's reason.",
)
def create_deletion_request(
    body: DeletionRequestIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Record a deletion request as it arrives (email, letter, web form or phone)."""

    def run() -> tuple[dict, dict[str, str]]:
        ctx = write_context(request, user)
        dr = workflow.receive(
            session,
            ctx,
            subject_name=body.subject_name,
            subject_email=body.subject_email,
            client_id=body.client_id,
            channel=body.channel,
            received_at=body.received_at,
            note=body.note,
        )
        headers = {"ETag": etag(dr.version), "Location": f"/v1/deletion-requests/{dr.id}"}
        return serialize_request(session, dr, ctx.now), headers

    try:
        return idempotent(request, session, user, body, run, status_code=201)
    except IntegrityError:
        # Another intake drew the same random reference between our check and our insert
        # (`workflow._new_reference`); nothing of this attempt was kept: draw again, once.
        session.rollback()
        return idempotent(request, session, user, body, run, status_code=201)


def _load(session: Session, request_id: int) -> DeletionRequest:
    dr = session.get(DeletionRequest, request_id)
    if dr is None:
        raise Problem(
            404,
            "not_found",
            "No such deletion request",
            detail=f"Deletion request {request_id} does not exist.",
        )
    return dr


@router.get(
    "/deletion-requests/{request_id}",
    operation_id="get_deletion_request",
    response_model=DeletionRequestDetail,
    responses={404: {"description": "No such request"}},
)
def get_deletion_request(
    request_id: RequestId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """One deletion request with its deadline, and its ETag."""
    dr = _load(session, request_id)
    body = serialize_request(session, dr, request.app.state.settings.clock())
    return JSONResponse(body, headers={"ETag": etag(dr.version)})


@router.get(
    "/deletion-requests/{request_id}/preview",
    operation_id="preview_deletion_request",
    response_model=DeletionPreview,
    responses={404: {"description": "No such request"}},
)
def preview_deletion_request(
    request_id: RequestId, request: Request, user: UserDep, session: SessionDep
) -> dict:
    """What executing the request would erase, pseudonymise or keep (and why), per category."""
    dr = _load(session, request_id)
    now = request.app.state.settings.clock()
    plan = erasure.plan(session, dr, now)
    return {
        "request_id": dr.id,
        "reference": dr.reference,
        "status": dr.status,
        "evaluated_at": iso(now),
        "categories": workflow.categories(plan, completed_at=dr.completed_at or now),
        "warnings": plan.warnings,
    }


def _act(
    request: Request,
    session: Session,
    user: User,
    request_id: int,
    body: object,
    perform: Callable[[DeletionRequest, WriteContext], None],
) -> JSONResponse:
    """Load, check If-Match, perform the audited step, commit once (idempotently)."""

    def run() -> tuple[dict, dict[str, str]]:
        dr = _load(session, request_id)
        ctx = write_context(request, user)
        check_if_match(request, dr.version, lambda: serialize_request(session, dr, ctx.now))
        perform(dr, ctx)
        return serialize_request(session, dr, ctx.now), {"ETag": etag(dr.version)}

    return idempotent(request, session, user, body, run)


def _step(
    session: Session,
    action: str,
    change: Callable[[DeletionRequest, WriteContext], None],
    reason: Callable[[DeletionRequest], str | None] = lambda dr: None,
) -> Callable[[DeletionRequest, WriteContext], None]:
    """A workflow step that changes only the request, recorded as `deletion_request.<action>`."""

    def perform(dr: DeletionRequest, ctx: WriteContext) -> None:
        workflow.require_state(dr, action)  # before anything is recorded
        record_change(
            session,
            ctx,
            dr,
            f"deletion_request.{action}",
            lambda: change(dr, ctx),
            reason=reason(dr),
        )

    return perform


def _write_route(
    path: str, operation_id: str, summary: str, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The POST decorator every workflow step shares."""
    return router.post(
        f"/deletion-requests/{{request_id}}/{path}",
        operation_id=operation_id,
        response_model=DeletionRequestDetail,
        responses=WRITE_RESPONSES,
        summary=summary,
        description=description,
        dependencies=[Depends(conditional_write)],
    )


@_write_route(
    "verify",
    "verify_deletion_request",
    "Start identity verification",
    "received -> verifying.",
)
def verify_deletion_request(
    request_id: RequestId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """received -> verifying."""
    step = _step(session, "verify", lambda dr, ctx: workflow.verify(dr))
    return _act(request, session, user, request_id, None, step)


@_write_route(
    "mark-ready",
    "mark_deletion_request_ready",
    "Record the verified identity",
    "verifying -> ready. Records who verified the subject's identity and how; that person may"
    " not approve the erasure (four eyes).",
)
def mark_deletion_request_ready(
    request_id: RequestId, body: MarkReadyIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """verifying -> ready, recording who verified the identity and how."""
    step = _step(
        session,
        "mark_ready",
        lambda dr, ctx: workflow.mark_ready(dr, user, ctx.now, body.method, body.note),
        lambda dr: f"Identity verified by {body.method}" + (f": {body.note}" if body.note else ""),
    )
    return _act(request, session, user, request_id, body, step)


@_write_route(
    "approve",
    "approve_deletion_request",
    "Approve the erasure",
    "ready -> approved. 409 `four_eyes_required` when you verified the identity yourself.",
)
def approve_deletion_request(
    request_id: RequestId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """ready -> approved, by someone other than the verifier."""
    step = _step(session, "approve", lambda dr, ctx: workflow.approve(session, dr, user, ctx.now))
    return _act(request, session, user, request_id, None, step)


@_write_route(
    "execute",
    "execute_deletion_request",
    "Carry out the erasure",
    "approved -> completed. Pseudonymises the subject's personal data wherever it is kept"
    " (never undoable), stores the result per category, and queues the written confirmation"
    " (letter and email) in the outbox, all in one transaction.",
)
def execute_deletion_request(
    request_id: RequestId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """approved -> completed: erase, record the result, queue the written confirmation."""

    def perform(dr: DeletionRequest, ctx: WriteContext) -> None:
        workflow.execute(session, ctx, dr)

    return _act(request, session, user, request_id, None, perform)


@_write_route(
    "reject",
    "reject_deletion_request",
    "Reject the request",
    "Any open state -> rejected. The reason is sent to the subject (letter and email), with"
    " their right to complain.",
)
def reject_deletion_request(
    request_id: RequestId, body: ReasonIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Any open state -> rejected, with a reason the subject is told."""
    step = _step(
        session,
        "reject",
        lambda dr, ctx: workflow.reject(session, dr, ctx.now, body.reason),
        lambda dr: body.reason,
    )
    return _act(request, session, user, request_id, body, step)


@_write_route(
    "extend",
    "extend_deletion_request",
    "Extend the deadline",
    "Once, by up to 60 days, within the first month (GDPR Art. 12(3)). The reason and the new"
    " date are sent to the subject (letter and email).",
)
def extend_deletion_request(
    request_id: RequestId, body: ExtendIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Push the due date out once, with a reason the subject is told."""
    step = _step(
        session,
        "extend",
        lambda dr, ctx: workflow.extend(session, dr, ctx.now, body.reason, body.days),
        lambda dr: body.reason,
    )
    return _act(request, session, user, request_id, body, step)
