"""Deletion requests: every open request with its legal deadline, soonest first."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.errors import IkanError, StaleVersion
from ikan_console.api.models import DeletionRequest
from ikan_console.formatting import due_in_days, due_text, status_label, utc
from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen, VerifyDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

PAGE_SIZE = 100
COLUMNS = (
    "Reference",
    "Subject",
    "Client",
    "Status",
    "Due (UTC)",
    "Deadline",
)
CLOSED = ("completed", "rejected")
OPEN = ("received", "verifying", "ready", "approved")
# action -> the request states in which it is offered
STEP_STATES = {
    "preview": OPEN,
    "verify": ("received",),
    "mark_ready": ("verifying",),
    "approve": ("ready",),
    "execute": ("approved",),
    "reject": OPEN,
    "extend": OPEN,
}
WRITES = frozenset(STEP_STATES) - {"preview"}


def deadline_cell(request: DeletionRequest, now: Any) -> Text:
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
    """What execution did, in one line: totals and the written confirmation."""
    cats = [c for c in result.get("categories", []) if isinstance(c, dict)]
    if not cats:
        return str(result.get("note", "recorded"))
    totals = {
        k: sum(int(c.get(k, 0) or 0) for c in cats) for k in ("erase", "pseudonymise", "retain")
    }
    confirmation = result.get("confirmation") or {}
    sent = ", ".join(confirmation.get("channels", [])) or "none"
    return (
        f"erased {totals['erase']}, pseudonymised {totals['pseudonymise']}, kept "
        f"{totals['retain']} with legal basis; confirmation queued: {sent}"
    )


class DeletionDetail(Static):
    """The selected request."""

    DEFAULT_CSS = """
    DeletionDetail { height: 11; border: round $primary-darken-1; padding: 0 1; }
    """
    request: reactive[DeletionRequest | None] = reactive(None)

    def render(self) -> Any:
        """Who, what state, which deadline."""
        r = self.request
        if r is None:
            return Text("No request selected.", style="dim")
        now = self.app.clock()
        self.border_title = f"Deletion request {r.reference}"
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row("Subject", f"{r.subject_name} <{r.subject_email}>")
        grid.add_row("Client", r.client.name if r.client else "—")
        grid.add_row("Status", status_label(r.status))
        grid.add_row("Received", f"{utc(r.received_at)} UTC via {r.channel.replace('_', ' ')}")
        grid.add_row("Deadline", Text.assemble(f"{utc(r.due_at)} UTC  ", deadline_cell(r, now)))
        if r.extension_reason:
            grid.add_row("Extended", r.extension_reason)
        if r.rejection_reason:
            grid.add_row("Rejected", r.rejection_reason)
        if r.completed_at:
            grid.add_row("Completed", f"{utc(r.completed_at)} UTC")
        if r.result:
            grid.add_row("Result", result_text(r.result))
        grid.add_row(
            "Law", "Erase within 30 days of receipt and confirm in writing (GDPR Art. 12, 17)."
        )
        return grid


class DeletionRequestsView(ReportsWorkerFailures, Vertical):
    """Table of requests by deadline; detail of the selected one."""

    DEFAULT_CSS = """
    DeletionRequestsView #requests { height: 1fr; border: round $primary-darken-1; }
    """
    BINDINGS = [
        Binding("p", "preview", "Preview erasure", id="deletion.preview"),
        Binding("v", "verify", "Start verifying", id="deletion.verify"),
        Binding("m", "mark_ready", "Identity verified", id="deletion.mark_ready"),
        Binding("a", "approve", "Approve", id="deletion.approve"),
        Binding("x", "execute", "Erase now", id="deletion.execute"),
        Binding("j", "reject", "Reject", id="deletion.reject"),
        Binding("e", "extend", "Extend", id="deletion.extend"),
        Binding("o", "toggle_closed", "Open/all", id="deletion.toggle_closed"),
        Binding("r", "refresh", "Refresh", id="deletion.refresh"),
    ]
    show_closed = False

    def compose(self) -> ComposeResult:
        """Table and detail."""
        yield PagedTable(self._fetch_page, self._row, COLUMNS, id="requests")
        yield DeletionDetail(id="deletion-detail")

    def on_mount(self) -> None:
        """Load the requests."""
        table = self.query_one("#requests", PagedTable)
        table.title = "Open deletion requests by deadline"
        table.reload()

    async def _fetch_page(self, cursor: str | None):  # type: ignore[no-untyped-def]
        page = await self.app.client.deletion_requests(
            open_only=None if self.show_closed else True, cursor=cursor, limit=PAGE_SIZE
        )
        return page.items, page.next_cursor, None

    def _row(self, r: DeletionRequest) -> tuple[object, ...]:
        return (
            r.reference,
            r.subject_name,
            r.client.name if r.client else "—",
            status_label(r.status),
            utc(r.due_at),
            deadline_cell(r, self.app.clock()),
        )

    def action_toggle_closed(self) -> None:
        """Switch between open requests only and every request (completed and rejected too)."""
        self.show_closed = not self.show_closed
        table = self.query_one("#requests", PagedTable)
        table.title = (
            "All deletion requests by deadline"
            if self.show_closed
            else "Open deletion requests by deadline"
        )
        table.reload()

    def action_refresh(self) -> None:
        """Reload."""
        self.query_one("#requests", PagedTable).reload()

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer (and show in the footer) only the steps the selected request can take."""
        needs = STEP_STATES.get(action)
        if needs is None:
            return True
        if action in WRITES and self.app.read_only:  # type: ignore[attr-defined]
            return False
        request = self.query_one("#requests", PagedTable).selected
        if request is None or request.status not in needs:
            return False
        return not (action == "extend" and request.extension_reason)

    @on(PagedTable.ItemHighlighted, "#requests")
    def request_highlighted(self, event: PagedTable.ItemHighlighted) -> None:
        """Show the highlighted request and the steps it can take."""
        self.query_one(DeletionDetail).request = event.item
        self.refresh_bindings()

    def _selected(self) -> DeletionRequest | None:
        return self.query_one("#requests", PagedTable).selected

    def action_verify(self) -> None:
        """Start checking the subject's identity."""
        if (request := self._selected()) is not None:
            self.run_step(request, "verify", None, f"{request.reference}: verifying identity.")

    def action_mark_ready(self) -> None:
        """Record how identity was verified; the request becomes ready for approval."""
        request = self._selected()
        if request is None:
            return

        def mark(body: dict | None) -> None:
            if body:
                self.run_step(
                    request,
                    "mark-ready",
                    body,
                    f"{request.reference}: identity verified, ready for approval.",
                )

        self.app.push_screen(VerifyDialog(request), mark)

    def action_preview(self) -> None:
        """Show what erasure would erase, pseudonymise and keep."""
        if (request := self._selected()) is not None:
            self.open_preview(request, None)

    def action_approve(self) -> None:
        """Approve erasure after reading the preview (a second person from the verifier)."""
        if (request := self._selected()) is not None:
            self.open_preview(request, "approve")

    def action_execute(self) -> None:
        """Erase now, after typing the reference."""
        if (request := self._selected()) is not None:
            self.open_preview(request, "execute")

    def action_reject(self) -> None:
        """Refuse the request with a reason the subject will read."""
        request = self._selected()
        if request is None:
            return
        summary = (
            f"{request.subject_name} <{request.subject_email}> is told the reason in "
            "writing. Use this when identity cannot be verified or the law requires "
            "keeping the data."
        )

        def reject(reason: str | None) -> None:
            if reason:
                self.run_step(
                    request,
                    "reject",
                    {"reason": reason},
                    f"{request.reference} rejected; the subject will be told.",
                )

        self.app.push_screen(
            ReasonDialog(
                f"Reject {request.reference}?",
                summary,
                "Reject request",
                "Reason (sent to the subject, kept in the audit trail)",
            ),
            reject,
        )

    def action_extend(self) -> None:
        """Extend the deadline once, by up to 60 days, with a reason the subject will read."""
        request = self._selected()
        if request is None:
            return
        summary = (
            f"Due {utc(request.due_at)} UTC. Extending adds 60 days (GDPR Art. 12(3) "
            "allows it once, for complex or numerous requests). The subject is told "
            "why, in writing."
        )

        def extend(reason: str | None) -> None:
            if reason:
                self.run_step(
                    request,
                    "extend",
                    {"reason": reason, "days": 60},
                    f"{request.reference}: deadline extended by 60 days.",
                )

        self.app.push_screen(
            ReasonDialog(
                f"Extend the deadline of {request.reference}?", summary, "Extend deadline"
            ),
            extend,
        )

    @work(group="deletion-preview", exclusive=True, exit_on_error=False)
    async def open_preview(self, request: DeletionRequest, step: str | None) -> None:
        """Fetch the current scope, then show it (and confirm the step, if any)."""
        try:
            preview = await self.app.client.deletion_preview(request.id)
        except IkanError as error:
            self.app.report(error, f"Could not preview {request.reference}")
            return
        if step == "execute":
            dialog = ExecuteDialog(request, preview)
        else:
            dialog = PreviewScreen(
                request, preview, "Approve erasure" if step == "approve" else None
            )
        confirmed = await self.app.push_screen_wait(dialog)
        if confirmed and step == "approve":
            self.run_step(request, "approve", None, f"{request.reference} approved.")
        elif confirmed and step == "execute":
            self.run_step(
                request,
                "execute",
                None,
                f"{request.reference}: data erased; written confirmation queued.",
            )

    @work(group="deletion-steps", exit_on_error=False)
    async def run_step(
        self, request: DeletionRequest, step: str, body: dict | None, done: str
    ) -> None:
        """Send one step; on success show the new state, on refusal say why."""
        table = self.query_one("#requests", PagedTable)
        try:
            updated = await self.app.client.deletion_action(request, step, body)
        except StaleVersion as error:
            self.app.report(error, f"{request.reference} changed since you loaded it")
            if error.current:
                table.replace_item(request, DeletionRequest.model_validate(error.current))
            return
        except IkanError as error:
            self.app.report(error, f"Could not {step.replace('-', ' ')} {request.reference}")
            return
        table.replace_item(request, updated)
        self.app.notify(done, title="Done")
        self.refresh_bindings()
