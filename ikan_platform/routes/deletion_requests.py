"""Data-subject deletion requests: the list by deadline, and one request."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ikan_platform.conditions import etag
from ikan_platform.errors import Problem
from ikan_platform.models import Client, DeletionRequest, User
from ikan_platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from ikan_platform.schemas import DeletionRequestOut, DeletionRequestPage
from ikan_platform.security import current_user, get_session

router = APIRouter(prefix="/v1", tags=["deletion requests"])
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
OPEN_STATES = ("received", "verifying", "ready", "approved")


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
        "received_at": dr.received_at.isoformat(),
        "due_at": dr.due_at.isoformat(),
        "overdue": dr.status in OPEN_STATES and dr.due_at < now,
        "extension_reason": dr.extension_reason,
        "verified_at": dr.verified_at.isoformat() if dr.verified_at else None,
        "completed_at": dr.completed_at.isoformat() if dr.completed_at else None,
        "rejection_reason": dr.rejection_reason,
        "result": dr.result,
        "version": dr.version,
    }


@router.get(
    "/deletion-requests", operation_id="list_deletion_requests", response_model=DeletionRequestPage
)
def list_deletion_requests(
    request: Request,
    user: UserDep,
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Deletion requests, soonest deadline first."""
    state = request.app.state
    conditions = []
    if status:
        conditions.append(DeletionRequest.status == status)
    scope = f"deletion:{status}"
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
    now = state.settings.clock()
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(
            state.secret, scope, [items[-1].due_at.isoformat(), items[-1].id]
        )
    return {
        "items": [serialize_request(session, r, now) for r in items],
        "next_cursor": next_cursor,
    }


@router.get(
    "/deletion-requests/{request_id}",
    operation_id="get_deletion_request",
    response_model=DeletionRequestOut,
    responses={404: {"description": "No such request"}},
)
def get_deletion_request(
    request_id: int, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """One deletion request with its deadline."""
    dr = session.get(DeletionRequest, request_id)
    if dr is None:
        raise Problem(
            404,
            "not_found",
            "No such deletion request",
            detail=f"Deletion request {request_id} does not exist.",
        )
    body = serialize_request(session, dr, request.app.state.settings.clock())
    return JSONResponse(body, headers={"ETag": etag(dr.version)})
