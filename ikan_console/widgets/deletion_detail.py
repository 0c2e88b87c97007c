"""The selected deletion request: deadline, who verified and approved it, what was done.

The platform sends user ids (`verified_by_id`, `approved_by_id`); the view hands down the team's
names (`people`) and the signed-in user's id (`me`), so a four-eyes conflict shows before anyone
tries to approve. Rows run from what matters most (status, deadline) to what matters least, as a
short terminal keeps only the first six.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.models import DeletionRequest, ScopeCategory
from ikan_console.formatting import due_in_days, due_text, status_label, utc
from ikan_console.widgets.erasure_scope import outcome_text

CLOSED = ("completed", "rejected")
# GDPR Art. 12(3): one month from receipt; the platform allows an extension only inside it
# (services/deletion_requests.py: RESPONSE_DAYS, `extension_too_late`).
RESPONSE_DAYS = timedelta(days=30)
METHOD_WORDS = {
    "signed_in_account": "from their signed-in ikan account",
    "email_confirmation": "by email from the address we hold",
    "id_document": "identity document checked",
    "client_hr_confirmation": "client HR confirmed the employee",
    "other": "other method",
}


def original_due(request: DeletionRequest) -> datetime:
    """The first deadline, before any extension: received + 30 days."""
    return request.received_at + RESPONSE_DAYS


def extended(request: DeletionRequest) -> bool:
    """Whether the one extension the law allows has been used."""
    return request.extended_at is not None or request.extension_reason is not None


def deadline_cell(request: DeletionRequest, now: datetime) -> Text:
    """`due in N days`, loud when close, louder when overdue."""
    closed = request.status in CLOSED
    text = due_text(request.due_at, now, closed)
    if closed:
        return Text(text, style="dim")
    if request.due_at < now:
        return Text(f"⚠ {text}", style="bold white on red")
    if due_in_days(request.due_at, now) <= 5:
        return Text(text, style="bold yellow")
    return Text(text)


def result_text(result: dict[str, Any]) -> str:
    """What execution did, in one line: `11 pseudonymised, 2 kept with a legal basis; ...`."""
    raw = [c for c in result.get("categories", []) if isinstance(c, dict)]
    if not raw:
        return str(result.get("note", "recorded"))
    outcome = outcome_text(ScopeCategory.model_validate(c) for c in raw)
    confirmation = result.get("confirmation") or {}
    channels = ", ".join(confirmation.get("channels", []))
    sent = f"confirmation queued ({channels})" if channels else "no confirmation queued"
    return f"{outcome}; {sent}"


class DeletionDetail(Static):
    """The selected request."""

    DEFAULT_CSS = """
    DeletionDetail { height: 11; border: round $primary-darken-1; padding: 0 1; }
    """
    request: reactive[DeletionRequest | None] = reactive(None)
    people: reactive[dict[int, str]] = reactive(dict)
    me: reactive[int | None] = reactive(None)

    def who(self, user_id: int | None) -> str:
        """A teammate's name (`(you)` for the viewer); the id if they are not on the team list."""
        if user_id is None:
            return "not recorded"
        name = self.people.get(user_id, f"user #{user_id}")
        return f"{name} (you)" if user_id == self.me else name

    def render(self) -> Any:
        """Who, what state, which deadline, who verified and approved (text, never markup)."""
        r = self.request
        if r is None:
            return Text("No request selected.", style="dim")
        now = self.app.clock()  # type: ignore[attr-defined]
        self.border_title = f"Deletion request {r.reference}"
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        subject = f"{r.subject_name} <{r.subject_email}>"
        grid.add_row("Subject", Text(f"{subject} · {r.client.name}" if r.client else subject))
        grid.add_row("Status", self._status(r))
        grid.add_row("Deadline", Text.assemble(f"{utc(r.due_at)} UTC  ", deadline_cell(r, now)))
        if extended(r):
            grid.add_row("Extended", Text(self._extension(r)))
        channel = r.channel.replace("_", " ")
        grid.add_row("Received", Text(f"{utc(r.received_at)} UTC via {channel}"))
        if r.verified_at or r.verified_by_id:
            grid.add_row("Verified", Text(self._verification(r)))
        if r.approved_at or r.approved_by_id:
            when = f", {utc(r.approved_at)} UTC" if r.approved_at else ""
            grid.add_row("Approved", Text(f"{self.who(r.approved_by_id)}{when}"))
        if r.rejection_reason:
            grid.add_row("Rejected", Text(r.rejection_reason))
        if r.completed_at:
            grid.add_row("Completed", Text(f"{utc(r.completed_at)} UTC"))
        if r.result:
            grid.add_row("Result", Text(result_text(r.result)))
        if r.status not in CLOSED:
            grid.add_row("Law", Text(self._law(r, now)))
        return grid

    def _status(self, r: DeletionRequest) -> Text:
        status = Text(status_label(r.status))
        if r.status == "ready" and r.verified_by_id is not None and r.verified_by_id == self.me:
            status.append(
                " — you verified the identity, so someone else must approve (four eyes)",
                style="bold yellow",
            )
        return status

    def _extension(self, r: DeletionRequest) -> str:
        days = (r.due_at - original_due(r)).days
        when = f" on {utc(r.extended_at)} UTC" if r.extended_at else ""
        reason = f": {r.extension_reason}" if r.extension_reason else ""
        return f"by {days} days{when}, from {utc(original_due(r))} UTC{reason}"

    def _verification(self, r: DeletionRequest) -> str:
        parts = [self.who(r.verified_by_id)]
        if r.verified_at:
            parts.append(f"{utc(r.verified_at)} UTC")
        if r.verification_method:
            parts.append(METHOD_WORDS.get(r.verification_method, r.verification_method))
        note = f": “{r.verification_note}”" if r.verification_note else ""
        return ", ".join(parts) + note

    def _law(self, r: DeletionRequest, now: datetime) -> str:
        if extended(r):
            return (
                f"Extended once (GDPR Art. 12(3)): erase by {utc(r.due_at)} UTC and confirm in "
                "writing; no further extension is possible."
            )
        law = "Erase within 30 days of receipt and confirm in writing (GDPR Art. 12, 17)."
        if now > original_due(r):
            law += " The month is over: too late to extend."
        return law
