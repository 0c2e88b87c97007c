"""Deletion requests: every open request with its legal deadline, soonest first."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.models import DeletionRequest
from ikan_console.formatting import due_in_days, due_text, status_label, utc
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
        Binding("a", "toggle_closed", "Open/all", id="deletion.toggle_closed"),
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

    @on(PagedTable.ItemHighlighted, "#requests")
    def request_highlighted(self, event: PagedTable.ItemHighlighted) -> None:
        """Show the highlighted request."""
        self.query_one(DeletionDetail).request = event.item

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
