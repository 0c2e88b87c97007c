"""A confirmation that shows what will happen and asks for the reason an auditor will read."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

MIN_REASON = 3


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
    ) -> None:
        super().__init__()
        self._title = title
        self._summary = summary
        self._confirm_label = confirm_label
        self._placeholder = placeholder
        self._initial = initial

    def compose(self) -> ComposeResult:
        """Title, what will happen, reason field, buttons."""
        with Vertical():
            yield Label(self._title, id="title")
            yield Static(self._summary, id="summary")
            yield Input(self._initial, placeholder=self._placeholder, id="reason")
            yield Static("", id="problem")
            with Horizontal():
                yield Button("Back (Esc)", id="back")
                yield Button(self._confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        """Start in the reason field."""
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Accept only a real reason."""
        reason = self.query_one("#reason", Input).value.strip()
        if len(reason) < MIN_REASON:
            self.query_one("#problem", Static).update(
                f"Write a reason of at least {MIN_REASON} characters; auditors will read it."
            )
            self.query_one("#reason", Input).focus()
            return
        self.dismiss(reason)

    @on(Button.Pressed, "#back")
    def action_dismiss_none(self) -> None:
        """Leave without doing anything."""
        self.dismiss(None)
