"""A booking's working notes, newest first, and a field to add one, without leaving the queue."""

from __future__ import annotations

from datetime import UTC

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from ikan_console.api.errors import IkanError
from ikan_console.api.models import Booking, Note
from ikan_console.formatting import status_label, utc
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

NOTE_MAX = 4000  # the platform's limit on a note's body (NoteIn)
PAGE_SIZE = 50
LOAD_AHEAD = 5  # ask for older notes when the view is this many lines from the end
# Rows of the dialog around the notes: borders, title, note field, one wrapped problem line.
AROUND_NOTES = 10


def note_text(note: Note) -> Text:
    """Who wrote a note and when (UTC, as the platform records it), then what it says."""
    when = utc(note.created_at.astimezone(UTC))
    # The space stays with the name: SVG renderers drop a span's leading space in snapshots.
    return Text.assemble(
        (f"{note.author.name} ", "bold"), (f"· {when} UTC", "dim"), "\n", note.body
    )


class NotesDialog(ReportsWorkerFailures, ModalScreen[None]):
    """A booking's notes and a field to add one; each is saved when added, so it dismisses empty."""

    DEFAULT_CSS = """
    NotesDialog { align: center middle; }
    NotesDialog > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; border-subtitle-color: $text-muted;
        background: $surface; padding: 0 1;
    }
    NotesDialog #title { margin-top: 1; }
    NotesDialog #notes {
        height: auto; margin-top: 1;
        border: round $primary-darken-1; padding: 0 1;
    }
    NotesDialog .note { margin-bottom: 1; }
    NotesDialog .note:last-child { margin-bottom: 0; }
    NotesDialog #placeholder { color: $text-muted; }
    NotesDialog #problem { color: $error; height: auto; }
    NotesDialog #read-only { color: $warning; margin: 1 0; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="notes.close"),
        Binding("pageup", "scroll_notes(-1)", "Newer notes", id="notes.page_up", show=False),
        Binding("pagedown", "scroll_notes(1)", "Older notes", id="notes.page_down", show=False),
    ]

    def __init__(self, booking: Booking) -> None:
        super().__init__()
        self.booking = booking
        self.notes: list[Note] = []
        self.next_cursor: str | None = None
        self._loading = False
        self._adding = False

    def compose(self) -> ComposeResult:
        """Title, the notes, and the field to add one (none when the console is read-only)."""
        b = self.booking
        with Vertical() as box:
            box.border_subtitle = (
                "PgUp PgDn scroll · Esc closes"
                if self.app.read_only  # type: ignore[attr-defined]
                else "Enter adds the note · PgUp PgDn scroll · Esc closes"
            )
            yield Label(
                Text.assemble(
                    (f"Notes on {b.reference} · {b.traveller_name} ", "bold"),
                    (f"· {status_label(b.status)}", "dim"),
                ),
                id="title",
            )
            with VerticalScroll(id="notes"):
                yield Static("Loading notes…", id="placeholder")
            if self.app.read_only:  # type: ignore[attr-defined]
                yield Static(
                    "Read-only console: you can read these notes but not add one.",
                    id="read-only",
                )
            else:
                yield Input(placeholder="Write a note; Enter adds it", id="note")
                yield Static("", id="problem")

    def on_mount(self) -> None:
        """Load the newest notes; start in the note field (or the notes, when read-only)."""
        notes = self.query_one("#notes", VerticalScroll)
        notes.border_title = "Notes"
        self.watch(notes, "scroll_y", self._load_more_if_near_end, init=False)
        fields = self.query("#note")
        (fields.first() if fields else notes).focus()
        self.load_page(None)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the notes to the terminal (a screen gets this when shown, and on every resize)."""
        self._fit(event.size.height)

    def _fit(self, height: int) -> None:
        # In cells, not `vh`: an auto-height box beside an Input works out its height with `vh`
        # unresolved (Textual 8), so it would stand taller than what it holds.
        rows = max(3, min(height - AROUND_NOTES, height * 2 // 3))
        self.query_one("#notes", VerticalScroll).styles.max_height = rows

    # -- reading -----------------------------------------------------------------------------

    @work(exclusive=True, group="notes-load", exit_on_error=False)
    async def load_page(self, cursor: str | None) -> None:
        """Fetch one page of notes (the newest, or those older than `cursor`) and show it."""
        notes = self.query_one("#notes", VerticalScroll)
        self._loading = True
        notes.border_subtitle = "loading…"
        try:
            page = await self.app.client.booking_notes(  # type: ignore[attr-defined]
                self.booking.id, cursor=cursor, limit=PAGE_SIZE
            )
        except IkanError as error:
            self._loading = False
            self.next_cursor = cursor  # scrolling to the end again asks for this page again
            notes.border_subtitle = "could not load"
            if not self.notes:
                self._placeholder("Could not load the notes. Esc, then n, to try again.")
            self.app.report(  # type: ignore[attr-defined]
                error, f"Could not load the notes of {self.booking.reference}"
            )
            return
        self._loading = False
        notes.border_subtitle = ""
        shown = {n.id for n in self.notes}
        # A note added while this page was on its way is already at the top.
        fresh = [n for n in page.items if n.id not in shown]
        self.notes.extend(fresh)
        self.next_cursor = page.next_cursor
        if self.notes:
            await self._drop_placeholder()
            await notes.mount_all(Static(note_text(n), classes="note") for n in fresh)
        else:
            self._placeholder(
                "No notes on this booking yet."
                + ("" if self.app.read_only else " Add the first below.")  # type: ignore[attr-defined]
            )
        self._update_title()
        # A short first page may not fill the view, and then no scroll would ever ask for more.
        self.call_after_refresh(self._load_more_if_near_end)

    def _load_more_if_near_end(self) -> None:
        notes = self.query_one("#notes", VerticalScroll)
        if (
            self.next_cursor
            and not self._loading
            and notes.scroll_y >= notes.max_scroll_y - LOAD_AHEAD
        ):
            cursor, self.next_cursor = self.next_cursor, None  # one fetch per page
            self.load_page(cursor)

    def _update_title(self) -> None:
        count = len(self.notes)
        if self.next_cursor:
            title = f"Notes · showing the newest {count:,} · older ones load as you scroll"
        elif count:
            title = f"Notes · {count:,} note{'s' if count != 1 else ''}, newest first"
        else:
            title = "Notes"
        self.query_one("#notes", VerticalScroll).border_title = title

    def _placeholder(self, text: str) -> None:
        placeholders = self.query("#placeholder")
        if placeholders:
            placeholders.first(Static).update(text)
        else:
            self.query_one("#notes", VerticalScroll).mount(Static(text, id="placeholder"))

    async def _drop_placeholder(self) -> None:
        await self.query("#placeholder").remove()

    def action_scroll_notes(self, pages: int) -> None:
        """Page through the notes while the note field keeps the focus."""
        notes = self.query_one("#notes", VerticalScroll)
        if pages < 0:
            notes.scroll_page_up()
        else:
            notes.scroll_page_down()

    # -- adding ------------------------------------------------------------------------------

    @on(Input.Submitted, "#note")
    def add_note(self) -> None:
        """Send what was typed, once it is a note the platform would take."""
        if self._adding:
            return
        body = self.query_one("#note", Input).value.strip()
        if not body:
            self._problem("Write the note first: an empty note is not added.")
            return
        if len(body) > NOTE_MAX:
            self._problem(
                f"This note is {len(body):,} characters; a note can have at most {NOTE_MAX:,}. "
                f"Shorten it by {len(body) - NOTE_MAX:,}. Nothing was sent."
            )
            return
        self._adding = True  # before the worker starts: a second Enter must not send it twice
        self._problem("Adding…")
        self.send_note(body)

    @work(group="notes-add", exit_on_error=False)
    async def send_note(self, body: str) -> None:
        """Add the note; on success it goes to the top and the field clears, else it stays."""
        try:
            note = await self.app.client.add_booking_note(  # type: ignore[attr-defined]
                self.booking.id, body
            )
        except IkanError as error:
            self._problem("Not added; your text is kept. Press Enter to try again.")
            self.app.report(  # type: ignore[attr-defined]
                error, f"Could not add the note to {self.booking.reference}"
            )
            return
        finally:
            self._adding = False
        self.notes.insert(0, note)
        await self._drop_placeholder()
        notes = self.query_one("#notes", VerticalScroll)
        widget = Static(note_text(note), classes="note")
        children = notes.children
        await (notes.mount(widget, before=children[0]) if children else notes.mount(widget))
        notes.scroll_home(animate=False)
        self._update_title()
        field = self.query_one("#note", Input)
        if field.value.strip() == body:  # not something typed since Enter
            field.value = ""
        self._problem("")

    def _problem(self, text: str) -> None:
        self.query_one("#problem", Static).update(text)

    def action_close(self) -> None:
        """Close, unless a note is on its way (closing then would hide whether it was saved)."""
        if self._adding:
            self._problem("Wait a moment: the note is being saved.")
            return
        self.dismiss(None)
