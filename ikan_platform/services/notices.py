"""Letters and emails to data subjects, written to the outbox in the transaction that needs them.

A mail relay outside this repository sends queued messages and marks them sent. Because each
message is written in the same transaction as the change it reports, a request is never completed
without its confirmation, and no subject is told about a change that was rolled back. Every
notice goes out twice: as an email to the address on the request, and as a letter (the written
confirmation). The platform keeps no postal addresses, so the mail room addresses letters from the
request file; `recipient_address` is empty for them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ikan_platform.models import DeletionRequest, OutboxMessage
from ikan_platform.services.retention import VOICE_RECORDING_DAYS, VOICE_TRANSCRIPT_DAYS

CONFIRMATION = "deletion_confirmation"
EXTENSION = "deletion_extension"
REJECTION = "deletion_rejection"
SENDER = "ikan Data Protection Team"
CONTACT = "privacy@ikan.example"
VOICE_DAYS = {
    "voice_transcripts": VOICE_TRANSCRIPT_DAYS,
    "voice_recordings": VOICE_RECORDING_DAYS,
}
RIGHTS = (
    "If you are not satisfied with how we handled your request, write to us at"
    f" {CONTACT}. You also have the right to lodge a complaint with a data protection"
    " supervisory authority (GDPR Art. 77) and to seek a judicial remedy (Art. 79)."
)


def _queue(
    session: Session,
    dr: DeletionRequest,
    kind: str,
    now: datetime,
    subject_line: str,
    paragraphs: list[str],
) -> list[OutboxMessage]:
    text = "\n\n".join([f"Dear {dr.subject_name},", *paragraphs, f"Kind regards,\n{SENDER}"])
    letter = "\n\n".join(
        [
            f"{dr.subject_name}\n(postal address from the request file)",
            f"{now:%d %B %Y}\nOur reference: {dr.reference}",
            text,
        ]
    )
    messages = [
        OutboxMessage(
            created_at=now,
            kind=kind,
            channel=channel,
            recipient_name=dr.subject_name,
            recipient_address=address,
            subject=f"{subject_line} ({dr.reference})",
            body=body,
            deletion_request_id=dr.id,
            status="queued",
        )
        for channel, address, body in (
            ("email", dr.subject_email, text),
            ("letter", None, letter),
        )
    ]
    session.add_all(messages)
    session.flush()
    return messages


def _category_line(category: dict[str, Any]) -> str | None:
    label, count = category["label"], category["count"]
    if category["category"] in VOICE_DAYS:
        days = VOICE_DAYS[category["category"]]
        return f"- {label}: none held (we delete them {days} days after a call)."
    if category["category"] in ("replay_cache", "request_record"):
        return None  # internal bookkeeping; the letter speaks of the request itself below
    if count == 0:
        return f"- {label}: none held."
    if category["category"] == "audit_trail":
        return (
            f"- {label}: {count} entries kept until {category['retain_until']} at the latest,"
            " with your name and email replaced."
        )
    parts = []
    if category["erase"]:
        parts.append(f"{category['erase']} erased")
    if category["pseudonymise"]:
        parts.append(f"{category['pseudonymise']} kept with your name and email replaced")
    if category["retain"]:
        until = category["retain_until"]
        parts.append(
            f"{category['retain']} kept"
            + (f" until {until}" if until else "")
            + f" because the law requires it: {'; '.join(category['legal_basis'])}"
        )
    return f"- {label}: " + ", ".join(parts) + "."


def confirmation(
    session: Session, dr: DeletionRequest, now: datetime, result: dict[str, Any]
) -> list[OutboxMessage]:
    """The written confirmation that a request was carried out, with what was kept and why."""
    lines = [line for c in result["categories"] if (line := _category_line(c))]
    paragraphs = [
        f"On {dr.received_at:%d %B %Y} you asked us to erase your personal data. We have done"
        f" so on {now:%d %B %Y}. This is what we held about you and what we did with it:",
        "\n".join(lines),
        "Records we must keep by law are kept only as long as that law requires, and then"
        " erased. Our audit trail keeps a record that changes were made, with your name and"
        " email replaced. We keep this request and this letter for 3 years as proof that we"
        " honoured it.",
        RIGHTS,
    ]
    return _queue(session, dr, CONFIRMATION, now, "Your personal data has been erased", paragraphs)


def extension_notice(session: Session, dr: DeletionRequest, now: datetime) -> list[OutboxMessage]:
    """Tell the subject that we need more time, why, and the new date (GDPR Art. 12(3))."""
    paragraphs = [
        f"On {dr.received_at:%d %B %Y} you asked us to erase your personal data. We need more"
        f" time to complete it, and will do so by {dr.due_at:%d %B %Y}. The reason:"
        f" {dr.extension_reason}",
        RIGHTS,
    ]
    return _queue(session, dr, EXTENSION, now, "We need more time for your request", paragraphs)


def rejection_notice(session: Session, dr: DeletionRequest, now: datetime) -> list[OutboxMessage]:
    """Tell the subject that we will not act on the request, and why (GDPR Art. 12(4))."""
    paragraphs = [
        f"On {dr.received_at:%d %B %Y} you asked us to erase your personal data. We cannot"
        f" act on this request. The reason: {dr.rejection_reason}",
        RIGHTS,
    ]
    return _queue(session, dr, REJECTION, now, "About your erasure request", paragraphs)
