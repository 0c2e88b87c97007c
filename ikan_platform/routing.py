"""The route class of every platform router: a JSON body sent as anything but JSON is a 415."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from email.message import Message

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from ikan_platform.errors import Problem


def is_json(content_type: str) -> bool:
    """application/json or any application/*+json, whatever parameters follow."""
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class JsonBodyRoute(APIRoute):
    """Answers 415 `unsupported_media_type` for a body that is not declared as JSON.

    FastAPI reads such a body as raw bytes and fails it as a shape error (422 naming every field),
    which sends a client looking in the wrong place. The check runs only once the request has
    failed validation, so everything that comes first (sign-in, role, the path) keeps its own
    answer; a request without Content-Type is read as JSON, as before.
    """

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        """The FastAPI handler, with body validation failures of non-JSON bodies told as 415."""
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                content_type = request.headers.get("content-type")
                if content_type and not is_json(content_type) and await request.body():
                    raise Problem(
                        415,
                        "unsupported_media_type",
                        "Unsupported media type",
                        detail=f"Send the body as JSON with Content-Type: application/json"
                        f" (got {content_type[:100]}).",
                    ) from None
                raise

        return checked
