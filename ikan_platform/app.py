"""The platform's FastAPI application, built from settings (no globals, one per test)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm.exc import StaleDataError

from ikan_platform.conditions import etag
from ikan_platform.db import make_engine, make_sessionmaker
from ikan_platform.errors import (
    Problem,
    document_problems,
    install_error_handlers,
    problem_response,
)
from ikan_platform.policy import PUBLIC_OPERATIONS
from ikan_platform.settings import PlatformSettings

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def create_app(settings: PlatformSettings, engine: Engine | None = None) -> FastAPI:
    """Build the API on a database whose schema is already migrated (`ikan-platform migrate`)."""
    from ikan_platform.routes import audit, auth, bookings, deletion_requests, users
    from ikan_platform.security import load_or_create_secret

    engine = engine or make_engine(settings.database_url)
    app = FastAPI(
        title="ikan platform API",
        version="1.0.0",
        description="The ikan platform's v1 API: bookings, audit trail with 24-hour undo, and "
        "data-subject deletion requests. Errors are RFC 9457 problem+json with a "
        "stable `code` (docs/errors.md).",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    with app.state.sessionmaker() as session:
        app.state.secret = load_or_create_secret(session, settings.token_secret)
    install_error_handlers(app)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        # A write that passed If-Match lost to a concurrent one at flush; `conditions` read the
        # winning state after the rollback, so this 412 carries `current` like any other.
        current = getattr(request.state, "race_current", None)
        extra: dict[str, Any] = {}
        headers = {}
        if isinstance(current, dict):
            extra["current"] = current
            if isinstance(current.get("version"), int):
                headers["ETag"] = etag(current["version"])
        return problem_response(
            Problem(
                412,
                "stale_version",
                "Changed since you loaded it",
                detail="Someone changed this record at the same moment; review it and try again.",
                headers=headers,
                **extra,
            ),
            request,
        )

    @app.middleware("http")
    async def _request_id(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        given = request.headers.get("x-request-id", "")
        request.state.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        if b"%00" in request.scope.get("query_string", b""):
            # No database column can hold a NUL (PostgreSQL refuses it): say so, never a 500.
            response = problem_response(
                Problem(400, "bad_request", "Bad request", detail="NUL in the query string."),
                request,
            )
        else:
            response = await call_next(request)
        response.headers["X-Request-Id"] = request.state.request_id
        return response

    @app.get("/healthz", operation_id="health", tags=["meta"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    for module in (auth, bookings, audit, deletion_requests, users):
        app.include_router(module.router)
    _document(app)
    return app


def _document(app: FastAPI) -> None:
    """Serve an OpenAPI document whose error responses are the problem+json actually sent."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(generate(), PUBLIC_OPERATIONS)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
