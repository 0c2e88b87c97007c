"""RFC 9457 problem+json errors with stable `code` values (listed in docs/errors.md)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the client can act on; rendered as problem+json."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(f"{status} {code}: {detail or title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": f"https://docs.ikan.example/errors/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "instance": instance,
        }
        if self.detail:
            doc["detail"] = self.detail
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    """Render a Problem, with the request id so support can find the log line."""
    body = problem.body(request.url.path)
    body["request_id"] = getattr(request.state, "request_id", None)
    return JSONResponse(
        body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers
    )


# Every stable `code` the platform answers with: code -> (HTTP status, what it means and what to
# do). docs/errors.md is rendered from this table, and a test fails when the source raises a code
# that is not listed here.
ERROR_CODES: dict[str, tuple[int, str]] = {
    # framework-level
    "bad_request": (400, "The request could not be understood."),
    "validation_failed": (422, "A parameter or body field is invalid; `errors` lists each one."),
    "not_found": (404, "No such resource, or not visible to your role."),
    "method_not_allowed": (405, "The path exists but not with this HTTP method."),
    "not_acceptable": (406, "The server cannot produce the requested media type."),
    "unsupported_media_type": (415, "Send JSON bodies as application/json."),
    "http_error": (400, "Another HTTP-level error; see `status` and `detail`."),
    "internal_error": (500, "The platform failed and changed nothing; quote `request_id`."),
    # sign-in and sessions
    "unauthenticated": (401, "No, an invalid, or a deactivated user's access token."),
    "token_expired": (401, "The access token expired; refresh it."),
    "refresh_refused": (401, "The refresh token is unknown, expired, reused or revoked."),
    "forbidden": (403, "Your role may not call this operation (docs/rbac.md)."),
    "provider_not_enabled": (400, "That sign-in provider is not configured on this platform."),
    "user_not_provisioned": (403, "The identity is valid but no platform user is provisioned."),
    "user_deactivated": (403, "The account was deactivated by an admin."),
    "id_token_malformed": (401, "The ID token is not a well-formed JWT with the needed claims."),
    "id_token_wrong_type": (401, "An access token was sent where an ID token belongs."),
    "id_token_unsupported_alg": (401, "The ID token is signed with a refused algorithm."),
    "id_token_invalid_signature": (401, "The ID token's signature does not verify."),
    "id_token_keys_unavailable": (503, "The identity provider's keys could not be fetched."),
    "id_token_wrong_issuer": (401, "The ID token comes from another issuer or tenant."),
    "id_token_wrong_audience": (401, "The ID token was issued to another application."),
    "id_token_expired": (401, "The ID token has expired; sign in again."),
    "id_token_not_yet_valid": (401, "The ID token is not valid yet; check the clock."),
    "id_token_too_old": (401, "The ID token was issued too long ago; sign in again."),
    "id_token_nonce_mismatch": (401, "The ID token's nonce is missing or does not match."),
    "id_token_foreign_tenant": (403, "The Microsoft tenant is not allowed."),
    "id_token_wrong_domain": (403, "The Google account is outside the allowed domain."),
    "id_token_email_unverified": (403, "The Google account's email is not verified."),
    "id_token_replayed": (401, "This ID token was already exchanged once; sign in again."),
    "nonce_invalid": (401, "The sign-in nonce is unknown, expired or already used."),
    # conditional and idempotent writes
    "if_match_required": (
        428,
        'Send If-Match with the strong ETag you last read (`*` and weak `W/"..."` are refused).',
    ),
    "stale_version": (
        412,
        "Changed since you read it (or by a write at the same moment); `current` holds the"
        " new state.",
    ),
    "invalid_idempotency_key": (400, "The Idempotency-Key must be 1 to 200 characters."),
    "idempotency_key_reused": (422, "This Idempotency-Key was used for a different request."),
    "no_change": (409, "The write would change nothing (it is already so); nothing was recorded."),
    # lists
    "invalid_cursor": (400, "The cursor was tampered with or belongs to another list."),
    "unknown_queue": (400, "No queue with that id."),
    "naive_datetime": (400, "A time filter lacks a UTC offset."),
    "time_out_of_range": (400, "A time filter lies outside the years 1 to 9999 in UTC."),
    "unknown_action": (400, "No audited action has that name (docs/audit.md lists them)."),
    # bookings
    "invalid_state": (409, "The action is not possible in the record's current state."),
    "already_claimed": (409, "Someone (maybe you) already holds the booking."),
    "not_claimed": (409, "Nobody holds the booking, so it cannot be released."),
    "not_yours": (409, "Only the assignee or an admin can release the booking."),
    "already_escalated": (409, "The booking is already escalated."),
    "invalid_assignee": (422, "Bookings go to active Operations or Admin users only."),
    # audit and undo
    "undo_forbidden": (403, "Your role may not undo this kind of write; see `allowed_roles`."),
    "not_undoable": (422, "This kind of write can never be undone (docs/audit.md)."),
    "already_undone": (409, "The write was already undone; see `undone_by_event_id`."),
    "undo_window_passed": (410, "The 24-hour undo window has closed."),
    "entity_changed": (409, "The record changed after the event; `current` holds its state."),
    "entity_in_use": (409, "Undoing would remove a record that others now depend on."),
    # deletion requests
    "four_eyes_required": (409, "The person who verified the identity cannot also approve."),
    "already_extended": (409, "The deadline was already extended once (the law allows one)."),
    "extension_too_late": (409, "Extensions must be made within a month of receipt."),
    # users
    "email_taken": (409, "Another user already has this email."),
    "identity_taken": (409, "That identity-provider subject already signs in as another user."),
    "invalid_user": (422, "The role needs (or forbids) a client or supplier link."),
    "self_change_refused": (409, "Admins cannot deactivate themselves or change their own role."),
}

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    415: "unsupported_media_type",
}
_TITLES = {
    "bad_request": "Bad request",
    "unauthenticated": "Sign-in required",
    "forbidden": "Not allowed",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "not_acceptable": "Not acceptable",
    "unsupported_media_type": "Unsupported media type",
    "http_error": "HTTP error",
}


def render_markdown() -> str:
    """docs/errors.md: every stable code with its status and meaning."""
    lines = [
        "# Error codes",
        "",
        "Every error is an RFC 9457 `application/problem+json` document: `type`, `title`,"
        " `status`, `detail`, `instance`, the platform's `request_id`, and a stable `code`"
        " that clients branch on (never on `title` or `detail`, which are for people). Some"
        " codes add fields: `current` (412 `stale_version`, 409 `entity_changed`), `errors`"
        " (422 `validation_failed`), `undone_by_event_id` (409 `already_undone`),"
        " `allowed_roles` (403 `undo_forbidden`).",
        "",
        "Generated from `ikan_platform/errors.py` by `python -m ikan_platform.errors >"
        " docs/errors.md`; a test fails when the source raises a code that is not listed.",
        "",
        "| code | status | meaning |",
        "| --- | --- | --- |",
    ]
    for code, (status, meaning) in sorted(ERROR_CODES.items(), key=lambda kv: (kv[1][0], kv[0])):
        lines.append(f"| `{code}` | {status} | {meaning} |")
    return "\n".join(lines) + "\n"


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; branch on `code` (docs/errors.md).",
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "enum": sorted(ERROR_CODES)},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
    },
    "additionalProperties": True,
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def document_problems(openapi: dict[str, Any], public: frozenset[str]) -> dict[str, Any]:
    """Describe every error response as problem+json, and 401/403 on authenticated operations.

    FastAPI documents validation errors in its own shape; the platform answers them (and
    everything else) as problem+json, so the document says so.
    """
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    openapi["components"]["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "POST /v1/auth/exchange"}
    }
    for methods in openapi.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            responses.setdefault("400", {"description": "Bad request (e.g. a NUL character)"})
            if "requestBody" in operation:
                responses.setdefault(
                    "415", {"description": "The body is not JSON (send application/json)"}
                )
            if operation.get("operationId") not in public:
                operation["security"] = [{"bearer": []}]
                responses.setdefault("401", {"description": "Not signed in, or session ended"})
                responses.setdefault("403", {"description": "Your role may not do this"})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    response["content"] = _PROBLEM_CONTENT
    return openapi


def install_error_handlers(app: FastAPI) -> None:
    """Make every error, including framework ones, a problem+json document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            # pydantic prefixes our validators' messages with "Value error, ": noise to a reader.
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")).removeprefix("Value error, "),
            }
            for e in exc.errors()
        ]
        problem = Problem(
            422,
            "validation_failed",
            "The request is not valid",
            errors=errors,
            detail="; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors),
        )
        return problem_response(problem, request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        problem = Problem(exc.status_code, code, _TITLES[code], detail=str(exc.detail))
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        import logging

        logging.getLogger("ikan_platform").exception("unhandled error")
        problem = Problem(
            500,
            "internal_error",
            "Internal error",
            detail="The platform failed; nothing was changed. Quote the request id.",
        )
        return problem_response(problem, request)


if __name__ == "__main__":
    print(render_markdown(), end="")
