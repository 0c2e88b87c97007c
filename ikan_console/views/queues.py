"""Booking queues: pick a queue, work its bookings (claim, cancel, notes...), soonest SLA first."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ikan_console.api.errors import Conflict, IkanError, StaleVersion
from ikan_console.api.models import Booking, Queue
from ikan_console.formatting import sla_text, status_label
from ikan_console.screens.notes_dialog import NotesDialog
from ikan_console.screens.reason_dialog import ReasonDialog
from ikan_console.views.booking_steps import STEP_STATES, BookingSteps, step_offered
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.booking_detail import BookingDetail
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

PAGE_SIZE = 100
COLUMNS = ("Ref", "Traveller", "To", "In", "Prio", "SLA", "Assignee", "Status")
ACTION_WORDS = {
    "claim": "claim",
    "release": "unclaim",
    "cancel": "cancel",
    "send-to-supplier": "send",
    "confirm": "confirm",
    "decline": "record the decline of",
    "hold": "hold",
    "resume": "resume",
    "escalate": "escalate",
    "assign": "assign",
}
SHORT_STATUS = {
    "new": "New",
    "awaiting_supplier": "Awaiting",
    "needs_attention": "Attention",
    "confirmed": "Confirmed",
    "on_hold": "On hold",
    "cancelled": "Cancelled",
}


class QueuesView(BookingSteps, ReportsWorkerFailures, Vertical):
    """Queue list, bookings of the selected queue, and the selected booking."""

    DEFAULT_CSS = """
    QueuesView #queue-list { width: 26; height: 1fr; border: round $primary-darken-1; }
    QueuesView #search { margin: 0 0 0 0; }
    QueuesView #bookings { height: 1fr; border: round $primary-darken-1; }
    """
    BINDINGS = [
        Binding("c", "claim", "Claim", id="queues.claim"),
        Binding("u", "release", "Unclaim", id="queues.release"),
        Binding("x", "cancel_booking", "Cancel", id="queues.cancel"),
        Binding("s", "send", "Send", id="queues.send"),
        Binding("f", "confirm", "Confirmed", id="queues.confirm"),
        Binding("d", "decline", "Declined", id="queues.decline"),
        Binding("h", "hold", "Hold", id="queues.hold"),
        Binding("h", "resume", "Resume", id="queues.resume"),
        Binding("e", "escalate", "Escalate", id="queues.escalate"),
        Binding("a", "assign", "Assign", id="queues.assign"),
        Binding("n", "notes", "Notes", id="queues.notes"),
        Binding("slash", "search", "Search", id="queues.search"),
        Binding("left_square_bracket", "queue(-1)", "Prev queue", id="queues.previous", show=False),
        Binding("right_square_bracket", "queue(1)", "Next queue", id="queues.next", show=False),
        Binding("escape", "leave_search", "Back to list", id="queues.leave_search", show=False),
        Binding("r", "refresh", "Refresh", id="queues.refresh", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.queue_id: str | None = None
        self.queues: dict[str, Queue] = {}
        self.search_term: str | None = None

    def compose(self) -> ComposeResult:
        """Queues left; search, table and detail right."""
        with Horizontal():
            yield OptionList(id="queue-list")
            with Vertical():
                yield Input(
                    placeholder="/ search reference, traveller, city or supplier   ·   "
                    "[ ] change queue   ·   r refresh",
                    id="search",
                )
                yield PagedTable(self._fetch_page, self._row, COLUMNS, id="bookings")
                yield BookingDetail(self.app.clock, self._claimable, id="booking-detail")

    def on_mount(self) -> None:
        """Load the queues."""
        self.query_one("#queue-list", OptionList).border_title = "Queues"
        self.load_queues()

    # -- loading -----------------------------------------------------------------------------

    @work(exclusive=True, group="queues", exit_on_error=False)
    async def load_queues(self) -> None:
        """Fetch queue counts; select the first queue on first load."""
        try:
            queues = await self.app.client.queues()
        except IkanError as error:
            self.app.report(error, "Could not load the queues")
            return
        self.queues = {q.id: q for q in queues}
        options = self.query_one("#queue-list", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        for queue in queues:
            late = (
                Text(f"\n  {queue.sla_breached} past SLA", style="bold red")
                if queue.sla_breached
                else Text("\n  on time", style="dim")
            )
            options.add_option(
                Option(Text.assemble(f"{queue.name:<17}{queue.count:>4}", late), id=queue.id)
            )
        options.highlighted = highlighted if highlighted is not None else 0
        if self.queue_id is None and queues:
            self.show_queue(queues[0].id)

    def show_queue(self, queue_id: str) -> None:
        """Show a queue's bookings from the first page."""
        self.queue_id = queue_id
        self.search_term = None
        table = self.query_one("#bookings", PagedTable)
        table.title = self.queues[queue_id].name if queue_id in self.queues else queue_id
        table.reload()

    async def _fetch_page(self, cursor: str | None) -> tuple[list[Booking], str | None, int | None]:
        search = self.search_term  # the submitted search, not what is being typed
        page = await self.app.client.bookings(
            queue=None if search else self.queue_id, q=search, cursor=cursor, limit=PAGE_SIZE
        )
        return page.items, page.next_cursor, page.total

    def _row(self, b: Booking) -> tuple[object, ...]:
        sla = sla_text(b.sla_due_at, self.app.clock(), b.sla_breached, b.status)
        return (
            b.reference,
            _clip(b.traveller_name, 15),
            b.destination_city,
            b.check_in.strftime("%d %b"),
            _priority(b.priority),
            Text(sla, style="bold red") if b.sla_breached else sla,
            _short_name(b.assignee.name) if b.assignee else Text("—", style="dim"),
            SHORT_STATUS.get(b.status, b.status),
        )

    @on(OptionList.OptionHighlighted, "#queue-list")
    def queue_chosen(self, event: OptionList.OptionHighlighted) -> None:
        """Switch the table to the highlighted queue."""
        queue_id = str(event.option.id)
        if queue_id != self.queue_id:
            self.query_one("#search", Input).value = ""
            self.show_queue(queue_id)

    @on(PagedTable.ItemHighlighted, "#bookings")
    def booking_highlighted(self, event: PagedTable.ItemHighlighted) -> None:
        """Show the highlighted booking in the detail pane and the steps it can take."""
        self.query_one(BookingDetail).booking = event.item
        self.refresh_bindings()

    def _claimable(self, booking: Booking) -> bool:
        return not self.app.read_only and step_offered("claim", booking)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the steps the selected booking can take (none when read-only)."""
        if action not in STEP_STATES or not self.is_mounted:
            return True
        if self.app.read_only:  # type: ignore[attr-defined]
            return False
        return step_offered(action, self.query_one("#bookings", PagedTable).selected)

    @on(Input.Submitted, "#search")
    def search(self) -> None:
        """Search across all queues (empty search returns to the queue)."""
        search = self.query_one("#search", Input).value.strip()
        self.search_term = search or None
        table = self.query_one("#bookings", PagedTable)
        table.title = f"Search “{search}”" if search else self.queues[self.queue_id].name
        table.reload()
        table.focus()

    def action_search(self) -> None:
        """Jump to the search field."""
        self.query_one("#search", Input).focus()

    def action_leave_search(self) -> None:
        """Escape from the search field back to the bookings."""
        self.query_one("#bookings", PagedTable).focus()

    def action_queue(self, step: int) -> None:
        """Move to the previous or next queue."""
        options = self.query_one("#queue-list", OptionList)
        if options.option_count:
            options.highlighted = ((options.highlighted or 0) + step) % options.option_count

    def action_refresh(self) -> None:
        """Reload counts and the current page."""
        self.load_queues()
        self.query_one("#bookings", PagedTable).reload()

    # -- actions -----------------------------------------------------------------------------

    def _selected(self) -> Booking | None:
        booking = self.query_one("#bookings", PagedTable).selected
        if booking is None:
            self.app.notify("Select a booking first.", severity="warning")
        return booking

    def action_claim(self) -> None:
        """Take the selected booking."""
        if (booking := self._selected()) is not None:
            self.run_action(booking, "claim", None, f"Claimed {booking.reference}.")

    def action_release(self) -> None:
        """Give the selected booking back to the queue."""
        if (booking := self._selected()) is not None:
            self.run_action(booking, "release", None, f"Unclaimed {booking.reference}.")

    def action_notes(self) -> None:
        """Read and add notes on the selected booking (in any state; read-only consoles read)."""
        if (booking := self._selected()) is not None:
            self.app.push_screen(NotesDialog(booking))

    def action_cancel_booking(self) -> None:
        """Cancel the selected booking after a confirmation with a reason."""
        booking = self._selected()
        if booking is not None:
            self.ask_to_cancel(booking)

    def ask_to_cancel(self, booking: Booking, reason: str = "") -> None:
        """The cancel confirmation (again, with the reason kept, after a 412)."""
        if booking.status == "cancelled":
            self.app.notify(
                f"{booking.reference} is already cancelled. To reverse a cancel, undo it in "
                "Audit (2).",
                severity="warning",
            )
            return
        summary = (
            f"{booking.traveller_name}, {booking.destination_city}, "
            f"{booking.check_in} → {booking.check_out}, {booking.supplier.name}.\n"
            f"Status now: {status_label(booking.status)}. Cancelling here does not notify "
            f"{booking.supplier.name}: tell them. Operations or Admin can undo this for 24 hours."
        )

        def cancel_with(given: str | None) -> None:
            if given:
                self.run_action(
                    booking, "cancel", {"reason": given}, f"Cancelled {booking.reference}."
                )

        self.app.push_screen(
            ReasonDialog(
                f"Cancel booking {booking.reference}?", summary, "Cancel booking", initial=reason
            ),
            cancel_with,
        )

    @work(group="booking-actions", exit_on_error=False)
    async def run_action(self, booking: Booking, action: str, body: dict | None, done: str) -> None:
        """Send one action; show the result or explain the refusal, and refresh."""
        table = self.query_one("#bookings", PagedTable)
        verb = ACTION_WORDS.get(action, action)
        try:
            updated = await self.app.client.booking_action(booking, action, body)
        except StaleVersion as error:
            current = Booking.model_validate(error.current) if error.current else None
            if current is not None:
                table.replace_item(booking, current)
            self.app.report(
                error,
                f"Not done: {booking.reference} changed since you loaded it; the row now "
                "shows its current state",
            )
            if action == "cancel" and current is not None and body:
                self.ask_to_cancel(current, body["reason"])  # keep what they typed
            return
        except Conflict as error:
            await self._explain_conflict(booking, verb, error)
            return
        except IkanError as error:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            return
        table.replace_item(booking, updated)
        self.query_one(BookingDetail).booking = updated
        self.app.notify(done, title="Done")
        self.load_queues()

    async def _explain_conflict(self, booking: Booking, verb: str, error: Conflict) -> None:
        """Say who holds the booking (or what state it is in) and show it as it is now."""
        try:
            current = await self.app.client.booking(booking.id)
        except IkanError:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            return
        self.query_one("#bookings", PagedTable).replace_item(booking, current)
        if error.code == "already_claimed" and current.assignee:
            holder = (
                "You hold"
                if current.assignee.email == self.app.client.user.email
                else f"{current.assignee.name} holds"
            )
            message = f"{holder} {booking.reference}; ask them to unclaim it first."
        else:
            message = f"{error} It is {status_label(current.status).lower()} now."
        self.app.notify(
            message, title=f"Could not {verb} {booking.reference}", severity="error", timeout=10
        )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short_name(name: str) -> str:
    """`Priya Nair` → `Priya N.`: enough to tell teammates apart in a narrow column."""
    first, _, last = name.partition(" ")
    return f"{first} {last[:1]}." if last else first


def _priority(priority: str) -> Text | str:
    if priority == "urgent":
        return Text("URGENT", style="bold red")
    if priority == "high":
        return Text("high", style="bold yellow")
    return priority
