"""Bodies of the deletion-request API beyond the list/get shape kept in schemas.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, model_validator

from ikan_platform.schemas import (
    NOT_A_NUMBER,
    DeletionRequestOut,
    Reason,
    RowId,
    Strict,
    trimmed,
)

VerificationMethod = Literal[
    "signed_in_account", "email_confirmation", "id_document", "client_hr_confirmation", "other"
]
Channel = Literal["email", "letter", "web_form", "phone"]
RequestState = Literal["received", "verifying", "ready", "approved", "completed", "rejected"]
ScopeAction = Literal["erase", "pseudonymise", "retain"]
CategoryKey = Literal[
    "bookings",
    "booking_notes",
    "user_account",
    "audit_trail",
    "voice_transcripts",
    "voice_recordings",
    "replay_cache",
    "request_record",
]


class DeletionRequestDetail(DeletionRequestOut):
    """A deletion request with who verified the identity (and how), who approved, and when."""

    verified_by_id: int | None = None
    verification_method: VerificationMethod | None = None
    verification_note: str | None = None
    approved_by_id: int | None = None
    approved_at: datetime | None = None
    extended_at: datetime | None = None


class DeletionRequestDetailPage(BaseModel):
    """A keyset page of deletion requests, soonest deadline first."""

    items: list[DeletionRequestDetail]
    next_cursor: str | None


EARLIEST_RECEIPT = datetime(2000, 1, 1, tzinfo=UTC)


def _not_before_2000(value: datetime) -> datetime:
    if value < EARLIEST_RECEIPT:
        raise ValueError(
            "lies before 2000-01-01; give the day the request reached ikan (e.g. a letter's"
            " date of receipt)"
        )
    return value


class DeletionRequestIn(Strict):
    """A newly received deletion request: who asks, through which channel, and when it arrived.

    The 30-day deadline runs from `received_at` (GDPR Art. 12(3)), so give the day the request
    reached ikan (a letter's date of receipt, not its writing); it defaults to now and may not lie
    in the future. `note` (what arrived, where it is filed) is kept as the reason of the audit
    event `deletion_request.create`; never copy identity-document numbers into it.
    """

    subject_name: Annotated[str, Field(min_length=1, max_length=200), trimmed(1)]
    subject_email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    client_id: RowId | None = Field(default=None, description="The subject's employer, if known.")
    channel: Channel
    received_at: Annotated[AwareDatetime, NOT_A_NUMBER, AfterValidator(_not_before_2000)] | None = (
        Field(
            default=None,
            description="When the request arrived (RFC 3339 with a UTC offset, not before 2000);"
            " default now.",
        )
    )
    note: Annotated[str, Field(min_length=3, max_length=2000), trimmed(3)] | None = None


class MarkReadyIn(Strict):
    """How the subject's identity was verified.

    Name the method and, if useful, what was checked; never copy document numbers here.
    """

    method: VerificationMethod
    note: Annotated[str, Field(min_length=3, max_length=500), trimmed(3)] | None = None

    @model_validator(mode="after")
    def _other_needs_a_note(self) -> MarkReadyIn:
        if self.method == "other" and not self.note:
            raise ValueError("describe the method in `note` when it is 'other'")
        return self


class ExtendIn(Strict):
    """Why the request needs more time (sent to the subject), and how many more days."""

    reason: Reason
    days: int = Field(default=60, ge=1, le=60)


class ScopeItem(BaseModel):
    """One record of the subject and what erasure does with it."""

    entity_type: str
    entity_id: str
    label: str
    action: ScopeAction
    legal_basis: str | None
    retain_until: date | None
    erase_fields: list[str]


class ScopeCategory(BaseModel):
    """One kind of personal data: how much there is, what is erased or kept, why, until when."""

    category: CategoryKey
    label: str
    retention_rule: str
    count: int
    erase: int
    pseudonymise: int
    retain: int
    legal_basis: list[str]
    retain_until: date | None
    items: list[ScopeItem]


class DeletionPreview(BaseModel):
    """What executing the request would do, per data category, worked out now."""

    request_id: int
    reference: str
    status: str
    evaluated_at: datetime
    categories: list[ScopeCategory]
    warnings: list[str]
