"""Sign-in: trade an identity provider's ID token for a platform session; refresh; sign out."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ikan_platform.errors import Problem
from ikan_platform.models import ROLE_LABELS, RefreshToken, User
from ikan_platform.routing import JsonBodyRoute
from ikan_platform.schemas import (
    ExchangeIn,
    NonceOut,
    RefreshIn,
    SandboxUser,
    TokenOut,
    UserOut,
)
from ikan_platform.security import current_user, get_session, hash_token, issue_access_token

router = APIRouter(prefix="/v1", tags=["auth"], route_class=JsonBodyRoute)
SessionDep = Annotated[Session, Depends(get_session)]
AUTH_ERRORS = {
    401: {"description": "Not signed in: the token was refused"},
    403: {"description": "The identity is valid but not provisioned or not allowed"},
    503: {"description": "The identity provider's signing keys could not be fetched"},
}


def user_out(user: User) -> dict:
    """A user as the API shows them."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "active": user.active,
        "version": user.version,
    }


def _session_for(session: Session, request: Request, user: User, family: str | None) -> dict:
    settings = request.app.state.settings
    now: datetime = settings.clock()
    access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
    refresh_ttl = timedelta(seconds=settings.refresh_token_ttl_seconds)
    refresh = secrets.token_urlsafe(32)
    family = family or secrets.token_hex(16)
    session.add(
        RefreshToken(
            token_hash=hash_token(refresh),
            user_id=user.id,
            family=family,
            issued_at=now,
            expires_at=now + refresh_ttl,
        )
    )
    session.commit()
    secret = request.app.state.secret
    return {
        "access_token": issue_access_token(user, secret, now, access_ttl, session_id=family),
        "token_type": "bearer",
        "expires_in": settings.access_token_ttl_seconds,
        "refresh_token": refresh,
        "refresh_expires_in": settings.refresh_token_ttl_seconds,
        "user": user_out(user),
    }


def _sandbox_user(session: Session, request: Request, email: str) -> User:
    if not request.app.state.settings.sandbox:
        raise Problem(
            400,
            "provider_not_enabled",
            "Provider not enabled",
            detail="The sandbox provider exists only on a platform run with --sandbox.",
        )
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        raise Problem(
            403, "user_not_provisioned", "No such user", detail=f"{email} is not a sandbox user."
        )
    return user


@router.post(
    "/auth/exchange", operation_id="exchange_token", response_model=TokenOut, responses=AUTH_ERRORS
)
def exchange_token(body: ExchangeIn, request: Request, session: SessionDep) -> dict:
    """Verify the identity provider's ID token and open a platform session for its user."""
    if body.provider == "sandbox":
        user = _sandbox_user(session, request, body.id_token)
    else:
        from ikan_platform.routes.identity_exchange import user_for_id_token

        user = user_for_id_token(session, request, body)
    if not user.active:
        raise Problem(
            403,
            "user_deactivated",
            "Account deactivated",
            detail="This account has been deactivated; ask an ikan admin.",
        )
    return _session_for(session, request, user, None)


@router.get("/auth/nonce", operation_id="issue_nonce", response_model=NonceOut)
def issue_nonce(request: Request, session: SessionDep) -> dict:
    """A one-time nonce for the identity provider's sign-in request (Google); usable once, soon."""
    from ikan_platform.routes.identity_exchange import issue_nonce as issue

    return issue(session, request)


def _refused_refresh(detail: str) -> Problem:
    return Problem(401, "refresh_refused", "Sign in again", detail=detail)


@router.post(
    "/auth/refresh",
    operation_id="refresh_token",
    response_model=TokenOut,
    responses={401: {"description": "Refresh token unknown, expired, revoked or reused"}},
)
def refresh_token(body: RefreshIn, request: Request, session: SessionDep) -> dict:
    """Rotate: the old refresh token dies, a new one is issued; reuse revokes the whole family."""
    now = request.app.state.settings.clock()
    row = session.scalars(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_token(body.refresh_token))
        .with_for_update()
    ).first()
    if row is None:
        raise _refused_refresh("This session is not known; sign in again.")
    if row.revoked_at is not None:
        # A rotated token came back: someone kept a copy. End every session of that family.
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == row.family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.commit()
        raise _refused_refresh("This session was already used or signed out; sign in again.")
    if row.expires_at <= now:
        raise _refused_refresh("This session has expired; sign in again.")
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        raise _refused_refresh("This account is not active.")
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if result.rowcount != 1:  # a parallel refresh won the race
        session.rollback()
        raise _refused_refresh("This session was refreshed elsewhere; sign in again.")
    return _session_for(session, request, user, row.family)


@router.post(
    "/auth/logout",
    operation_id="logout",
    status_code=204,
    responses={204: {"description": "Signed out (also when already signed out)"}},
)
def logout(body: RefreshIn, request: Request, session: SessionDep) -> Response:
    """Revoke the refresh token's whole session family."""
    now = request.app.state.settings.clock()
    row = session.scalars(
        select(RefreshToken).where(RefreshToken.token_hash == hash_token(body.refresh_token))
    ).first()
    if row is not None:
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family == row.family, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        session.commit()
    return Response(status_code=204)


@router.get("/me", operation_id="get_me", response_model=UserOut)
def get_me(user: Annotated[User, Depends(current_user)]) -> dict:
    """The signed-in user and their role."""
    return user_out(user)


@router.get(
    "/sandbox/users",
    operation_id="list_sandbox_users",
    response_model=list[SandboxUser],
    responses={404: {"description": "Not a sandbox platform"}},
)
def list_sandbox_users(request: Request, session: SessionDep) -> list[dict]:
    """The seeded users to sign in as (sandbox mode only)."""
    if not request.app.state.settings.sandbox:
        raise Problem(
            404,
            "not_found",
            "Not a sandbox",
            detail="This platform is not running in sandbox mode.",
        )
    order = {
        role: i for i, role in enumerate(("operations", "admin", "rmc", "supplier", "traveler"))
    }
    users = session.scalars(select(User).where(User.active.is_(True))).all()
    users = sorted(users, key=lambda u: (order.get(u.role, 9), u.id))
    return [
        {"email": u.email, "name": u.name, "role": u.role, "role_label": ROLE_LABELS[u.role]}
        for u in users
    ]
