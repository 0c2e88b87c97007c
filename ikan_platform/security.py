"""Platform access tokens, the signed-in user, and the role check every route passes through."""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TypeGuard

import jwt
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ikan_platform.errors import Problem
from ikan_platform.models import RefreshToken, ServerSetting, User
from ikan_platform.policy import allowed
from ikan_platform.schemas import MAX_ID

ISSUER = "ikan-platform"
AUDIENCE = "ikan-api"


def load_or_create_secret(session: Session, configured: str | None) -> str:
    """The signing key: configured, or generated once and kept in the database for all processes."""
    if configured:
        return configured
    row = session.get(ServerSetting, "token_secret")
    if row is None:
        row = ServerSetting(key="token_secret", value=secrets.token_urlsafe(48))
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another process starting at the same moment stored its key first
            session.rollback()
            row = session.get(ServerSetting, "token_secret")
            assert row is not None
    return row.value


def issue_access_token(
    user: User, secret: str, now: datetime, ttl: timedelta, session_id: str | None = None
) -> str:
    """A short-lived HS256 token naming the user; the role is read from the database per request.

    `session_id` (claim `sid`) is the refresh-token family the token belongs to: signing out or
    a detected refresh-token reuse revokes the family, and its access tokens stop working at
    once instead of living out their minutes.
    """
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, secret, algorithm="HS256")


def _session_ended(session: Session, session_id: object, user_id: int, now: datetime) -> bool:
    """Whether the token's session was signed out or revoked (no live refresh token is left)."""
    if not isinstance(session_id, str):
        return True
    alive = session.scalars(
        select(RefreshToken.id)
        .where(
            RefreshToken.family == session_id,
            RefreshToken.user_id == user_id,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .limit(1)
    ).first()
    return alive is None


def hash_token(value: str) -> str:
    """SHA-256 hex of a secret value, for storage and comparison."""
    return hashlib.sha256(value.encode()).hexdigest()


def get_session(request: Request):  # type: ignore[no-untyped-def]
    """One database session per request."""
    with request.app.state.sessionmaker() as session:
        yield session


def _unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Sign-in required",
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="ikan"'},
    )


def _is_time(value: object) -> TypeGuard[int | float]:
    """A finite number of seconds (JSON lets a token say true, "soon" or 1e999 instead)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _user_id(subject: object) -> int | None:
    """The user id a token's `sub` names: decimal digits within the id column, else None."""
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdigit():
        return None
    value = int(subject)
    return value if 1 <= value <= MAX_ID else None


def current_user(request: Request, session: Session = Depends(get_session)) -> User:
    """The signed-in, active user, allowed by the role policy to call this route."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("Send a bearer access token from POST /v1/auth/exchange.")
    state = request.app.state
    now = state.settings.clock()
    try:
        claims = jwt.decode(
            token,
            state.secret,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"verify_exp": False, "verify_iat": False},  # the server clock judges
        )
    except jwt.PyJWTError:
        raise _unauthenticated("The access token is not valid.") from None
    # Signed with our key is not the same as issued by `issue_access_token`: a token whose claims
    # have the wrong shape (the key leaked, or an old build wrote it) is refused like any other.
    exp, user_id = claims.get("exp"), _user_id(claims.get("sub"))
    if not _is_time(exp) or user_id is None:
        raise _unauthenticated("The access token is not valid.")
    if exp <= now.timestamp():
        raise Problem(
            401,
            "token_expired",
            "Session expired",
            detail="The access token has expired; refresh it.",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    user = session.scalars(select(User).where(User.id == user_id)).first()
    if user is None or not user.active:
        raise _unauthenticated("This account is not active.")
    if "sid" in claims and _session_ended(session, claims["sid"], user_id, now):
        raise _unauthenticated("This session has ended (signed out or revoked); sign in again.")
    route = request.scope.get("route")
    operation_id = getattr(route, "operation_id", None) or ""
    if not allowed(operation_id, user.role):
        raise Problem(
            403,
            "forbidden",
            "Not allowed",
            detail=f"The {user.role} role may not do this ({operation_id}).",
        )
    request.state.user = user
    return user
