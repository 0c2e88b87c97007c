"""The platform's tables: people, bookings, the audit trail and data-subject deletion requests."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ikan_platform.db import Base, UTCDateTime

ROLES = ("rmc", "operations", "admin", "supplier", "traveler")
ROLE_LABELS = {
    "rmc": "Relocation Manager",
    "operations": "Operations",
    "admin": "Admin",
    "supplier": "Supplier",
    "traveler": "Traveler",
}
BOOKING_STATUSES = (
    "new",
    "awaiting_supplier",
    "needs_attention",
    "confirmed",
    "on_hold",
    "cancelled",
)
PRIORITIES = ("low", "normal", "high", "urgent")
DELETION_STATES = ("received", "verifying", "ready", "approved", "completed", "rejected")


class Client(Base):
    """A corporate customer whose employees relocate."""

    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)


class Supplier(Base):
    """A housing or hotel supplier that bookings are sent to."""

    __tablename__ = "suppliers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))


class User(Base):
    """A provisioned person with exactly one role."""

    __tablename__ = "users"
    # Undo deletes rows and brings them back under their own id (users, bookings, notes), so
    # SQLite must never hand a deleted id to a new row: AUTOINCREMENT (migration 0005).
    # PostgreSQL's sequences never reuse an id anyway.
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Identity(Base):
    """A stable identity-provider subject that signs in as a user (never the email alone)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "issuer", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    provider: Mapped[str] = mapped_column(String(20))
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(300))


class Booking(Base):
    """One accommodation booking for a relocating traveller."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index("ix_bookings_status_sla", "status", "sla_due_at", "id"),
        Index("ix_bookings_check_in", "check_in", "sla_due_at", "id"),
        Index("ix_bookings_sla", "sla_due_at", "id"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    traveller_name: Mapped[str] = mapped_column(String(200))
    traveller_email: Mapped[str] = mapped_column(String(320), index=True)
    home_city: Mapped[str] = mapped_column(String(100))
    destination_city: Mapped[str] = mapped_column(String(100))
    accommodation_type: Mapped[str] = mapped_column(String(40))
    property_name: Mapped[str] = mapped_column(String(200))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    check_in: Mapped[date] = mapped_column(Date)
    check_out: Mapped[date] = mapped_column(Date)
    nightly_rate_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    sla_due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    supplier_reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the booking was last sent to its supplier (or confirmed with them without a send);
    # kept afterwards. The supplier's row scope is exactly "this is set" (services/bookings.py).
    sent_to_supplier_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BookingNote(Base):
    """A free-text note an operator adds to a booking."""

    __tablename__ = "booking_notes"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """One write: who, when, what, and the entity's state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_entity", "entity_type", "entity_id", "id"),
        Index("ix_audit_actor", "actor_id", "id"),
        Index("ix_audit_action", "action", "id"),
        Index("ix_audit_request", "request_id"),
        Index("ix_audit_occurred", "occurred_at", "id"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_email: Mapped[str] = mapped_column(String(320))
    actor_role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    request_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reverts_event_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)


class DeletionRequest(Base):
    """A data subject's request to erase their personal data (GDPR Art. 17)."""

    __tablename__ = "deletion_requests"
    __table_args__ = (Index("ix_deletion_due", "due_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    subject_email: Mapped[str] = mapped_column(String(320))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), nullable=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Who attested the subject's identity and how: the approver must be someone else.
    verified_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    verification_method: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verification_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rejection_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __mapper_args__ = {"version_id_col": version}


class OutboxMessage(Base):
    """A letter or email to a data subject, queued in the writing transaction for the mail relay."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_status", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_address: Mapped[str | None] = mapped_column(String(320), nullable=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    deletion_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("deletion_requests.id"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class IdempotencyRecord(Base):
    """The first response to an action POST, replayed for the same Idempotency-Key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class RefreshToken(Base):
    """A rotating platform refresh token, stored only as a hash."""

    __tablename__ = "refresh_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    family: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class UsedToken(Base):
    """A one-time value already spent: IdP ID tokens (replay) and server-issued nonces."""

    __tablename__ = "used_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    value_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ServerSetting(Base):
    """Process-independent server state, such as the generated signing key."""

    __tablename__ = "server_settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
