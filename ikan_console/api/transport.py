"""The console's one HTTP connection to the platform: how every request is sent and answered.

Knows nothing of Textual. Every write sends an Idempotency-Key and is retried once with the same
key when the answer was lost, so a flaky network never writes twice; writes that change a record
also send If-Match with the version the user saw (adding a note changes none, so it sends none).

A write whose answer is still lost after the retry raises `OutcomeUnknown`: it may have been
applied. Its key is kept, and the same write sent again (same user, path, version and body) goes
with the same key, so the platform replays its first answer instead of acting twice or
answering 412 to the user's own change. The key is forgotten once any answer arrives.

Only this module and `session_auth.py` touch httpx exceptions; `client.py` holds the calls.
"""

from __future__ import annotations

import json as jsonlib
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ikan_console.api.errors import (
    ApiError,
    MalformedResponse,
    OutcomeUnknown,
    PlatformUnreachable,
    ReadOnlyProfile,
    error_for,
)
from ikan_console.api.models import Tokens, User
from ikan_console.api.session_auth import PlatformAuth

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


class PlatformTransport:
    """One long-lived httpx.AsyncClient to one platform: send, read, write (no endpoints)."""

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
            body = json_or_none(response)
            if write and response.status_code in GATEWAY_FAILURES and not _is_problem(body):
                raise _outcome_unknown()
            raise error_for(response.status_code, body)
        return response

    async def _get(self, model: type[M], path: str, **params: Any) -> M:
        response = await self._send("GET", path, params=params)
        return parse(model, response)

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
        return parse(model, response)

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


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def json_list(response: httpx.Response) -> list[Any]:
    body = json_or_none(response)
    if not isinstance(body, list):
        raise MalformedResponse("The platform sent an unexpected answer (expected a list).")
    return body


def parse_obj(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise MalformedResponse(
            f"The platform's answer did not match the API contract ({model.__name__}).",
            hint="The console may be older than the platform; update it.",
        ) from None


def parse(model: type[M], response: httpx.Response) -> M:
    return parse_obj(model, json_or_none(response))
