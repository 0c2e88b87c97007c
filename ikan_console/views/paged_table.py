"""A DataTable that loads keyset pages as the cursor nears the end, never the whole list."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from ikan_console.api.errors import IkanError
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

Fetch = Callable[[str | None], Awaitable[tuple[list[Any], str | None, int | None]]]
# An item's cells: in column order, or by column name (then `show_columns` can pick them).
Cells = Sequence[object] | Mapping[str, object]
LOAD_AHEAD = 15


class PagedTable(ReportsWorkerFailures, DataTable):
    """Rows from a paginated API; each row's key is its item's id."""

    BINDINGS = [
        Binding("home", "scroll_top", "First row", id="table.home", show=False),
        Binding("end", "scroll_bottom", "Last loaded", id="table.end", show=False),
    ]

    class ItemHighlighted(Message):
        """The cursor moved onto an item (or the table emptied: item is None)."""

        def __init__(self, table: PagedTable, item: Any | None) -> None:
            super().__init__()
            self.table = table
            self.item = item

        @property
        def control(self) -> PagedTable:
            """The table that sent it."""
            return self.table

    def __init__(
        self,
        fetch: Fetch,
        row: Callable[[Any], Cells],
        columns: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._fetch = fetch
        self._row = row
        self._columns = tuple(columns)
        self.items: list[Any] = []
        self.next_cursor: str | None = None
        self.total: int | None = None
        self.title = ""
        self.empty_text = "Nothing here."  # the view may say what to do instead
        self._keep_selection = True
        self._generation = 0
        self._loading_title: str | None = None
        self._showing_empty = False

    def on_mount(self) -> None:
        """Set up columns."""
        self.add_columns(*self._columns)

    @property
    def selected(self) -> Any | None:
        """The item under the cursor."""
        if not self.items or not 0 <= self.cursor_row < len(self.items):
            return None
        return self.items[self.cursor_row]

    def _update_title(self) -> None:
        total = (
            f" of {self.total:,}" if self.total is not None else ("+" if self.next_cursor else "")
        )
        self.border_title = f"{self.title} · showing {len(self.items):,}{total}"

    def _cells(self, item: Any) -> tuple[object, ...]:
        cells = self._row(item)
        if isinstance(cells, Mapping):
            return tuple(cells[column] for column in self._columns)
        return tuple(cells)

    def _fill(self) -> None:
        """Columns and rows from the loaded items; an empty list says so in its first row."""
        self.clear(columns=True)
        self._showing_empty = not self.items
        # No headers and no cursor over nothing: one line that says what to do instead.
        self.show_header = self.show_cursor = not self._showing_empty
        if self._showing_empty:
            self.add_column("", key="empty")
            self.add_row(Text(self.empty_text, style="dim"))
            return
        self.add_columns(*self._columns)
        self.add_rows([self._cells(item) for item in self.items])

    def show_columns(self, columns: Sequence[str]) -> None:
        """Show these columns, in this order, without fetching again (cells by name only)."""
        if tuple(columns) == self._columns:
            return
        self._columns = tuple(columns)
        if self.is_mounted and not self._showing_empty:  # mounting adds them; empty has none
            # Not in the caller's turn: on a resize Textual lays the table out and paints it in
            # the same pass, before DataTable has measured the new rows, and its cell cache
            # would keep every cell as narrow as its header.
            self.call_later(self._rebuild_columns)

    def _rebuild_columns(self) -> None:
        if self._showing_empty:
            return  # a reload found nothing meanwhile; its line stays
        row = self.cursor_row
        self.clear(columns=True)
        self.add_columns(*self._columns)
        self.add_rows([self._cells(item) for item in self.items])
        if self.items:
            self.move_cursor(row=min(row, len(self.items) - 1))

    def reload(self, title: str | None = None, *, keep_selection: bool = True) -> None:
        """Start again from the first page; `title` names the new list once it has loaded.

        The cursor stays on the item it was on, if that is still listed, unless
        `keep_selection` is false (a newest-first log shows its newest row).
        """
        self._generation += 1
        self.next_cursor = None
        self._loading_title = title
        self._keep_selection = keep_selection
        self._load(None, self._generation, reset=True)

    @work(group="paged-table", exit_on_error=False)
    async def _load(self, cursor: str | None, generation: int, *, reset: bool) -> None:
        self.border_subtitle = "loading…"
        try:
            items, next_cursor, total = await self._fetch(cursor)
        except IkanError as error:
            if generation == self._generation:
                # The rows and the title still show the list that loaded last: say what did not.
                wanted = f"{self._loading_title} " if reset and self._loading_title else ""
                self.border_subtitle = f"could not load {wanted}— r to retry"
                self.app.report(error, "Could not load the list")
            return
        if generation != self._generation:
            return  # a newer reload owns the table now
        self.border_subtitle = ""
        if reset:
            keep = self._keep_selection and self.selected is not None
            keep_key = self.selected.id if keep else None
            if self._loading_title is not None:
                self.title, self._loading_title = self._loading_title, None
            self.items = list(items)
            self.total = total
            # Rebuild the columns too, so their widths fit this list rather than the last one.
            self._fill()
        else:
            self.items.extend(items)
            if total is not None:  # later pages leave the count to the first
                self.total = total
            self.add_rows([self._cells(i) for i in items])
        self.next_cursor = next_cursor
        self._update_title()
        if reset:
            row = next((n for n, i in enumerate(self.items) if i.id == keep_key), 0)
            if self.items:
                self.move_cursor(row=row)
            self.post_message(self.ItemHighlighted(self, self.selected))

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.ItemHighlighted(self, self.selected))
        if self.next_cursor and event.cursor_row >= len(self.items) - LOAD_AHEAD:
            cursor, self.next_cursor = self.next_cursor, None  # one fetch per page
            self._load(cursor, self._generation, reset=False)

    def replace_item(self, old: Any, new: Any) -> None:
        """Show a changed item in place (after an action or a 412 with the current state)."""
        for index, item in enumerate(self.items):
            if item.id == old.id:
                self.items[index] = new
                for column, value in enumerate(self._cells(new)):
                    # A longer value (Awaiting → Confirmed) widens its column instead of being cut.
                    self.update_cell_at((index, column), value, update_width=True)
                if index == self.cursor_row:
                    self.post_message(self.ItemHighlighted(self, new))
                return
