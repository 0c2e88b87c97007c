"""Users: who can be assigned bookings (Ops), and user management (Admin only).

Admins provision a user with a role and the identity-provider subject they sign in with, change
a role, deactivate and reactivate. Each is one audited write (undoable per `services/undo.ACTIONS`),
conditional on the user's version, and idempotent. A deactivated user's access tokens stop
working on their next request (`security.current_user` reads the user per request) and their
refresh tokens are revoked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import and_, func, or_, select, update
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
from ikan_platform.models import ROLE_LABELS, Client, Identity, RefreshToken, Supplier, User
from ikan_platform.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from ikan_platform.routes.auth import user_out
from ikan_platform.routing import JsonBodyRoute
from ikan_platform.schemas import (
    MAX_ID,
    AssignablePage,
    ReasonIn,
    Role,
    RoleChangeIn,
    UserAdminOut,
    UserCreateIn,
    UserPage,
)
from ikan_platform.search import contains
from ikan_platform.security import current_user, get_session
from ikan_platform.services.audit import IDENTITIES, record_change, record_create, snapshot

router = APIRouter(prefix="/v1", tags=["users"], route_class=JsonBodyRoute)
SessionDep = Annotated[Session, Depends(get_session)]
UserDep = Annotated[User, Depends(current_user)]
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such user"},
    409: {"description": "Email or identity taken, or an admin changing themselves"},
    412: {"description": "Stale If-Match; body carries the current user"},
    428: {"description": "If-Match missing"},
}


@router.get(
    "/assignable-users", operation_id="list_assignable_users", response_model=AssignablePage
)
def list_assignable_users(
    request: Request,
    user: UserDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Active Operations and Admin staff, who can hold bookings, by name (keyset pages)."""
    secret = request.app.state.secret
    conditions = [User.active.is_(True), User.role.in_(("operations", "admin"))]
    scope = "assignable"
    if cursor:
        last_name, last_id = decode_cursor(secret, scope, cursor)
        conditions.append(
            or_(User.name > last_name, and_(User.name == last_name, User.id > last_id))
        )
    rows = session.scalars(
        select(User).where(*conditions).order_by(User.name, User.id).limit(limit + 1)
    ).all()
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(secret, scope, [items[-1].name, items[-1].id])
    return {"items": [user_out(u) for u in items], "next_cursor": next_cursor}


def admin_view(user: User) -> dict[str, Any]:
    """A user as Admins see them: exactly the audited state, so audit diffs read the same."""
    return snapshot(user) or {}


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Problem(404, "not_found", "No such user", detail=f"User {user_id} does not exist.")
    return user


