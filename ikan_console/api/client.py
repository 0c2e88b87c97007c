"""PlatformClient: every call the console makes to the ikan platform, typed, over one httpx client.

Knows nothing of Textual. Every write sends an Idempotency-Key and is retried once with the same
key when the answer was lost, so a flaky network never writes twice; writes that change a record
also send If-Match with the version the user saw (adding a note changes none, so it sends none).

A write whose answer is still lost after the retry raises `OutcomeUnknown`: it may have been
applied. Its key is kept, and the same write sent again (same user, path, version and body) goes
with the same key, so the platform replays its first answer instead of acting twice or
answering 412 to the user's own change. The key is forgotten once any answer arrives.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ikan_console.api.errors import (
    ApiError,
    IkanError,
    MalformedResponse,
    OutcomeUnknown,
    PlatformUnreachable,
    ReadOnlyProfile,
    SessionExpired,
    error_for,
)
from ikan_console.api.models import (
    AuditEvent,
    Booking,
    DeletionPreview,
    DeletionRequest,
    Note,
    Page,
    Queue,
    SandboxUser,
    Tokens,
    UndoResult,
    User,
)
from ikan_console.api.session_auth import REFUSED, PlatformAuth

M = TypeVar("M", bound=BaseModel)
USER_AGENT = "ikan-console/0.1"
# Failures before a request leaves this machine: the platform cannot have acted on it.
NOT_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)
# A gateway's own answer (no problem document): the platform behind it may have acted.
GATEWAY_FAILURES = frozenset({502, 503, 504})
# The platform keeps an Idempotency-Key for 24 hours; past that a reused key would be a new write.
KEY_REUSE_SECONDS = 23 * 3600
# (user id, method, path, If-Match version, canonical body) of a write
WriteSignature = tuple[int | None, str, str, int | None, str]
DELETION_ACTIONS = frozenset({"verify", "mark-ready", "approve", "execute", "reject", "extend"})
BOOKING_ACTIONS = frozenset(
    {
        "claim",
        "release",
        "send-to-supplier",
        "resume",
        "cancel",
        "hold",
        "escalate",
        "decline",
        "confirm",
        "assign",
    }
)


class PlatformClient:
    """The console's connection to one platform (one long-lived httpx.AsyncClient)."""

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        on_tokens: Callable[[Tokens | None], None] | None = None,
        read_only: bool = False,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # A console-side safety for looking without touching (say, production): every write
        # is refused here before it is sent. Permissions are still the platform's to enforce.
        self.read_only = read_only
        self.auth = PlatformAuth(on_tokens, base_path=httpx.URL(self.base_url).path)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            auth=self.auth,
            timeout=httpx.Timeout(timeout, connect=5.0),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        # Writes whose outcome is unknown: their Idempotency-Key and when it was first sent.
        self._unanswered: dict[WriteSignature, tuple[str, float]] = {}

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def user(self) -> User | None:
        """The signed-in user, if any."""
        return self.auth.tokens.user if self.auth.tokens else None

    # -- transport ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        write: bool = False,
    ) -> httpx.Response:
        """Send once (a write: twice, with the same key, when the answer was lost)."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        attempts = 2 if write else 1
        may_have_arrived = False  # whether any attempt may have reached the platform
        for _attempt in range(attempts):
            try:
                response = await self._http.request(
                    method, path, json=json, params=clean, headers=headers
                )
            except NOT_SENT:
                failure = "connect"
            except httpx.TimeoutException:
                failure, may_have_arrived = "timeout", True
            except httpx.TransportError:  # dropped while sending or before the answer
                failure, may_have_arrived = "dropped", True
            else:
                break
        else:
            if write and may_have_arrived:
                raise _outcome_unknown()
            if failure == "timeout":
                raise PlatformUnreachable(
                    "The platform did not answer in time.",
                    hint="Nothing was lost; try again in a moment.",
                )
            raise PlatformUnreachable(
                f"Cannot reach the platform at {self.base_url}.", hint=self._unreachable_hint()
            )
        if response.status_code >= 400:
            body = _json_or_none(response)
            if write and response.status_code in GATEWAY_FAILURES and not _is_problem(body):
                raise _outcome_unknown()
            raise error_for(response.status_code, body)
        return response

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        response = await self._send("GET", path, params=params)
        return _parse(model, response)

    async def _act(
        self, model: type[M], path: str, *, version: int | None = None, body: Any = None
    ) -> M:
        if self.read_only:
            raise ReadOnlyProfile(
                "This console is read-only: nothing was sent.",
                hint="Use a profile without read_only (and without --read-only) to make changes.",
            )
        signature = (self.user.id if self.user else None, "POST", path, version, _canonical(body))
        key = self._key_for(signature)
        headers = {"Idempotency-Key": key}
        if version is not None:
            headers["If-Match"] = f'"{version}"'
        try:
            response = await self._send("POST", path, json=body, headers=headers, write=True)
        except OutcomeUnknown:
            self._unanswered.setdefault(signature, (key, time.monotonic()))
            raise
        except PlatformUnreachable:
            if signature in self._unanswered:  # an earlier try of this write may have landed
                raise _outcome_unknown() from None
            raise
        except (ApiError, MalformedResponse):
            self._unanswered.pop(signature, None)  # the platform judged this write
            raise
        self._unanswered.pop(signature, None)
        return _parse(model, response)

    def _key_for(self, signature: WriteSignature) -> str:
        """The key of this write's unanswered earlier try, or a fresh one."""
        now = time.monotonic()
        for old, (_key, since) in list(self._unanswered.items()):
            if now - since > KEY_REUSE_SECONDS:
                del self._unanswered[old]
        kept = self._unanswered.get(signature)
        return kept[0] if kept else str(uuid.uuid4())

    def _unreachable_hint(self) -> str:
        host = httpx.URL(self.base_url).host
        if host in ("127.0.0.1", "localhost", "::1"):
            return "Is the platform running on this machine (ikan-platform serve)? Nothing changed."
        return "Check your network or VPN; nothing was changed."

    # -- sign-in -----------------------------------------------------------------------------

    async def sandbox_users(self) -> list[SandboxUser]:
        """The sandbox's seeded users (sandbox platforms only)."""
        response = await self._send("GET", "/v1/sandbox/users")
        return [_parse_obj(SandboxUser, u) for u in _json_list(response)]

    async def exchange(self, provider: str, id_token: str, nonce: str | None = None) -> User:
        """Trade an identity provider's ID token for a platform session."""
        body = {"provider": provider, "id_token": id_token}
        if nonce:
            body["nonce"] = nonce
        response = await self._send("POST", "/v1/auth/exchange", json=body)
        tokens = _parse(Tokens, response)
        self.auth.set_tokens(tokens)
        return tokens.user

    async def sign_out(self) -> None:
        """Revoke the session on the platform (best effort) and forget it here."""
        tokens = self.auth.tokens
        self.auth.set_tokens(None)
        if tokens is not None:
            # Offline: the refresh token expires on its own, and it is already gone here.
            with contextlib.suppress(IkanError):
                await self._send(
                    "POST", "/v1/auth/logout", json={"refresh_token": tokens.refresh_token}
                )

    async def issue_nonce(self) -> str:
        """A one-time nonce from the platform, for a provider that echoes it back (Google)."""
        body = _json_or_none(await self._send("GET", "/v1/auth/nonce"))
        if not isinstance(body, dict) or not isinstance(body.get("nonce"), str):
            raise MalformedResponse("The platform sent an unexpected answer (expected a nonce).")
        return body["nonce"]

    async def resume(self, refresh_token: str) -> User:
        """Restore a session from a stored platform refresh token (the platform rotates it)."""
        body = {"refresh_token": refresh_token}
        try:
            response = await self._send("POST", "/v1/auth/refresh", json=body)
        except (ApiError, MalformedResponse) as error:
            if getattr(error, "status", None) in REFUSED:
                raise SessionExpired("Your session has ended.", hint="Sign in again.") from None
            # A 5xx, a gateway's 429 or 404: nothing was said about the session, so keep it.
            raise PlatformUnreachable(
                "The platform could not resume your session just now.",
                hint="Your sign-in is kept; try again in a moment.",
            ) from None
        tokens = _parse(Tokens, response)
        self.auth.set_tokens(tokens)
        return tokens.user

    async def revoke(self, refresh_token: str) -> None:
        """End a stored session on the platform without resuming it; raises when unreachable."""
        await self._send("POST", "/v1/auth/logout", json={"refresh_token": refresh_token})

    async def me(self) -> User:
        """The signed-in user, as the platform sees them now."""
        return await self._get(User, "/v1/me")

    # -- bookings ----------------------------------------------------------------------------

    async def queues(self) -> list[Queue]:
        """Queues with counts."""
        response = await self._send("GET", "/v1/queues")
        return [_parse_obj(Queue, q) for q in _json_list(response)]

    async def bookings(
        self,
        *,
        queue: str | None = None,
        q: str | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[Booking]:
        """One page of bookings, soonest SLA first."""
        return await self._get(
            Page[Booking], "/v1/bookings", queue=queue, q=q, cursor=cursor, limit=limit
        )

    async def assignable_users(self) -> list[User]:
        """Active Operations and Admin staff, who can hold bookings (all pages: a team is small)."""
        team: list[User] = []
        cursor: str | None = None
        while True:
            page = await self._get(Page[User], "/v1/assignable-users", cursor=cursor, limit=200)
            team += page.items
            if page.next_cursor is None:
                return team
            cursor = page.next_cursor

    async def booking(self, booking_id: int) -> Booking:
        """One booking, fresh."""
        return await self._get(Booking, f"/v1/bookings/{booking_id}")

    async def booking_action(
        self, booking: Booking, action: str, body: dict[str, Any] | None = None
    ) -> Booking:
        """Run a booking action against the version the user saw."""
        if action not in BOOKING_ACTIONS:
            raise ValueError(f"unknown booking action {action!r}")
        return await self._act(
            Booking, f"/v1/bookings/{booking.id}/{action}", version=booking.version, body=body
        )

    async def booking_notes(
        self, booking_id: int, cursor: str | None = None, limit: int = 50
    ) -> Page[Note]:
        """One page of a booking's notes, newest first."""
        return await self._get(
            Page[Note], f"/v1/bookings/{booking_id}/notes", cursor=cursor, limit=limit
        )

    async def add_booking_note(self, booking_id: int, body: str) -> Note:
        """Add a note to a booking (no If-Match: a note changes no existing record)."""
        return await self._act(Note, f"/v1/bookings/{booking_id}/notes", body={"body": body})

    # -- audit -------------------------------------------------------------------------------

    async def audit_events(
        self,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        actor_id: int | None = None,
        action: str | None = None,
        request_id: str | None = None,
        since: datetime | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[AuditEvent]:
        """One page of audit events, newest first."""
        return await self._get(
            Page[AuditEvent],
            "/v1/audit-events",
            entity_type=entity_type,
            entity_id=entity_id,
            actor_id=actor_id,
            action=action,
            request_id=request_id,
            since=since.isoformat() if since else None,
            cursor=cursor,
            limit=limit,
        )

    async def audit_event(self, event_id: int) -> AuditEvent:
        """One audit event, fresh."""
        return await self._get(AuditEvent, f"/v1/audit-events/{event_id}")

    async def undo(self, event_id: int, reason: str) -> UndoResult:
        """Revert an audited write (the platform checks role, window and later changes)."""
        return await self._act(
            UndoResult, f"/v1/audit-events/{event_id}/undo", body={"reason": reason}
        )

    # -- deletion requests -------------------------------------------------------------------

    async def deletion_requests(
        self,
        *,
        status: str | None = None,
        open_only: bool | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> Page[DeletionRequest]:
        """One page of deletion requests, soonest deadline first."""
        return await self._get(
            Page[DeletionRequest],
            "/v1/deletion-requests",
            status=status,
            open=None if open_only is None else str(open_only).lower(),
            cursor=cursor,
            limit=limit,
        )

    async def deletion_request(self, request_id: int) -> DeletionRequest:
        """One deletion request, fresh."""
        return await self._get(DeletionRequest, f"/v1/deletion-requests/{request_id}")

    async def deletion_preview(self, request_id: int) -> DeletionPreview:
        """What erasure would do for this subject, per data category."""
        return await self._get(DeletionPreview, f"/v1/deletion-requests/{request_id}/preview")

    async def deletion_action(
        self, request: DeletionRequest, action: str, body: dict[str, Any] | None = None
    ) -> DeletionRequest:
        """Move a deletion request on (verify, mark-ready, approve, execute, reject, extend)."""
        if action not in DELETION_ACTIONS:
            raise ValueError(f"unknown deletion-request action {action!r}")
        return await self._act(
            DeletionRequest,
            f"/v1/deletion-requests/{request.id}/{action}",
            version=request.version,
            body=body,
        )


def _outcome_unknown() -> OutcomeUnknown:
    return OutcomeUnknown(
        "The platform did not answer; the change may or may not have been made.",
        hint="Press r to see the current state; trying again is safe.",
    )


def _canonical(body: Any) -> str:
    """The body as one string, so the same write is recognised whatever its key order."""
    return jsonlib.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _is_problem(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("code"), str)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _json_list(response: httpx.Response) -> list[Any]:
    body = _json_or_none(response)
    if not isinstance(body, list):
        raise MalformedResponse("The platform sent an unexpected answer (expected a list).")
    return body


def _parse_obj(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise MalformedResponse(
            f"The platform's answer did not match the API contract ({model.__name__}).",
            hint="The console may be older than the platform; update it.",
        ) from None


def _parse(model: type[M], response: httpx.Response) -> M:
    return _parse_obj(model, _json_or_none(response))
