"""A client for platform tests that checks the audit trail around every write it sends.

`Api` signs in as seeded users and sends requests to the real app. Every write (POST, PUT, PATCH,
DELETE under /v1/, except sign-in) is checked like an auditor would:

- a refused write, or an idempotent replay, leaves no audit event and changes nothing;
- an accepted write leaves exactly one audit event per changed entity, all with the request's id;
- each event's `before` equals the entity as GET showed it just before the write (for the entity
  the path names) and the previous event's `after` (for every entity); its `after` equals the
  entity as GET shows it now (`None` when the write removed it).

The oracle reads entities through the public GET routes (as an admin), not through the audit
code's own snapshot function, so a write that records the wrong state fails the test.

Executing a deletion request is checked by its own rule (`_check_erasure`), because the erasure
rewrites the trail it joins (docs/deletion-requests.md). It must leave exactly the entities the
preview (read just before) said it would change, one event each, plus the request's own event:

- `erasure.pseudonymise` per changed booking, note or account: `after` equals the entity as GET
  shows it now; `before` continues the entity's (rewritten) history, except that each field the
  erasure changed reads "[erased]", and neither holds the subject's email;
- `deletion_request.execute` for the request: `before` and `after` equal what GET showed before
  and shows after, except `subject_name` / `subject_email`, which read as the pseudonym (the
  request record keeps the subject's name as proof; its audit trail does not).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from ikan_platform.models import AuditEvent

ORACLE_EMAIL = "sofia.marin@ikan.example"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EXECUTE = re.compile(r"^/v1/deletion-requests/(\d+)/execute$")
ERASED = "[erased]"
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")
_TARGETS = (
    (re.compile(r"^/v1/bookings/(\d+)/notes$"), None),  # creates a note
    (re.compile(r"^/v1/bookings/(\d+)/[a-z-]+$"), "booking"),
    (re.compile(r"^/v1/users/(\d+)/[a-z-]+$"), "user"),
    (re.compile(r"^/v1/deletion-requests/(\d+)/[a-z-]+$"), "deletion_request"),
)


def normalise(value: Any) -> Any:
    """Compare timestamps as instants, whatever ISO spelling (Z or +00:00) a route used."""
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, str) and _ISO.match(value):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value


def _ref_id(value: dict[str, Any] | None) -> int | None:
    return value["id"] if value else None


def booking_state(body: dict[str, Any]) -> dict[str, Any]:
    """The audited fields of a booking, read from GET /v1/bookings/{id}."""
    plain = [
        "id",
        "reference",
        "traveller_name",
        "traveller_email",
        "home_city",
        "destination_city",
        "accommodation_type",
        "property_name",
        "check_in",
        "check_out",
        "nightly_rate_minor",
        "currency",
        "priority",
        "status",
        "sla_due_at",
        "supplier_reference",
        "status_reason",
        "escalated",
        "sent_to_supplier_at",
        "version",
    ]
    state = {k: body[k] for k in plain}
    state["client_id"] = body["client"]["id"]
    state["supplier_id"] = body["supplier"]["id"]
    state["assignee_id"] = _ref_id(body["assignee"])
    return state


def note_state(body: dict[str, Any]) -> dict[str, Any]:
    """The audited fields of a note, read from the booking's notes list."""
    state = {k: body[k] for k in ("id", "booking_id", "body", "created_at", "version")}
    state["author_id"] = body["author"]["id"]
    return state


def deletion_state(body: dict[str, Any]) -> dict[str, Any]:
    """What GET /v1/deletion-requests/{id} shows of the audited fields (it hides a few)."""
    state = {k: v for k, v in body.items() if k not in ("client", "overdue")}
    state["client_id"] = _ref_id(body.get("client"))
    return state


def assert_state_matches(recorded: dict[str, Any] | None, shown: dict[str, Any] | None) -> None:
    """The audit event's state equals what the API shows, field by field."""
    if shown is None or recorded is None:
        assert recorded == shown, f"audit recorded {recorded!r}, API shows {shown!r}"
        return
    missing = sorted(set(shown) - set(recorded))
    assert not missing, f"audit state lacks {missing}"
    differing = {
        k: (recorded[k], shown[k]) for k in shown if normalise(recorded[k]) != normalise(shown[k])
    }
    assert not differing, f"audit state differs from the API (recorded, shown): {differing}"


@dataclass
class _Pending:
    max_event_id: int
    target: tuple[str, str] | None
    before: dict[str, Any] | None
    preview: dict[str, Any] | None = None  # an execute's scope, read just before it


def assert_erased_before(before: dict[str, Any] | None, previous: dict[str, Any] | None) -> None:
    """An erasure's `before`: the previous state, with (only) the changed fields as "[erased]"."""
    assert before is not None and previous is not None, "an erasure changes an existing record"
    assert set(before) == set(previous), f"erasure before has other fields: {sorted(before)}"
    erased = [k for k, v in before.items() if v == ERASED]
    assert erased, "an erasure event must mark what it erased"
    differing = {
        k: (before[k], previous[k])
        for k in before
        if k not in erased and normalise(before[k]) != normalise(previous[k])
    }
    assert not differing, f"erasure before does not continue the history: {differing}"


