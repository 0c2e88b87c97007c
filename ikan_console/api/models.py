"""The platform's resources as the console reads them (pydantic, tolerant of extra fields)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

ROLE_LABELS = {
    "rmc": "Relocation Manager",
    "operations": "Operations",
    "admin": "Admin",
    "supplier": "Supplier",
    "traveler": "Traveler",
}
CONSOLE_ROLES = frozenset({"operations", "admin"})


class Resource(BaseModel):
    """Base of every response model: extra fields from a newer platform are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class User(Resource):
    """A platform user."""

    id: int
    email: str
    name: str
    role: str

    @property
    def role_label(self) -> str:
        """The role as people say it."""
        return ROLE_LABELS.get(self.role, self.role)


class SandboxUser(Resource):
    """A seeded user offered on the sandbox sign-in screen."""

    email: str
    name: str
    role: str
    role_label: str


class Tokens(Resource):
    """A platform session as returned by exchange and refresh."""

    access_token: str
    expires_in: int
    refresh_token: str
    user: User

    def __repr__(self) -> str:
        return f"Tokens(user={self.user.email!r}, access_token=<redacted>)"


class Queue(Resource):
    """A server-defined booking queue."""

    id: str
    name: str
    description: str = ""
    count: int
    sla_breached: int = 0


class Named(Resource):
    """A referenced record."""

    id: int
    name: str


class Person(Resource):
    """A referenced user."""

    id: int
    name: str
    email: str


class Booking(Resource):
    """An accommodation booking."""

    id: int
    reference: str
    client: Named
    traveller_name: str
    traveller_email: str
    home_city: str
    destination_city: str
    accommodation_type: str
    property_name: str
    supplier: Named
    check_in: date
    check_out: date
    nights: int
    nightly_rate_minor: int
    currency: str
    priority: str
    status: str
    sla_due_at: datetime
    sla_breached: bool
    assignee: Person | None
    supplier_reference: str | None = None
    status_reason: str | None = None
    escalated: bool = False
    # Once set, the supplier sees the booking; resuming one held before it was sent makes it new.
    sent_to_supplier_at: datetime | None = None
    version: int

    @property
    def nightly_rate(self) -> str:
        """The nightly rate with its currency."""
        return f"{self.nightly_rate_minor / 100:,.2f} {self.currency}"


class Note(Resource):
    """An operator's working note on a booking (never shown to travellers or suppliers)."""

    id: int
    booking_id: int
    author: Person
    body: str
    created_at: datetime
    version: int


class Actor(Resource):
    """Who made a write."""

    id: int | None
    email: str
    role: str


class AuditEvent(Resource):
    """An audited write with its before and after states."""

    id: int
    occurred_at: datetime
    actor: Actor
    action: str
    action_description: str = ""
    entity_type: str
    entity_id: str
    entity_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_fields: list[str] = []
    request_id: str
    reason: str | None = None
    reverts_event_id: int | None = None
    undoable: bool
    undo_expires_at: datetime | None = None
    undone_by_event_id: int | None = None


class UndoResult(Resource):
    """The new undo event and the event it reverted."""

    undo_event: AuditEvent
    reverted_event: AuditEvent


class DeletionRequest(Resource):
    """A data subject's deletion request."""

    id: int
    reference: str
    subject_name: str
    subject_email: str
    client: Named | None = None
    channel: str
    status: str
    received_at: datetime
    due_at: datetime
    overdue: bool
    extension_reason: str | None = None
    extended_at: datetime | None = None
    verified_at: datetime | None = None
    verified_by_id: int | None = None
    verification_method: str | None = None
    verification_note: str | None = None
    approved_by_id: int | None = None
    approved_at: datetime | None = None
    completed_at: datetime | None = None
    rejection_reason: str | None = None
    result: dict[str, Any] | None = None
    version: int


class ScopeCategory(Resource):
    """One kind of the subject's personal data and what erasure does with it."""

    category: str
    label: str
    retention_rule: str
    count: int
    erase: int
    pseudonymise: int
    retain: int
    legal_basis: list[str] = []
    retain_until: date | None = None


class DeletionPreview(Resource):
    """What executing a deletion request would do, per data category, worked out now."""

    request_id: int
    reference: str
    status: str
    evaluated_at: datetime
    categories: list[ScopeCategory]
    warnings: list[str] = []


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One keyset page of a list."""

    model_config = ConfigDict(extra="ignore")
    items: list[T]
    next_cursor: str | None = None
    total: int | None = None
