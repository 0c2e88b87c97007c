"""What an erasure does, per data category: every category reachable, the totals always in view.

The categories scroll between a fixed heading and a fixed totals line, and a line under the
totals says how many categories are in view and how many lie above or below. A category takes
two lines or more: its numbers, then why it is kept (or its rule), wrapped to the dialog's width
rather than squeezed into a column, so nothing is cut off at 80 columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich.console import Group
from rich.padding import Padding
from rich.table import Column, Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from ikan_console.api.models import DeletionPreview, ScopeCategory

# (heading, width, justify): fixed widths, so the heading, the rows and the totals line up
# although they are separate widgets and only the rows have a scrollbar.
COLUMNS = (
    ("Data", 18, "left"),
    ("Records", 7, "right"),
    ("Erase", 5, "right"),
    ("Pseudonymise", 12, "right"),
    ("Keep", 4, "right"),
    ("Kept until", 10, "left"),
)
COUNTS = ("erase", "pseudonymise", "retain")
COUNT_STYLES = {"erase": "red", "pseudonymise": "yellow", "retain": "green"}


def scope_totals(categories: Iterable[ScopeCategory]) -> dict[str, int]:
    """Records, erased, pseudonymised and kept, over every category."""
    totals = dict.fromkeys(("count", *COUNTS), 0)
    for c in categories:
        for key in totals:
            totals[key] += getattr(c, key)
    return totals


def outcome_text(categories: Iterable[ScopeCategory]) -> str:
    """`3 erased, 11 pseudonymised, 2 kept with a legal basis`: only what happens, in words."""
    totals = scope_totals(categories)
    parts = [
        f"{totals[key]} {words}"
        for key, words in (
            ("erase", "erased"),
            ("pseudonymise", "pseudonymised"),
            ("retain", "kept with a legal basis"),
        )
        if totals[key]
    ]
    return ", ".join(parts) or "no records found"


def _grid() -> Table:
    return Table.grid(
        *(
            Column(width=width, justify=justify, no_wrap=True, overflow="ellipsis")  # type: ignore[arg-type]
            for _, width, justify in COLUMNS
        ),
        padding=(0, 1),
    )


def _count(value: int, key: str) -> Text:
    return Text(str(value), style=COUNT_STYLES[key] if value else "dim")


class CategoryRow(Static):
    """One category: its numbers, then why it is kept (or its rule), wrapped."""

    def __init__(self, category: ScopeCategory) -> None:
        super().__init__(id=f"category-{category.category}")
        self.category = category

    def render(self) -> Any:
        """Numbers on the first line, the reason beneath."""
        c = self.category
        grid = _grid()
        grid.add_row(
            Text(c.label, style="bold"),
            str(c.count),
            *(_count(getattr(c, key), key) for key in COUNTS),
            str(c.retain_until or "—"),
        )
        if c.legal_basis:
            why = Text.assemble(("Kept: ", "bold"), "; ".join(c.legal_basis))
        else:
            why = Text(f"Rule: {c.retention_rule}", style="dim")
        return Group(grid, Padding(why, (0, 0, 0, 2)))


class ErasureScope(Vertical):
    """The preview's categories between a fixed heading and fixed totals."""

    DEFAULT_CSS = """
    ErasureScope { height: auto; max-height: 100%; }
    ErasureScope > #scope-head { dock: top; height: auto; }
    ErasureScope .scope-warning { color: $warning; text-style: bold; margin-bottom: 1; }
    ErasureScope > #scope-foot { dock: bottom; height: auto; }
    ErasureScope #scope-totals { border-top: solid $foreground 30%; height: auto; }
    ErasureScope #scope-hint { color: $text-muted; }
    ErasureScope #scope-hint.-more { color: $warning; text-style: bold; }
    ErasureScope > #categories { height: auto; max-height: 100%; }
    """

    def __init__(self, preview: DeletionPreview, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.preview = preview

    def compose(self) -> ComposeResult:
        """Warnings and heading, the totals and the in-view line (docked), the categories."""
        heading = _grid()
        heading.add_row(*(Text(name, style="bold underline") for name, _, _ in COLUMNS))
        with Vertical(id="scope-head"):
            for warning in self.preview.warnings:
                yield Static(f"⚠ {warning}", classes="scope-warning", markup=False)
            yield Static(heading, id="scope-heading")
        totals = scope_totals(self.preview.categories)
        row = _grid()
        row.add_row(
            Text("Total", style="bold"),
            str(totals["count"]),
            *(_count(totals[key], key) for key in COUNTS),
            "",
        )
        with Vertical(id="scope-foot"):
            yield Static(row, id="scope-totals")
            yield Static(id="scope-hint")
        with VerticalScroll(id="categories"):
            for category in self.preview.categories:
                yield CategoryRow(category)

    def on_mount(self) -> None:
        """Keep the in-view line true as the list scrolls."""
        rows = self.query_one("#categories", VerticalScroll)
        self.watch(rows, "scroll_y", lambda: self.call_after_refresh(self.update_hint))

    def on_resize(self) -> None:
        """Rows rewrap and the viewport changes with the terminal."""
        self.call_after_refresh(self.update_hint)

    def in_view(self) -> tuple[int, int, int]:
        """(above, in full view, below): a category cut off at either edge is not in view."""
        rows = self.query_one("#categories", VerticalScroll)
        top = round(rows.scroll_y)
        bottom = top + rows.scrollable_content_region.height
        above = shown = below = 0
        for row in rows.query(CategoryRow):
            region = row.virtual_region
            if region.y < top:
                above += 1
            elif region.bottom > bottom:
                below += 1
            else:
                shown += 1
        return above, shown, below

    def update_hint(self) -> None:
        """`All 8 categories shown.`, or how many are in view and where the rest are."""
        above, shown, below = self.in_view()
        total = above + shown + below
        hint = self.query_one("#scope-hint", Static)
        hint.set_class(bool(above or below), "-more")
        if not (above or below):
            hint.update(f"All {total} categories shown.")
            return
        where = ", ".join(f"{n} {side}" for n, side in ((above, "above"), (below, "below")) if n)
        if not (above and below):
            where = f"{where.split()[0]} more {where.split()[1]}"
        hint.update(f"{shown} of {total} categories in full view; {where} (scroll: ↑ ↓ PgUp PgDn)")

    def scroll_categories(self, how: str) -> None:
        """Scroll the categories (`up`, `down`, `page_up`, `page_down`), whatever has focus."""
        rows = self.query_one("#categories", VerticalScroll)
        getattr(rows, f"scroll_{how}")(animate=False)