@dataclass
class Api:
    """Seeded users' sessions on one platform app, with the audit check on every write."""

    app: Any
    clock: Any
    client: httpx.AsyncClient = field(init=False)
    oracle: httpx.AsyncClient = field(init=False)
    checked_writes: int = 0
    _tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    _pending: dict[int, _Pending] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Two clients on the app: the tests' (checked) and the oracle's (unchecked)."""
        transport = httpx.ASGITransport(app=self.app)
        self.client = httpx.AsyncClient(
            transport=transport,
            base_url="http://platform",
            event_hooks={"request": [self._before_write], "response": [self._after_write]},
        )
        self.oracle = httpx.AsyncClient(transport=transport, base_url="http://platform")
        self.checked_events = 0

    async def aclose(self) -> None:
        """Close both clients."""
        await self.client.aclose()
        await self.oracle.aclose()

    # --- sessions -------------------------------------------------------------------------

    async def token(self, email: str) -> str:
        """A valid access token for a seeded user (signs in again after the clock moved)."""
        cached = self._tokens.get(email)
        if cached and (self.clock() - cached[1]).total_seconds() < 600:
            return cached[0]
        response = await self.oracle.post(
            "/v1/auth/exchange", json={"provider": "sandbox", "id_token": email}
        )
        if response.status_code != 200 and cached:
            return cached[0]  # e.g. deactivated since: their old token is what they still hold
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        self._tokens[email] = (token, self.clock())
        return token

    async def headers(self, email: str, **extra: str) -> dict[str, str]:
        """Authorization (and any extra) headers for `email`."""
        return {"Authorization": f"Bearer {await self.token(email)}", **extra}

    async def get(self, path: str, as_: str, **kwargs: Any) -> httpx.Response:
        """GET as a user."""
        return await self.client.get(path, headers=await self.headers(as_), **kwargs)

    async def post(
        self,
        path: str,
        as_: str,
        json: Any = None,
        if_match: str | int | None = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST as a user; `if_match` is an ETag or a version number, `key` an Idempotency-Key."""
        extra = dict(headers or {})
        if if_match is not None:
            extra["If-Match"] = if_match if isinstance(if_match, str) else f'"{if_match}"'
        if key is not None:
            extra["Idempotency-Key"] = key
        return await self.client.post(path, json=json, headers=await self.headers(as_, **extra))

    async def booking(self, booking_id: int, as_: str = ORACLE_EMAIL) -> dict[str, Any]:
        """A booking as GET shows it."""
        response = await self.get(f"/v1/bookings/{booking_id}", as_)
        assert response.status_code == 200, response.text
        return response.json()

    async def act(
        self, booking_id: int, action: str, as_: str, json: Any = None, **kw: Any
    ) -> httpx.Response:
        """POST a booking action with the booking's current version as If-Match."""
        version = (await self.booking(booking_id))["version"]
        return await self.post(
            f"/v1/bookings/{booking_id}/{action}", as_, json=json, if_match=version, **kw
        )

    async def events(self, **params: Any) -> list[dict[str, Any]]:
        """Audit events (newest first) as an admin sees them."""
        response = await self.get("/v1/audit-events", ORACLE_EMAIL, params=params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    # --- the oracle -----------------------------------------------------------------------

    async def state(self, entity_type: str, entity_id: str) -> dict[str, Any] | None:
        """The audited state of an entity as the public API shows it (None: it does not exist)."""
        auth = {"Authorization": f"Bearer {await self.token(ORACLE_EMAIL)}"}
        if entity_type == "booking_note":
            event = await self._latest_event(entity_type, entity_id)
            state = event["after"] or event["before"]
            response = await self.oracle.get(
                f"/v1/bookings/{state['booking_id']}/notes", headers=auth, params={"limit": 200}
            )
            notes = [n for n in response.json()["items"] if str(n["id"]) == entity_id]
            return note_state(notes[0]) if notes else None
        path, shape = {
            "booking": ("/v1/bookings/{}", booking_state),
            "user": ("/v1/users/{}", dict),
            "deletion_request": ("/v1/deletion-requests/{}", deletion_state),
        }[entity_type]
        response = await self.oracle.get(path.format(entity_id), headers=auth)
        if response.status_code == 404:
            return None
        assert response.status_code == 200, response.text
        return shape(response.json())

    async def _latest_event(self, entity_type: str, entity_id: str) -> dict[str, Any]:
        auth = {"Authorization": f"Bearer {await self.token(ORACLE_EMAIL)}"}
        response = await self.oracle.get(
            "/v1/audit-events",
            headers=auth,
            params={"entity_type": entity_type, "entity_id": entity_id, "limit": 1},
        )
        return response.json()["items"][0]

    def _max_event_id(self) -> int:
        with self.app.state.sessionmaker() as session:
            return session.scalar(select(func.max(AuditEvent.id))) or 0

    def _new_events(self, after_id: int) -> list[AuditEvent]:
        with self.app.state.sessionmaker() as session:
            return list(
                session.scalars(
                    select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
                )
            )

    def _previous_after(self, event: AuditEvent) -> tuple[bool, Any]:
        with self.app.state.sessionmaker() as session:
            previous = session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.entity_type == event.entity_type,
                    AuditEvent.entity_id == event.entity_id,
                    AuditEvent.id < event.id,
                )
                .order_by(AuditEvent.id.desc())
                .limit(1)
            ).first()
            return (previous is not None, previous.after if previous else None)

    async def _target(self, request: httpx.Request) -> tuple[str, str] | None:
        path = request.url.path
        undo = re.match(r"^/v1/audit-events/(\d+)/undo$", path)
        if undo:
            with self.app.state.sessionmaker() as session:
                event = session.get(AuditEvent, int(undo.group(1)))
                return (event.entity_type, event.entity_id) if event else None
        for pattern, entity_type in _TARGETS:
            match = pattern.match(path)
            if match:
                return (entity_type, match.group(1)) if entity_type else None
        return None

    async def _before_write(self, request: httpx.Request) -> None:
        if request.method not in WRITES or not request.url.path.startswith("/v1/"):
            return
        target = await self._target(request)
        before = await self.state(*target) if target else None
        pending = _Pending(self._max_event_id(), target, before)
        execute = _EXECUTE.match(request.url.path)
        if execute:
            auth = {"Authorization": f"Bearer {await self.token(ORACLE_EMAIL)}"}
            scope = await self.oracle.get(
                f"/v1/deletion-requests/{execute.group(1)}/preview", headers=auth
            )
            pending.preview = scope.json() if scope.status_code == 200 else None
        self._pending[id(request)] = pending

    async def _after_write(self, response: httpx.Response) -> None:
        pending = self._pending.pop(id(response.request), None)
        if pending is None:
            return
        await response.aread()
        events = self._new_events(pending.max_event_id)
        replayed = response.headers.get("idempotent-replayed") == "true"
        path = response.request.url.path
        if response.status_code >= 300 or replayed or path.startswith("/v1/auth/"):
            assert events == [], f"{path} -> {response.status_code} left audit events"
            if pending.target:
                assert normalise(await self.state(*pending.target)) == normalise(pending.before)
            return
        if pending.preview is not None:
            await self._check_erasure(response, pending, events)
        else:
            await self._check_events(response, pending, events)
        self.checked_writes += 1
        self.checked_events += len(events)

    async def _check_events(
        self, response: httpx.Response, pending: _Pending, events: list[AuditEvent]
    ) -> None:
        path = response.request.url.path
        entities = [(e.entity_type, e.entity_id) for e in events]
        assert events, f"{path} succeeded without an audit event"
        assert len(set(entities)) == len(entities), f"{path}: several events for one entity"
        request_id = response.headers["x-request-id"]
        assert {e.request_id for e in events} == {request_id}, "events lack the request id"
        if pending.target:
            assert pending.target in entities, f"{path}: no event for {pending.target}"
        for event in events:
            key = (event.entity_type, event.entity_id)
            if key == pending.target:
                assert_state_matches(event.before, pending.before)
            known, previous_after = self._previous_after(event)
            if known:
                assert normalise(event.before) == normalise(previous_after), (
                    f"{event.action}: before does not continue the entity's history"
                )
            assert_state_matches(event.after, await self.state(*key))

    async def _check_erasure(
        self, response: httpx.Response, pending: _Pending, events: list[AuditEvent]
    ) -> None:
        path = response.request.url.path
        assert pending.target is not None and pending.before is not None and pending.preview
        entities = [(e.entity_type, e.entity_id) for e in events]
        assert len(set(entities)) == len(entities), f"{path}: several events for one entity"
        assert {e.request_id for e in events} == {response.headers["x-request-id"]}
        changing = {
            (item["entity_type"], item["entity_id"])
            for category in pending.preview["categories"]
            for item in category["items"]
            if item["erase_fields"]
        }
        assert set(entities) == changing | {pending.target}, (
            f"{path}: events for {sorted(entities)}, the preview said {sorted(changing)}"
        )
        reference = pending.before["reference"]
        pseudonym = {
            "subject_name": f"Erased subject ({reference})",
            "subject_email": f"erased.{reference.lower()}@erased.invalid",
        }
        email = pending.before["subject_email"].lower()
        for event in events:
            key = (event.entity_type, event.entity_id)
            known, previous_after = self._previous_after(event)
            assert email not in json.dumps([event.before, event.after]).lower(), (
                f"{event.action} on {key} keeps the subject's email"
            )
            if key == pending.target:
                assert event.action == "deletion_request.execute"
                assert_state_matches(event.before, {**pending.before, **pseudonym})
                assert known and normalise(event.before) == normalise(previous_after)
                shown = await self.state(*key)
                assert shown is not None and shown["status"] == "completed"
                assert_state_matches(event.after, {**shown, **pseudonym})
            else:
                assert event.action == "erasure.pseudonymise"
                assert known, f"erased {key} had no history"
                assert_erased_before(event.before, previous_after)
                assert_state_matches(event.after, await self.state(*key))
