"""Audit trail: find a write, read its before/after, and undo it with one key inside 24 hours."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input

from ikan_console.api.errors import (
    ApiError,
    Conflict,
    IkanError,
    NotAllowed,
    PlatformUnreachable,
    SessionExpired,
    UndoExpired,
    Unprocessable,
)
from ikan_console.api.models import AuditEvent
from ikan_console.formatting import status_label, utc
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.audit_filter import SYNTAX, AuditFilter, FilterError, parse_filter
from ikan_console.views.offered_keys import OffersKeys
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.diff_view import DiffView, changed_rows, field_text, undo_state
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

PAGE_SIZE = 100
# Actor last: on a narrow terminal the long email is what gets cut, never the undo state.
COLUMNS = ("Time (UTC)", "Action", "Entity", "Undo", "Actor")
UNDO_COLUMN = COLUMNS.index("Undo")
TICK_SECONDS = 30  # undo countdowns are minutes; keep them true while the view stays open


def refusal_text(error: IkanError, event: AuditEvent) -> str:
    """Why the platform refused an undo, in words an admin can act on."""
    if isinstance(error, UndoExpired):
        return (
            f"The 24-hour undo window for this {event.action} closed"
            f" at {utc(event.undo_expires_at)} UTC. Correct the record with a new change"
            " instead."
            if event.undo_expires_at
            else str(error)
        )
    if isinstance(error, Conflict) and getattr(error, "code", "") == "entity_changed":
        current = error.current or {}
        status = (
            f" It is now {status_label(str(current['status'])).lower()}."
            if current.get("status")
            else ""
        )
        return (
            f"{event.entity_label} was changed after this event, so undoing it would "
            f"overwrite the newer change.{status} Undo the newer change first, or correct "
            "it by hand."
        )
    if isinstance(error, Conflict) and getattr(error, "code", "") == "already_undone":
        return f"This change was already undone. {error}"
    if isinstance(error, NotAllowed):
        return "Only Operations and Admin users can undo changes."
    if isinstance(error, Unprocessable):
        return f"This kind of change cannot be undone. {error}"
    return str(error)


def local_refusal(event: AuditEvent, now: datetime) -> str | None:
    """Why an event cannot be undone, from what the list already says (None: ask the platform)."""
    if event.undone_by_event_id is not None:
        return f"This change was already undone (event #{event.undone_by_event_id})."
    if event.undo_expires_at is None:
        return f"{event.action} changes can never be undone."
    if event.undo_expires_at < now:
        return (
            f"The 24-hour undo window closed at {utc(event.undo_expires_at)} UTC. Correct "
            "the record with a new change instead."
        )
    if not event.undoable:
        return (
            f"{event.entity_label} was changed after this event, so undoing it would overwrite "
            "the newer change. Undo the newer change first, or correct it by hand."
        )
    return None


class AuditView(OffersKeys, ReportsWorkerFailures, Vertical):
    """Events newest first, filterable by record; the selected event's diff; `u` to undo."""

    DEFAULT_CSS = """
    AuditView #events { height: 1fr; border: round $primary-darken-1; }
    AuditView DiffView { height: 14; }
    """
    BINDINGS = [
        Binding("u", "undo", "Undo change", id="audit.undo"),
        Binding("slash", "filter", "Filter", id="audit.filter"),
        Binding("escape", "leave_filter", "Back to list", id="audit.leave_filter", show=False),
        Binding("r", "refresh", "Refresh", id="audit.refresh"),
    ]

    def compose(self) -> ComposeResult:
        """Filter, events, diff."""
        yield Input(
            placeholder=f"/ filter: {SYNTAX}; empty shows everything",
            id="audit-filter",
        )
        yield PagedTable(self._fetch_page, self._row, COLUMNS, id="events")
        yield DiffView(self.app.clock, id="diff")

    def on_mount(self) -> None:
        """Load the newest events, and the team once (the diff names people, not ids)."""
        self._query: dict[str, object] = {}
        table = self.query_one("#events", PagedTable)
        table.title = "Audit trail"
        table.reload()
        self.load_team()
        self.set_interval(TICK_SECONDS, self.tick)

    def tick(self) -> None:
        """Re-read the undo countdowns against the clock (the list and the diff)."""
        table = self.query_one("#events", PagedTable)
        now = self.app.clock()
        for index, event in enumerate(table.items):
            state, style = undo_state(event, now)
            table.update_cell_at((index, UNDO_COLUMN), Text(state, style=style))
        self.query_one(DiffView).refresh_diff()
        self.refresh_offered(["undo"])  # a window that closed takes `u` off the footer

    async def _fetch_page(self, cursor: str | None):  # type: ignore[no-untyped-def]
        page = await self.app.client.audit_events(**self._query, cursor=cursor, limit=PAGE_SIZE)
        return page.items, page.next_cursor, None

    @work(group="audit-team", exit_on_error=False)
    async def load_team(self) -> None:
        """Names for the diff, from the session's team list (ids show until it arrives)."""
        team = await self.screen.team()  # type: ignore[attr-defined]
        if team:
            self.query_one(DiffView).people = {u.id: u.name for u in team}

    def _row(self, e: AuditEvent) -> tuple[object, ...]:
        state, style = undo_state(e, self.app.clock())
        return (
            utc(e.occurred_at),
            e.action,
            e.entity_label,
            Text(state, style=style),
            e.actor.email,
        )

    @on(PagedTable.ItemHighlighted, "#events")
    def event_highlighted(self, event: PagedTable.ItemHighlighted) -> None:
        """Show the highlighted event's diff, and offer undo only where it can work."""
        self.query_one(DiffView).event = event.item
        self.refresh_offered(["undo"])

    def action_filter(self) -> None:
        """Jump to the filter."""
        self.query_one("#audit-filter", Input).focus()

    def action_leave_filter(self) -> None:
        """Escape from the filter back to the events."""
        self.query_one("#events", PagedTable).focus()

    def action_refresh(self) -> None:
        """Reload, showing the newest event (new ones arrive at the top)."""
        self.query_one("#events", PagedTable).reload(keep_selection=False)

    @on(Input.Submitted, "#audit-filter")
    def apply_filter(self, event: Input.Submitted) -> None:
        """Read the filter (booking, by:, action:, since:, request:) and show what matches."""
        try:
            wanted = parse_filter(event.value, self.app.clock())
        except FilterError as error:
            self.app.notify(str(error), title="Filter not applied", severity="warning")
            return
        self.resolve_filter(wanted)

    @work(exclusive=True, group="audit-filter", exit_on_error=False)
    async def resolve_filter(self, wanted: AuditFilter) -> None:
        """Turn a reference into the booking's id and a name into a teammate's id, then list."""
        query: dict[str, object] = {
            "action": wanted.action,
            "since": wanted.since,
            "request_id": wanted.request_id,
        }
        booking_label = actor_label = None
        try:
            if wanted.booking:
                query["entity_id"], booking_label = await self._booking_id(wanted.booking)
                query["entity_type"] = "booking"
            if wanted.actor:
                query["actor_id"], actor_label = await self._actor_id(wanted.actor)
            query = {k: v for k, v in query.items() if v is not None}
            if "action" in query:  # a typo must say so, not read as "no such writes"
                await self.app.client.audit_events(**query, limit=1)  # type: ignore[arg-type]
        except LookupError as missing:
            self.app.notify(str(missing), title="Filter not applied", severity="warning")
            return
        except IkanError as error:
            if isinstance(error, ApiError) and error.code == "unknown_action":
                self.app.notify(str(error), title="Filter not applied", severity="warning")
            else:
                self.app.report(error, "Could not apply the filter")
            return
        self._query = query
        table = self.query_one("#events", PagedTable)
        table.empty_text = (
            "No events match this filter. Esc, then an empty filter shows everything."
            if query
            else "No audited writes yet."
        )
        table.reload(wanted.describe(booking_label, actor_label), keep_selection=False)
        table.focus()

    async def _booking_id(self, text: str) -> tuple[str, str]:
        """(id, label) of the booking a reference or id names; LookupError when none does."""
        if text.isdigit():
            return text, f"booking {text}"
        page = await self.app.client.bookings(q=text, limit=2)
        match = next((b for b in page.items if b.reference.lower() == text.lower()), None)
        if match is None:
            raise LookupError(f"No booking with reference {text}.")
        return str(match.id), match.reference

    async def _actor_id(self, text: str) -> tuple[int, str]:
        """(id, name) of the one teammate whose name or email contains `text`."""
        team = await self.screen.team()  # type: ignore[attr-defined]
        if not team:
            raise LookupError("The team list could not be loaded; try again in a moment.")
        needle = text.lower()
        found = [u for u in team if needle in u.name.lower() or needle in u.email.lower()]
        exact = [u for u in found if needle in (u.email.lower(), u.name.lower())]
        if len(exact) == 1 or len(found) == 1:
            person = (exact or found)[0]
            return person.id, person.name
        if not found:
            raise LookupError(f"No Operations or Admin user matches {text!r}.")
        names = ", ".join(sorted(u.name for u in found)[:5])
        raise LookupError(f"{text!r} matches {len(found)} people ({names}); be more precise.")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer undo only for an event whose window is open (never when read-only)."""
        if action != "undo" or not self.is_mounted:
            return True
        if self.app.read_only:  # type: ignore[attr-defined]
            return False
        event = self.query_one("#events", PagedTable).selected
        return event is not None and local_refusal(event, self.app.clock()) is None

    def action_undo(self) -> None:
        """Confirm and undo the selected event."""
        event = self.query_one("#events", PagedTable).selected
        if event is None:
            self.app.notify("Select an event first.", severity="warning")
            return
        why_not = local_refusal(event, self.app.clock())
        if why_not:
            self.app.notify(why_not, title="Not undoable", severity="warning", timeout=8)
            return
        people = self.query_one(DiffView).people
        restore = [
            f"  {k}: {field_text(k, (event.after or {}).get(k), people)} → "
            f"{field_text(k, (event.before or {}).get(k), people)}"
            for k in changed_rows(event.before, event.after)
        ]
        summary = (
            f"{event.action} on {event.entity_label} by {event.actor.email} at "
            f"{utc(event.occurred_at)} UTC.\nUndo restores:\n"
            + "\n".join(restore[:10])
            + "\nThe undo is itself recorded and can be undone for 24 hours."
        )

        def undo_with(reason: str | None) -> None:
            if reason:
                self.run_undo(event, reason)

        self.app.push_screen(
            ReasonDialog(f"Undo {event.action} on {event.entity_label}?", summary, "Undo change"),
            undo_with,
        )

    @work(group="audit-undo", exit_on_error=False)
    async def run_undo(self, event: AuditEvent, reason: str) -> None:
        """Ask the platform to undo; explain a refusal in words."""
        try:
            result = await self.app.client.undo(event.id, reason)
        except (PlatformUnreachable, SessionExpired) as error:
            self.app.report(error, f"Undo of {event.action} on {event.entity_label} not sent")
            return  # nothing is known to have changed; the list stays as it was
        except IkanError as error:
            self.app.notify(
                refusal_text(error, event), title="Undo refused", severity="error", timeout=12
            )
            self.query_one("#events", PagedTable).reload()  # stay on the refused event
            return
        self.app.notify(
            f"Undone: {event.entity_label} is back as it was before "
            f"{event.action}. Recorded as event #{result.undo_event.id}.",
            title="Undone",
        )
        self.query_one("#events", PagedTable).reload(keep_selection=False)  # the undo, on top
