"""Deletion requests: every open request with its legal deadline, soonest first."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from ikan_console.api.errors import IkanError, StaleVersion
from ikan_console.api.models import DeletionRequest
from ikan_console.formatting import status_label, utc
from ikan_console.screens.erasure_dialogs import ExecuteDialog, PreviewScreen, VerifyDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.fits_width import FitsWidth
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.deletion_detail import (
    DeletionDetail,
    deadline_cell,
    extended,
    original_due,
    result_text,
)
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

PAGE_SIZE = 100
COLUMNS = ("Reference", "Subject", "Client", "Status", "Due (UTC)", "Deadline")
# Below this many columns (as the main screen's `narrow`), the list keeps what says what is
# due and how urgently; the detail pane shows the client and the date.
NARROW = 110
NARROW_COLUMNS = ("Reference", "Subject", "Status", "Deadline")
NARROW_SUBJECT = 20
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


class DeletionRequestsView(FitsWidth, ReportsWorkerFailures, Vertical):
    """Table of requests by deadline; detail of the selected one."""

    DEFAULT_CSS = """
    DeletionRequestsView #requests { height: 1fr; border: round $primary-darken-1; }
    """
    BINDINGS = [
        Binding("p", "preview", "Preview erasure", id="deletion.preview"),
        # Short words: at 80 columns the footer holds every step a request can take at once.
        Binding("v", "verify", "Verify", id="deletion.verify"),
        Binding("m", "mark_ready", "ID verified", id="deletion.mark_ready"),
        Binding("a", "approve", "Approve", id="deletion.approve"),
        Binding("x", "execute", "Erase now", id="deletion.execute"),
        Binding("j", "reject", "Reject", id="deletion.reject"),
        Binding("e", "extend", "Extend", id="deletion.extend"),
        Binding("o", "toggle_closed", "Open/all", id="deletion.toggle_closed"),
        Binding("r", "refresh", "Refresh", id="deletion.refresh", show=False),  # `?` lists it
    ]
    show_closed = False

    def compose(self) -> ComposeResult:
        """Table and detail."""
        yield PagedTable(self._fetch_page, self._cells, COLUMNS, id="requests")
        yield DeletionDetail(id="deletion-detail")

    def on_mount(self) -> None:
        """Load the requests, and the team once (the detail names who verified and approved)."""
        table = self.query_one("#requests", PagedTable)
        table.title = "Open deletion requests by deadline"
        table.reload()
        user = self.app.client.user
        self.query_one(DeletionDetail).me = user.id if user else None
        self.load_team()

    def fit_width(self, width: int) -> None:
        """On a narrow terminal keep reference, subject, status and the deadline."""
        narrow = width < NARROW
        self.query_one("#requests", PagedTable).show_columns(NARROW_COLUMNS if narrow else COLUMNS)

    @work(group="deletion-team", exit_on_error=False)
    async def load_team(self) -> None:
        """Names for the detail, from the session's team list (it shows `user #id` until then)."""
        team = await self.screen.team()  # type: ignore[attr-defined]
        if team:
            self.query_one(DeletionDetail).people = {u.id: u.name for u in team}

    async def _fetch_page(self, cursor: str | None):  # type: ignore[no-untyped-def]
        page = await self.app.client.deletion_requests(
            open_only=None if self.show_closed else True, cursor=cursor, limit=PAGE_SIZE
        )
        return page.items, page.next_cursor, None

    def _cells(self, r: DeletionRequest) -> dict[str, object]:
        narrow = self.size.width < NARROW
        subject = r.subject_name
        if narrow and len(subject) > NARROW_SUBJECT:
            subject = subject[: NARROW_SUBJECT - 1] + "…"
        return {
            "Reference": r.reference,
            "Subject": subject,
            "Client": r.client.name if r.client else "—",
            "Status": status_label(r.status),
            "Due (UTC)": utc(r.due_at),
            "Deadline": deadline_cell(r, self.app.clock()),
        }

    def action_toggle_closed(self) -> None:
        """Switch between open requests only and every request (completed and rejected too)."""
        self.show_closed = not self.show_closed
        self.query_one("#requests", PagedTable).reload(
            "All deletion requests by deadline"
            if self.show_closed
            else "Open deletion requests by deadline"
        )

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
        if action == "extend":
            return not self._extension_refused(request)
        if action == "approve":
            return not self._is_my_verification(request)
        return True

    def _extension_refused(self, request: DeletionRequest) -> bool:
        """Already extended, or the first month is over (the platform refuses both)."""
        return extended(request) or self.app.clock() > original_due(request)

    def _is_my_verification(self, request: DeletionRequest) -> bool:
        """Four eyes: whoever verified the identity may not approve the erasure."""
        user = self.app.client.user
        return user is not None and request.verified_by_id == user.id

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
            self.run_step(request, "execute", None, erasure_done)

    @work(group="deletion-steps", exit_on_error=False)
    async def run_step(
        self,
        request: DeletionRequest,
        step: str,
        body: dict | None,
        done: str | Callable[[DeletionRequest], str],
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
        self.app.notify(done if isinstance(done, str) else done(updated), title="Done")
        self.refresh_bindings()


def erasure_done(request: DeletionRequest) -> str:
    """The toast after execution, in the words of what happened (`8 pseudonymised, ...`)."""
    if not request.result:
        return f"{request.reference}: erasure done."
    return f"{request.reference}: erasure done: {result_text(request.result)}."
