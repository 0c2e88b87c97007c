"""Before/after of one audit event, changed fields first, so the mistake is obvious."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from ikan_console.api.models import AuditEvent
from ikan_console.formatting import span, status_label, utc, value_text

# Fields of audited states that hold a user id: the diff names the person.
PERSON_FIELDS = frozenset({"assignee_id", "author_id", "approved_by_id", "verified_by_id"})


def undo_state(event: AuditEvent, now: datetime) -> tuple[str, str]:
    """(short text, style) for whether and until when an event can be undone."""
    if event.undone_by_event_id is not None:
        return f"undone (#{event.undone_by_event_id})", "dim"
    if event.undo_expires_at is None:
        return "not undoable", "dim"
    if event.undo_expires_at < now:
        return "closed", "dim"
    if not event.undoable:  # inside its window, not undone: a later change is still in effect
        return "changed since", "yellow"
    return f"{span(event.undo_expires_at - now)} left", "bold green"


def field_text(key: str, value: object, people: dict[int, str]) -> str:
    """A before/after value as text; a user id reads `Priya Nair (#3)` when the name is known."""
    if key in PERSON_FIELDS and isinstance(value, int) and value in people:
        return f"{people[value]} (#{value})"
    if key == "status" and isinstance(value, str):
        return status_label(value)
    return value_text(value)


def changed_rows(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[str]:
    """Fields whose value differs, ignoring the version counter."""
    keys = list(dict.fromkeys([*(before or {}), *(after or {})]))
    return [k for k in keys if k != "version" and (before or {}).get(k) != (after or {}).get(k)]


class DiffView(VerticalScroll):
    """The selected audit event: who, when, why, and every changed field before → after.

    Scrolls (focus it with Tab, then arrows or Page Down) when a diff is longer than the pane.
    """

    DEFAULT_CSS = """
    DiffView {
        height: 1fr;
        border: round $primary-darken-1;
        padding: 0 1;
    }
    """

    event: reactive[AuditEvent | None] = reactive(None)
    people: reactive[dict[int, str]] = reactive(dict)  # user id -> name, set by the view

    def __init__(self, clock: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._clock = clock
        self.border_title = "Change"

    def compose(self) -> Any:
        """One body that holds the rendered diff."""
        yield Static(self.diff(), id="diff-body")

    def watch_event(self, event: AuditEvent | None) -> None:
        """Render the new event's diff from the top."""
        if self.is_mounted:
            self.query_one("#diff-body", Static).update(self.diff())
            self.scroll_home(animate=False)

    def watch_people(self, people: dict[int, str]) -> None:
        """Names arrived: show them in place of ids."""
        self.refresh_diff()

    def refresh_diff(self) -> None:
        """Render again in place (names arrived, or the undo countdown moved on)."""
        if self.is_mounted:
            self.query_one("#diff-body", Static).update(self.diff())

    def diff(self) -> Any:
        """The event header and its field-by-field diff."""
        event = self.event
        if event is None:
            return Text("Select an event to see what it changed.", style="dim")
        now = self._clock()
        state, style = undo_state(event, now)
        head = Text()
        head.append(f"{event.action}", style="bold")
        head.append(f" on {event.entity_label}  by {event.actor.email} ({event.actor.role})")
        head.append(f"  at {utc(event.occurred_at)} UTC\n")
        if event.reason:
            head.append("Reason: ", style="bold")
            head.append(f"{event.reason}\n")
        if event.reverts_event_id:
            head.append(f"Reverts event #{event.reverts_event_id}. ", style="italic")
        head.append("Undo: ", style="bold")
        head.append(state, style=style)
        if event.undoable and event.undo_expires_at and event.undo_expires_at >= now:
            head.append(f" (until {utc(event.undo_expires_at)} UTC — press u)")
        elif state == "changed since":
            head.append(
                f" — {event.entity_label} was changed after this event; undo the newer change"
                " first (filter by the record to see it), or correct it by hand."
            )
        table = Table(expand=True, show_edge=False, box=None, padding=(0, 1))
        table.add_column("field", style="bold", ratio=1)
        table.add_column("before", ratio=2)
        table.add_column("after", ratio=2)
        changed = changed_rows(event.before, event.after)
        for key in changed:
            before = (
                field_text(key, event.before.get(key), self.people)
                if event.before
                else "(did not exist)"
            )
            after = (
                field_text(key, event.after.get(key), self.people) if event.after else "(deleted)"
            )
            table.add_row(key, Text(before, style="red"), Text(after, style="green"))
        if not changed:
            table.add_row("", Text("no field changed", style="dim"), "")
        total = len({*(event.before or {}), *(event.after or {})}) - 1
        foot = Text(
            f"{len(changed)} changed, {max(total - len(changed), 0)} unchanged fields", style="dim"
        )
        return Group(head, table, foot)
