"""Conditional writes (ETag / If-Match) and idempotent action POSTs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError

from ikan_platform.errors import Problem
from ikan_platform.models import IdempotencyRecord, User
from ikan_platform.services.audit import Actor, WriteContext

IDEMPOTENCY_TTL = timedelta(hours=24)
# Our ETags are strong ("3"); If-Match compares strongly (RFC 9110 13.1.1), so W/ never matches.
_ETAG = re.compile(r'^\s*"(\d+)"\s*$')


def etag(version: int) -> str:
    """The ETag of an entity version."""
    return f'"{version}"'


IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The strong ETag you last read, e.g. "3", or a list of strong tags that'
        ' matches when any is current ("2", "3"); 428 without it, or with * or a weak W/ tag;'
        " 412 when stale.",
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1-200 characters, e.g. a UUID: a retry with the same key and body replays"
        " the first response and writes nothing (keys live 24 hours).",
    ),
]


def conditional_write(if_match: IfMatchHeader = None, key: IdempotencyKeyHeader = None) -> None:
    """Declares the headers of a conditional, idempotent write (the route checks them)."""


def idempotent_create(key: IdempotencyKeyHeader = None) -> None:
    """Declares the header of an idempotent POST that creates or acts without a version."""


def write_context(request: Request, user: User) -> WriteContext:
    """Actor, request id and server time for an audited write."""
    return WriteContext(
        Actor.of(user), request.state.request_id, request.app.state.settings.clock()
    )


def check_if_match(request: Request, version: int, current: Callable[[], Any]) -> None:
    """428 without a usable If-Match; 412 (with the current representation) when it is stale.

    `If-Match: *` (any version) and weak tags (`W/"3"`) are refused with 428, also inside a list:
    both would let a writer who never read the current version overwrite it, which If-Match
    exists to prevent. A list of strong tags (`"2", "3"`) matches when any of them is the current
    version (RFC 9110 13.1.1). `current` is also kept for the race handler (`app.py`): a write
    that passes this check but loses to a concurrent one at flush answers 412 with the state
    that won.
    """
    header = request.headers.get("if-match")
    if header is None:
        raise Problem(
            428,
            "if_match_required",
            "If-Match required",
            detail="Send the ETag you last read in If-Match, so you never overwrite a"
            " change you have not seen.",
        )
    members = [m.strip() for m in header.split(",")]
    loose = next((m for m in members if m == "*" or m.startswith("W/")), None)
    if loose is not None:
        sent = "If-Match: * matches any version" if loose == "*" else "A weak ETag (W/...)"
        raise Problem(
            428,
            "if_match_required",
            "A strong If-Match is required",
            detail=f"{sent}, so it cannot stop you overwriting a change you have not seen."
            ' Send the strong ETag you last read from GET, e.g. If-Match: "3".',
        )
    request.state.reload_current = current
    sent_versions = {int(m.group(1)) for m in map(_ETAG.match, members) if m is not None}
    if version not in sent_versions:
        raise Problem(
            412,
            "stale_version",
            "Changed since you loaded it",
            detail=f"Someone changed this record (now version {version}); review it and try again.",
            current=current(),
            headers={"ETag": etag(version)},
        )


def _body_hash(request: Request, body: Any) -> str:
    canonical = json.dumps(
        [request.method, request.url.path, body.model_dump(mode="json") if body else None],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(
    request: Request,
    session: Session,
    user: User,
    body: Any,
    action: Callable[[], tuple[Any, dict[str, str]]],
    status_code: int = 200,
) -> JSONResponse:
    """Run `action` once per Idempotency-Key; a replay returns the first response, writing nothing.

    `action` performs its writes in `session` and returns (JSON body, headers); the key is stored
    in the same transaction, so either both the write and the key land or neither does.
    """
    key = request.headers.get("idempotency-key")
    now = request.app.state.settings.clock()
    if key is None:
        with _race_noted(request, session):
            content, headers = action()
            session.commit()
        return JSONResponse(content, status_code=status_code, headers=headers)
    if not 1 <= len(key) <= 200:
        raise Problem(
            400,
            "invalid_idempotency_key",
            "Invalid Idempotency-Key",
            detail="Use 1 to 200 characters, e.g. a UUID.",
        )
    body_hash = _body_hash(request, body)
    session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - IDEMPOTENCY_TTL)
    )
    replay = _find(session, user.id, key)
    if replay is not None:
        return _replay(replay, body_hash)
    # Claim the key before acting: a retry racing this request (another process, a double click)
    # waits on the unique index until this transaction ends, then replays what it wrote,
    # instead of acting on the same stale version and getting a confusing 412.
    record = IdempotencyRecord(
        user_id=user.id,
        key=key,
        method=request.method,
        path=request.url.path,
        body_hash=body_hash,
        status_code=status_code,
        response={},
        headers={},
        created_at=now,
    )
    session.add(record)
    try:
        session.flush()
    except IntegrityError:  # the same key won the race in another request or process
        session.rollback()
        replay = _find(session, user.id, key)
        if replay is None:
            raise
        return _replay(replay, body_hash)
    with _race_noted(request, session):
        content, headers = action()
        record.response, record.headers = content, headers
        session.commit()
    return JSONResponse(content, status_code=status_code, headers=headers)


@contextmanager
def _race_noted(request: Request, session: Session) -> Iterator[None]:
    """On a lost race (the version moved between If-Match and flush), keep the winning state.

    The optimistic lock raises StaleDataError at flush; the handler in app.py answers 412. It
    runs after this session is gone, so the current representation is read here, after the
    rollback, and left on the request for it.
    """
    try:
        yield
    except StaleDataError:
        session.rollback()
        reload = getattr(request.state, "reload_current", None)
        if reload is not None:
            with suppress(ObjectDeletedError):  # deleted meanwhile: nothing current to show
                request.state.race_current = reload()
        raise


def _find(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    ).first()


def _replay(record: IdempotencyRecord, body_hash: str) -> JSONResponse:
    if record.body_hash != body_hash:
        raise Problem(
            422,
            "idempotency_key_reused",
            "Idempotency-Key reused",
            detail="This key was used for a different request; use a new key.",
        )
    headers = {**record.headers, "Idempotent-Replayed": "true"}
    return JSONResponse(record.response, status_code=record.status_code, headers=headers)
