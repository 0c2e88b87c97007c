"""A confirmation that shows what will happen and asks for the reason an auditor will read."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class TextRule:
    """What the platform accepts in the dialog's field (ikan_platform/schemas.py), in words."""

    min_length: int
    max_length: int
    name: str  # "The reason": what the too-long refusal calls it
    too_short: str

    def problem(self, text: str) -> str | None:
        """Why the platform would refuse `text` (already stripped), or None."""
        if len(text) < self.min_length:
            return self.too_short
        if len(text) > self.max_length:
            over = len(text) - self.max_length
            return (
                f"{self.name} is {len(text):,} characters; the platform takes at most "
                f"{self.max_length:,}. Shorten it by {over:,}."
            )
        return None


REASON = TextRule(
    3, 2000, "The reason", "Write a reason of at least 3 characters; auditors will read it."
)
REFERENCE = TextRule(
    1, 60, "The reference", "Type the supplier's booking reference (as they gave it)."
)


class ReasonDialog(ModalScreen[str | None]):
    """Confirm a consequential write; dismisses with the reason, or None when cancelled."""

    DEFAULT_CSS = """
    ReasonDialog { align: center middle; }
    ReasonDialog > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    ReasonDialog #title { text-style: bold; margin-bottom: 1; }
    ReasonDialog #summary { margin-bottom: 1; }
    ReasonDialog #problem { color: $error; height: auto; }
    ReasonDialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    ReasonDialog Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "dismiss_none", "Back", id="dialog.back")]

    def __init__(
        self,
        title: str,
        summary: str,
        confirm_label: str,
        placeholder: str = "Reason (required, kept in the audit trail)",
        initial: str = "",
        *,
        rule: TextRule = REASON,
        problem: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._summary = summary
        self._confirm_label = confirm_label
        self._placeholder = placeholder
        self._initial = initial  # what was typed before, when the dialog comes back
        self._rule = rule
        self._problem = problem  # why the platform refused it last time

    def compose(self) -> ComposeResult:
        """Title, what will happen, reason field, buttons."""
        with Vertical():
            yield Label(self._title, id="title")
            yield Static(self._summary, id="summary")
            yield Input(self._initial, placeholder=self._placeholder, id="reason")
            yield Static(self._problem, id="problem", markup=False)  # the platform's words
            with Horizontal():
                yield Button("Back (Esc)", id="back")
                yield Button(self._confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        """Start in the reason field."""
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Accept only what the platform would; otherwise say why and keep the text."""
        reason = self.query_one("#reason", Input).value.strip()
        problem = self._rule.problem(reason)
        if problem is not None:
            self.query_one("#problem", Static).update(problem)
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#back")
    def action_dismiss_none(self) -> None:
        """Leave without doing anything."""
        self.dismiss(None)
