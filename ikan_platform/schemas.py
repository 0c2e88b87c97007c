"""Request and response bodies of the v1 API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def iso(value: datetime) -> str:
    """A timestamp as the API writes it everywhere: RFC 3339 in UTC with `Z`, as pydantic does."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


Role = Literal["rmc", "operations", "admin", "supplier", "traveler"]
# Ids fit the database's integer columns, so an absurd id is a 422 (or 404), never a 500.
MAX_ID = 2**31 - 1
MAX_EVENT_ID = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]


def trimmed(min_length: int) -> AfterValidator:
    """Free text people write is stored without surrounding spaces, and is never blank.

    An audit trail whose reasons read "   " tells an auditor nothing, so a text that is empty
    (or shorter than `min_length`) once stripped is a 422 saying so; what is stored is the
    stripped text. Use after a `Field(min_length=..., max_length=...)` with the same minimum.
    """

    def trim(value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("is blank: spaces alone say nothing")
        if len(text) < min_length:
            raise ValueError(f"needs at least {min_length} characters besides spaces")
        return text

    return AfterValidator(trim)


Reason = Annotated[str, Field(min_length=3, max_length=2000), trimmed(3)]

# What pydantic would otherwise read as seconds since 1970: -1, 1e10, "1700000000".
_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _not_a_number(value: Any) -> Any:
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError(
            "is a number; give a date and time with a UTC offset, e.g. 2026-12-01T09:30:00Z"
        )
    return value


# A time as people and the API write it (RFC 3339), never an epoch number, which pydantic would
# otherwise accept (and read -1 as 1969-12-31T23:59:59Z).
NOT_A_NUMBER = BeforeValidator(_not_a_number)


def _no_nul(value: Any) -> None:
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL characters are not allowed in text")
    if isinstance(value, BaseModel):
        for item in value.__dict__.values():
            _no_nul(item)


class Strict(BaseModel):
    """Request bodies refuse unknown fields (a typo is an error, not a silent no-op) and NULs.

    PostgreSQL cannot store a NUL character in text, so one in any field is a 422 up front
    rather than a failed write.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _refuse_nul(self) -> Strict:
        _no_nul(self)
        return self


class UserOut(BaseModel):
    """A platform user as others see them."""

    id: int
    email: str
    name: str
    role: Role
    active: bool = True
    version: int = 1


class IdentityIn(Strict):
    """An identity-provider subject that signs in as a user (looked up by these, never by email).

    `issuer` is the provider's issuer as the platform records it: for Entra ID the tenant's
    issuer (https://login.microsoftonline.com/<tenant id>/v2.0) with `subject` the object id
    (`oid`); for Google https://accounts.google.com with `subject` the `sub` claim.
    """

    provider: Literal["entra", "google", "oidc"]
    issuer: str = Field(min_length=1, max_length=300)
    subject: str = Field(min_length=1, max_length=300)


class IdentityOut(BaseModel):
    """An identity-provider subject linked to a user."""

    provider: str
    issuer: str
    subject: str


class UserAdminOut(BaseModel):
    """A user as Admins manage them: role, links, status and sign-in identities."""

    id: int
    email: str
    name: str
    role: Role
    active: bool
    client_id: int | None
    supplier_id: int | None
    created_at: datetime
    version: int
    identities: list[IdentityOut]


class AssignablePage(BaseModel):
    """A keyset page of the staff who can hold bookings, by name."""

    items: list[UserOut]
    next_cursor: str | None


class UserPage(BaseModel):
    """A keyset page of users, by id."""

    items: list[UserAdminOut]
    next_cursor: str | None


class UserCreateIn(Strict):
    """Provision a user: who they are, their role, and the identity they sign in with."""

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: Annotated[str, Field(min_length=1, max_length=200), trimmed(1)]
    role: Role
    client_id: RowId | None = Field(default=None, description="Required for rmc, else empty.")
    supplier_id: RowId | None = Field(
        default=None, description="Required for supplier, else empty."
    )
    identity: IdentityIn


class RoleChangeIn(Strict):
    """A new role (with its client or supplier link) and why."""

    role: Role
    client_id: RowId | None = None
    supplier_id: RowId | None = None
    reason: Reason


class ExchangeIn(Strict):
    """An identity provider's ID token, traded for a platform session."""

    provider: Literal["sandbox", "entra", "google", "oidc"]
    id_token: str = Field(min_length=1, max_length=20000)
    nonce: str | None = Field(default=None, max_length=200)


class RefreshIn(Strict):
    """A platform refresh token to rotate or revoke."""

    refresh_token: str = Field(min_length=1, max_length=500)


class TokenOut(BaseModel):
    """A platform session."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    user: UserOut


class NonceOut(BaseModel):
    """A one-time nonce to put in the identity provider's sign-in request."""

    nonce: str
    expires_in: int


class QueueOut(BaseModel):
    """A booking queue, defined on the server."""

    id: str
    name: str
    description: str
    count: int
    sla_breached: int


class Named(BaseModel):
    """A reference to another record by id and display name."""

    id: int
    name: str


class Person(BaseModel):
    """A user referenced from another record."""

    id: int
    name: str
    email: str


class BookingOut(BaseModel):
    """One accommodation booking."""

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
    priority: Literal["low", "normal", "high", "urgent"]
    status: Literal[
        "new", "awaiting_supplier", "needs_attention", "confirmed", "on_hold", "cancelled"
    ]
    sla_due_at: datetime
    sla_breached: bool
    assignee: Person | None
    supplier_reference: str | None
    status_reason: str | None
    escalated: bool
    sent_to_supplier_at: datetime | None = Field(
        description="When it was last sent to the supplier (or confirmed with them); the"
        " supplier sees the booking only once this is set"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class BookingPage(BaseModel):
    """A keyset page of bookings."""

    items: list[BookingOut]
    next_cursor: str | None
    total: int | None = Field(
        description="How many bookings match; on the first page only (null on later pages)"
    )


class ReasonIn(Strict):
    """A reason, required for actions an auditor will ask about."""

    reason: Reason


class ConfirmIn(Strict):
    """The supplier's confirmation."""

    supplier_reference: Annotated[str, Field(min_length=1, max_length=60), trimmed(1)]


class AssignIn(Strict):
    """The teammate to hand a booking to."""

    assignee_id: RowId


class NoteIn(Strict):
    """A note on a booking."""

    body: Annotated[str, Field(min_length=1, max_length=4000), trimmed(1)]


class NoteOut(BaseModel):
    """A note on a booking."""

    id: int
    booking_id: int
    author: Person
    body: str
    created_at: datetime
    version: int


class NotePage(BaseModel):
    """A keyset page of notes."""

    items: list[NoteOut]
    next_cursor: str | None


class Actor(BaseModel):
    """Who made a write, as recorded at the time."""

    id: int | None
    email: str
    role: str


class AuditEventOut(BaseModel):
    """One audited write with its before and after states."""

    id: int
    occurred_at: datetime
    actor: Actor
    action: str
    action_description: str
    entity_type: str
    entity_id: str
    entity_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    changed_fields: list[str]
    request_id: str
    reason: str | None
    reverts_event_id: int | None
    undoable: bool
    undo_expires_at: datetime | None
    undone_by_event_id: int | None


class AuditPage(BaseModel):
    """A keyset page of audit events, newest first."""

    items: list[AuditEventOut]
    next_cursor: str | None


class UndoOut(BaseModel):
    """The result of an undo: the new event and the reverted one."""

    undo_event: AuditEventOut
    reverted_event: AuditEventOut


class DeletionRequestOut(BaseModel):
    """A data subject's deletion request and its legal deadline."""

    id: int
    reference: str
    subject_name: str
    subject_email: str
    client: Named | None
    channel: str
    status: Literal["received", "verifying", "ready", "approved", "completed", "rejected"]
    received_at: datetime
    due_at: datetime
    overdue: bool
    extension_reason: str | None
    verified_at: datetime | None
    completed_at: datetime | None
    rejection_reason: str | None
    result: dict[str, Any] | None
    version: int


class DeletionRequestPage(BaseModel):
    """A keyset page of deletion requests, soonest deadline first."""

    items: list[DeletionRequestOut]
    next_cursor: str | None


class SandboxUser(BaseModel):
    """A seeded user to sign in as (sandbox mode only)."""

    email: str
    name: str
    role: Role
    role_label: str
