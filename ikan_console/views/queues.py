"""Booking queues: pick a queue, work its bookings (claim, cancel, notes...), soonest SLA first."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ikan_console.api.errors import (
    Conflict,
    IkanError,
    OutcomeUnknown,
    PlatformUnreachable,
    StaleVersion,
    Unprocessable,
)
from ikan_console.api.models import Booking, Queue
from ikan_console.formatting import status_label
from ikan_console.screens.notes_dialog import NotesDialog
from ikan_console.views.booking_rows import COLUMNS, NARROW_COLUMNS, booking_cells
from ikan_console.views.booking_steps import (
    ACTION_WORDS,
    CANCEL,
    STEP_STATES,
    AskAgain,
    BookingSteps,
    Done,
    step_offered,
)
from ikan_console.views.fits_width import FitsWidth
from ikan_console.views.offered_keys import OffersKeys
from ikan_console.views.paged_table import PagedTable
from ikan_console.widgets.booking_detail import BookingDetail
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

PAGE_SIZE = 100
# Below this many columns (the main screen's `narrow`) the list keeps NARROW_COLUMNS.
NARROW = 110
# The footer has room for every step a booking can offer at once (116 columns) from 120; below,
# it leaves out the rarer steps, and below 70 (the keys panel open on a small terminal) every
# step. Their keys still work, and `?` lists them all.
FULL_FOOTER, STEPS_FOOTER = 120, 70
RARER_STEPS = frozenset({"cancel_booking", "hold", "resume", "escalate", "assign"})


class QueuesView(FitsWidth, OffersKeys, BookingSteps, ReportsWorkerFailures, Vertical):
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
        # The main screen's key, kept off this footer (the steps need the room); `?` and the
        # command palette list it. Same id, so rebinding it moves both.
        Binding("ctrl+o", "screen.sign_out", "Sign out", id="session.sign_out", show=False),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.queue_id: str | None = None
        self.queues: dict[str, Queue] = {}
        self.search_term: str | None = None
        self._in_flight: set[int] = set()  # bookings with a step on its way to the platform
        self._told_busy: set[int] = set()  # ...and the ones the user was told so, once
        self._left_out: frozenset[str] = frozenset()  # steps the footer has no room for

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
                yield PagedTable(self._fetch_page, self._cells, COLUMNS, id="bookings")
                yield BookingDetail(self.app.clock, self._claimable, id="booking-detail")

    def on_mount(self) -> None:
        """Load the queues."""
        self.query_one("#queue-list", OptionList).border_title = "Queues"
        self.load_queues()

    def fit_width(self, width: int) -> None:
        """Fit the columns and the footer to the view's width."""
        self.query_one("#bookings", PagedTable).show_columns(
            NARROW_COLUMNS if width < NARROW else COLUMNS
        )
        left_out = (
            frozenset()
            if width >= FULL_FOOTER
            else RARER_STEPS
            if width >= STEPS_FOOTER
            else frozenset(STEP_STATES)
        )
        if left_out != self._left_out:
            self._left_out = left_out
            # Textual reads a binding's `show` when it builds the footer and offers no way to
            # change it, so the view swaps in its own map: the same bindings (ids and all, so
            # keymaps still apply), the ones left out marked not to show.
            self._bindings = BindingsMap(
                replace(b, show=b.show and b.action not in left_out)
                for _key, b in self._merged_bindings or BindingsMap()
            )
            self.refresh_bindings()

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
        """Show a queue's bookings from the first page (the title changes once they are in)."""
        self.queue_id = queue_id
        self.search_term = None
        table = self.query_one("#bookings", PagedTable)
        table.empty_text = "No bookings in this queue."
        table.reload(self._list_title())

    def _list_title(self) -> str:
        """What the table shows: the search, or the queue."""
        if self.search_term:
            return f"Search “{self.search_term}”"
        queue = self.queues.get(self.queue_id or "")
        return queue.name if queue else str(self.queue_id)

    async def _fetch_page(self, cursor: str | None) -> tuple[list[Booking], str | None, int | None]:
        search = self.search_term  # the submitted search, not what is being typed
        page = await self.app.client.bookings(
            queue=None if search else self.queue_id, q=search, cursor=cursor, limit=PAGE_SIZE
        )
        return page.items, page.next_cursor, page.total

    def _cells(self, booking: Booking) -> dict[str, object]:
        return booking_cells(booking, self.app.clock())  # type: ignore[attr-defined]

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
        self.refresh_offered([*STEP_STATES, "notes"])

    def _claimable(self, booking: Booking) -> bool:
        return not self.app.read_only and step_offered("claim", booking, self.app.client.user)  # type: ignore[attr-defined]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the steps the selected booking can take (none when read-only)."""
        if action == "notes" and self.is_mounted:  # read-only consoles read notes too
            return self.query_one("#bookings", PagedTable).selected is not None
        if action not in STEP_STATES or not self.is_mounted:
            return True
        if self.app.read_only:  # type: ignore[attr-defined]
            return False
        selected = self.query_one("#bookings", PagedTable).selected
        return step_offered(action, selected, self.app.client.user)

    @on(Input.Submitted, "#search")
    def search(self) -> None:
        """Search across all queues (empty search returns to the queue)."""
        search = self.query_one("#search", Input).value.strip()
        self.search_term = search or None
        table = self.query_one("#bookings", PagedTable)
        table.empty_text = (
            f"No bookings match “{search}”. Esc, then an empty search returns to the queue."
            if search
            else "No bookings in this queue."
        )
        table.reload(self._list_title())
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
        self.query_one("#bookings", PagedTable).reload(self._list_title())

    # -- actions -----------------------------------------------------------------------------

    def _selected(self) -> Booking | None:
        booking = self.query_one("#bookings", PagedTable).selected
        if booking is None:
            self.app.notify("Select a booking first.", severity="warning")
        return booking

    def _target(self) -> Booking | None:
        """The booking a step key acts on: the selected one, unless a step of it is on its way."""
        booking = self._selected()
        if booking is not None and booking.id in self._in_flight:
            self._say_busy(booking)
            return None
        return booking

    def _say_busy(self, booking: Booking) -> None:
        """Once per step on its way: more presses would only stack refusals."""
        if booking.id not in self._told_busy:
            self._told_busy.add(booking.id)
            self.app.notify(
                f"Still working on {booking.reference}: waiting for the platform's answer.",
                timeout=4,
            )

    def action_claim(self) -> None:
        """Take the selected booking."""
        if (booking := self._target()) is not None:
            self.run_action(booking, "claim", None, f"Claimed {booking.reference}.")

    def action_release(self) -> None:
        """Give the selected booking back to the queue."""
        if (booking := self._target()) is not None:
            self.run_action(booking, "release", None, f"Unclaimed {booking.reference}.")

    def action_notes(self) -> None:
        """Read and add notes on the selected booking (in any state; read-only consoles read)."""
        if (booking := self._selected()) is not None:
            self.app.push_screen(NotesDialog(booking))

    def action_cancel_booking(self) -> None:
        """Cancel the selected booking after a confirmation with a reason."""
        if (booking := self._target()) is not None:
            self.ask(booking, CANCEL)

    def run_action(
        self,
        booking: Booking,
        action: str,
        body: dict | None,
        done: Done,
        again: AskAgain | None = None,
    ) -> None:
        """Send one step for a booking, unless one is already on its way for it."""
        if booking.id in self._in_flight:
            self._say_busy(booking)
            return
        self._in_flight.add(booking.id)
        self._send_step(booking, action, body, done, again)

    @work(group="booking-actions", exit_on_error=False)
    async def _send_step(
        self, booking: Booking, action: str, body: dict | None, done: Done, again: AskAgain | None
    ) -> None:
        """Send the step; show the result, or explain the refusal and keep what was typed."""
        table = self.query_one("#bookings", PagedTable)
        verb = ACTION_WORDS.get(action, action)
        # A stalled platform can take two timeouts (about 30 s) to give up: show it is working.
        detail = self.query_one(BookingDetail)
        detail.border_subtitle = f"{verb} {booking.reference}: waiting for the platform…"
        try:
            try:
                updated = await self.app.client.booking_action(booking, action, body)
            finally:
                self._in_flight.discard(booking.id)
                self._told_busy.discard(booking.id)
                if not self._in_flight:
                    detail.border_subtitle = ""
        except StaleVersion as error:
            current = Booking.model_validate(error.current) if error.current else None
            if current is not None:
                table.replace_item(booking, current)
            self.app.report(
                error,
                f"Not done: {booking.reference} changed since you loaded it; the row now "
                "shows its current state",
            )
            if again is not None and current is not None:
                again(current, "")
            return
        except Conflict as error:
            await self._explain_conflict(booking, verb, error)
            return
        except Unprocessable as error:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            if again is not None:
                again(booking, str(error))
            return
        except OutcomeUnknown as error:
            self.app.report(error, f"{verb.capitalize()} {booking.reference}: no answer")
            if again is not None:
                again(booking, "")  # the same text again is the same write: safe to send
            await self._show_current(booking)
            return
        except PlatformUnreachable as error:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            if again is not None:
                again(booking, "")
            return
        except IkanError as error:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            return
        table.replace_item(booking, updated)
        self.query_one(BookingDetail).booking = updated
        self.app.notify(done if isinstance(done, str) else done(updated), title="Done")
        self.load_queues()

    async def _show_current(self, booking: Booking) -> None:
        """After an unknown outcome: show the booking as it is now, if the platform answers."""
        try:
            current = await self.app.client.booking(booking.id)
        except IkanError:
            return  # still no answer: the message says to press r
        table = self.query_one("#bookings", PagedTable)
        shown = next((b for b in table.items if b.id == current.id), None)
        if shown is not None and shown.version <= current.version:  # never step back in time
            table.replace_item(shown, current)

    async def _explain_conflict(self, booking: Booking, verb: str, error: Conflict) -> None:
        """Say who holds the booking (or what state it is in) and show it as it is now."""
        try:
            current = await self.app.client.booking(booking.id)
        except IkanError:
            self.app.report(error, f"Could not {verb} {booking.reference}")
            return
        self.query_one("#bookings", PagedTable).replace_item(booking, current)
        if error.code == "already_claimed" and current.assignee:
            me = self.app.client.user
            message = (
                f"You already hold {booking.reference}."
                if me is not None and current.assignee.id == me.id
                else f"{current.assignee.name} holds {booking.reference}; ask them to unclaim "
                "it, or hand it over with Assign (a)."
            )
        else:
            message = f"{error} It is {status_label(current.status).lower()} now."
        self.app.notify(
            message, title=f"Could not {verb} {booking.reference}", severity="error", timeout=10
        )
