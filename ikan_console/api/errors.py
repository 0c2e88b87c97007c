"""The console's error tree, decoded from problem+json at the client boundary.

    IkanError
    ├── PlatformUnreachable      no answer: network down, DNS, refused, a read timed out,
    │   │                        a write that could not connect (nothing was changed)
    │   └── OutcomeUnknown       a write was sent but its answer was lost (timed out, or the
    │                            connection dropped): it may or may not have been made
    ├── MalformedResponse        the platform answered something that is not the contract
    ├── SessionExpired           sign in again (refresh refused or no session)
    ├── ReadOnlyProfile          a write asked of a read-only console; nothing was sent
    └── ApiError                 a problem+json answer, with `status`, `code`, `detail`
        ├── NotAllowed           403
        ├── NotFound             404
        ├── Conflict             409 (`current` holds the entity's state now, when sent)
        ├── UndoExpired          410
        ├── StaleVersion         412 (`current` holds the entity's state now)
        ├── PreconditionRequired 428
        └── Unprocessable        422 (validation, not undoable, key reused)

Only `api/client.py` touches httpx exceptions; screens catch `IkanError` and show `message`.
"""

from __future__ import annotations

from typing import Any


class IkanError(Exception):
    """Anything that went wrong talking to the platform; `message` is for people."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} {self.hint}"


class PlatformUnreachable(IkanError):
    """The request did not get an answer; nothing is known to have changed."""


class OutcomeUnknown(PlatformUnreachable):
    """A write reached the wire but no answer came back: it may or may not have been applied.

    The client keeps the write's Idempotency-Key, so sending the same write again (same record,
    same version, same body) is safe: the platform replays its first answer if it was applied.
    """


class MalformedResponse(IkanError):
    """The platform answered, but not in the shape of the API contract."""


class SessionExpired(IkanError):
    """The platform session ended; the user must sign in again."""


class ReadOnlyProfile(IkanError):
    """The console was opened read-only (profile ``read_only`` or ``--read-only``): no writes."""


class ApiError(IkanError):
    """A problem+json answer from the platform."""

    def __init__(
        self, status: int, code: str, title: str, detail: str | None, body: dict[str, Any]
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.body = body

    @property
    def current(self) -> dict[str, Any] | None:
        """The entity's current state, sent with 409 and 412 answers."""
        value = self.body.get("current")
        return value if isinstance(value, dict) else None


class NotAllowed(ApiError):
    """403: the role may not do this."""


class NotFound(ApiError):
    """404: gone, or not visible to this role."""


class Conflict(ApiError):
    """409: not possible in the record's current state."""


class UndoExpired(ApiError):
    """410: the 24-hour undo window has closed."""


class StaleVersion(ApiError):
    """412: someone changed the record since it was loaded."""


class PreconditionRequired(ApiError):
    """428: the write was sent without If-Match."""


class Unprocessable(ApiError):
    """422: the request was understood but refused."""


_BY_STATUS: dict[int, type[ApiError]] = {
    403: NotAllowed,
    404: NotFound,
    409: Conflict,
    410: UndoExpired,
    412: StaleVersion,
    422: Unprocessable,
    428: PreconditionRequired,
}


def error_for(status: int, body: Any) -> IkanError:
    """Decode an error response into the right exception."""
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return MalformedResponse(
            f"The platform answered {status} without a problem document.",
            hint="Try again; if it persists, report it with the time.",
        )
    title = str(body.get("title") or "Request refused")
    detail = body.get("detail")
    cls = _BY_STATUS.get(status, ApiError)
    if status == 401:
        return SessionExpired(str(detail or "Your session has ended."), hint="Sign in again.")
    if status >= 500:
        request_id = body.get("request_id")
        return ApiError(
            status,
            body["code"],
            title,
            f"The platform failed ({status}); nothing was changed."
            + (f" Request id {request_id}." if request_id else ""),
            body,
        )
    return cls(status, body["code"], title, str(detail) if detail else None, body)