@router.get("/users", operation_id="list_users", response_model=UserPage)
def list_users(
    request: Request,
    user: UserDep,
    session: SessionDep,
    role: Role | None = None,
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Email or name contains")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> dict:
    """Every user, by id, filtered by role, status and a search on email or name."""
    secret = request.app.state.secret
    conditions = []
    if role is not None:
        conditions.append(User.role == role)
    if active is not None:
        conditions.append(User.active.is_(active))
    if q and q.strip():
        conditions.append(or_(contains(User.email, q), contains(User.name, q)))
    scope = f"users:{role}:{active}:{q}"
    if cursor:
        (last_id,) = decode_cursor(secret, scope, cursor)
        conditions.append(User.id > int(last_id))
    rows = session.scalars(select(User).where(*conditions).order_by(User.id).limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = encode_cursor(secret, scope, [items[-1].id]) if len(rows) > limit else None
    return {"items": [admin_view(u) for u in items], "next_cursor": next_cursor}


@router.get(
    "/users/{user_id}",
    operation_id="get_user",
    response_model=UserAdminOut,
    responses={404: {"description": "No such user"}},
)
def get_user(user_id: UserId, user: UserDep, session: SessionDep) -> JSONResponse:
    """One user with their identities, and the ETag to send with a change."""
    target = _user(session, user_id)
    return JSONResponse(admin_view(target), headers={"ETag": etag(target.version)})


def _check_links(
    session: Session, role: str, client_id: int | None, supplier_id: int | None
) -> None:
    """A relocation manager belongs to a client, a supplier user to a supplier, nobody else."""
    needs = {"rmc": "client_id", "supplier": "supplier_id"}.get(role)
    given = {"client_id": client_id, "supplier_id": supplier_id}
    for field, value in given.items():
        if field == needs and value is None:
            raise Problem(422, "invalid_user", "Missing link", detail=f"A {role} needs {field}.")
        if field != needs and value is not None:
            raise Problem(
                422, "invalid_user", "Unexpected link", detail=f"A {role} has no {field}."
            )
    if client_id is not None and session.get(Client, client_id) is None:
        raise Problem(422, "invalid_user", "No such client", detail=f"Client {client_id}?")
    if supplier_id is not None and session.get(Supplier, supplier_id) is None:
        raise Problem(422, "invalid_user", "No such supplier", detail=f"Supplier {supplier_id}?")


@router.post(
    "/users",
    operation_id="create_user",
    response_model=UserAdminOut,
    status_code=201,
    dependencies=[Depends(idempotent_create)],
    responses={409: {"description": "Email or identity already in use"}},
)
def create_user(
    body: UserCreateIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Provision a user with a role and the identity-provider subject they sign in with."""

    def run() -> tuple[dict, dict[str, str]]:
        email = body.email.strip().lower()
        _check_links(session, body.role, body.client_id, body.supplier_id)
        identity = body.identity.model_dump()
        _refuse_taken(session, email, identity)
        ctx = write_context(request, user)
        new = User(
            email=email,
            name=body.name.strip(),
            role=body.role,
            active=True,
            client_id=body.client_id,
            supplier_id=body.supplier_id,
            created_at=ctx.now,
        )
        try:
            record_create(session, ctx, new, "user.create", owned={IDENTITIES: [identity]})
        except IntegrityError:
            # A concurrent request provisioned the same email or subject between the check
            # above and this insert, and the unique index refused ours. Nothing of this request
            # is kept; the check, run again, now names what was taken.
            session.rollback()
            _refuse_taken(session, email, identity)
            raise
        return admin_view(new), {"ETag": etag(new.version), "Location": f"/v1/users/{new.id}"}

    return idempotent(request, session, user, body, run, status_code=201)


def _refuse_taken(session: Session, email: str, identity: dict[str, str]) -> None:
    """409 `email_taken` or `identity_taken` when another user already has either."""
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        raise Problem(409, "email_taken", "Email in use", detail=f"{email} already exists.")
    taken = session.scalar(
        select(Identity.user_id).where(
            Identity.provider == identity["provider"],
            Identity.issuer == identity["issuer"],
            Identity.subject == identity["subject"],
        )
    )
    if taken is not None:
        raise Problem(
            409,
            "identity_taken",
            "Identity in use",
            detail=f"That subject already signs in as user {taken}.",
        )


def _refuse_self(actor: User, target: User, doing: str) -> None:
    """Admins cannot lock themselves out (which also keeps at least one admin)."""
    if actor.id == target.id:
        raise Problem(
            409,
            "self_change_refused",
            "Not on yourself",
            detail=f"Ask another admin to {doing} your account.",
        )


def _change(
    request: Request,
    session: Session,
    actor: User,
    user_id: int,
    action: str,
    body: Any,
    check: Callable[[User], None],
    change: Callable[[User], None],
    reason: str | None,
) -> JSONResponse:
    """Load, check If-Match and `check`, apply `change` through the audit path, commit once."""

    def run() -> tuple[dict, dict[str, str]]:
        target = _user(session, user_id)
        check_if_match(request, target.version, lambda: admin_view(target))
        check(target)
        ctx = write_context(request, actor)
        record_change(session, ctx, target, action, lambda: change(target), reason=reason)
        return admin_view(target), {"ETag": etag(target.version)}

    return idempotent(request, session, actor, body, run)


def _require_active(target: User, active: bool) -> None:
    if target.active != active:
        state = "active" if target.active else "inactive"
        raise Problem(409, "invalid_state", f"Already {state}", detail=f"The user is {state}.")


@router.post(
    "/users/{user_id}/role",
    operation_id="change_user_role",
    response_model=UserAdminOut,
    dependencies=[Depends(conditional_write)],
    responses=WRITE_RESPONSES,
)
def change_user_role(
    user_id: UserId, body: RoleChangeIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Give a user another role; it applies from their next request."""

    def check(target: User) -> None:
        _refuse_self(user, target, "change the role of")
        _check_links(session, body.role, body.client_id, body.supplier_id)
        wanted = (body.role, body.client_id, body.supplier_id)
        if (target.role, target.client_id, target.supplier_id) == wanted:
            link = " with that client" if body.client_id else ""
            link = " with that supplier" if body.supplier_id else link
            raise Problem(
                409,
                "no_change",
                "Nothing to change",
                detail=f"{target.name} already has the role {ROLE_LABELS[body.role]}{link}.",
            )

    def change(target: User) -> None:
        target.role = body.role
        target.client_id = body.client_id
        target.supplier_id = body.supplier_id

    return _change(
        request, session, user, user_id, "user.change_role", body, check, change, body.reason
    )


@router.post(
    "/users/{user_id}/deactivate",
    operation_id="deactivate_user",
    response_model=UserAdminOut,
    dependencies=[Depends(conditional_write)],
    responses=WRITE_RESPONSES,
)
def deactivate_user(
    user_id: UserId, body: ReasonIn, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Stop a user signing in; their access tokens are refused from their next request."""
    now = request.app.state.settings.clock()

    def check(target: User) -> None:
        _refuse_self(user, target, "deactivate")
        _require_active(target, True)

    def change(target: User) -> None:
        target.active = False
        # Sessions end with the account; after a reactivation the user signs in again.
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == target.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    return _change(
        request, session, user, user_id, "user.deactivate", body, check, change, body.reason
    )


@router.post(
    "/users/{user_id}/reactivate",
    operation_id="reactivate_user",
    response_model=UserAdminOut,
    dependencies=[Depends(conditional_write)],
    responses=WRITE_RESPONSES,
)
def reactivate_user(
    user_id: UserId, request: Request, user: UserDep, session: SessionDep
) -> JSONResponse:
    """Let a deactivated user sign in again."""

    def change(target: User) -> None:
        target.active = True

    return _change(
        request,
        session,
        user,
        user_id,
        "user.reactivate",
        None,
        lambda target: _require_active(target, False),
        change,
        None,
    )
