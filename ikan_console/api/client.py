"""PlatformClient: every call the console makes to the ikan platform, typed.

Knows nothing of Textual. How requests travel (retries, idempotency keys, unknown outcomes,
read-only refusal, decoding errors) is `transport.py`; this module names the endpoints.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from ikan_console.api.errors import (
    ApiError,
    IkanError,
    MalformedResponse,
    PlatformUnreachable,
    SessionExpired,
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
from ikan_console.api.session_auth import REFUSED
from ikan_console.api.transport import PlatformTransport, json_list, json_or_none, parse, parse_obj

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


class PlatformClient(PlatformTransport):
    """The console's connection to one platform, one method per call it makes."""

    # -- sign-in -----------------------------------------------------------------------------

    async def sandbox_users(self) -> list[SandboxUser]:
        """The sandbox's seeded users (sandbox platforms only)."""
        response = await self._send("GET", "/v1/sandbox/users")
        return [parse_obj(SandboxUser, u) for u in json_list(response)]

    async def exchange(self, provider: str, id_token: str, nonce: str | None = None) -> User:
        """Trade an identity provider's ID token for a platform session."""
        body = {"provider": provider, "id_token": id_token}
        if nonce:
            body["nonce"] = nonce
        response = await self._send("POST", "/v1/auth/exchange", json=body)
        tokens = parse(Tokens, response)
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
        body = json_or_none(await self._send("GET", "/v1/auth/nonce"))
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
        tokens = parse(Tokens, response)
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
        return [parse_obj(Queue, q) for q in json_list(response)]

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
