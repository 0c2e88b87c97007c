"""Pick the teammate to hand a booking to."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from ikan_console.api.models import User


class AssignDialog(ModalScreen[User | None]):
    """A list of active Operations and Admin staff; Enter assigns, Esc goes back."""

    DEFAULT_CSS = """
    AssignDialog { align: center middle; }
    AssignDialog > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: thick $accent; background: $surface; padding: 1 2;
    }
    AssignDialog Label { text-style: bold; margin-bottom: 1; }
    AssignDialog OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "back", "Back", id="assign.back")]

    def __init__(self, reference: str, teammates: list[User], current_id: int | None) -> None:
        super().__init__()
        self._reference = reference
        self._teammates = {str(u.id): u for u in teammates}
        self._current_id = current_id

    def compose(self) -> ComposeResult:
        """Title and the teammates."""
        with Vertical():
            yield Label(f"Assign {self._reference} to…")
            yield OptionList(
                *(
                    Option(
                        f"{u.name:<24} {u.role_label:<11}"
                        + ("  (holds it now)" if u.id == self._current_id else ""),
                        id=key,
                    )
                    for key, u in self._teammates.items()
                ),
                id="teammates",
            )

    def on_mount(self) -> None:
        """Start on the list."""
        self.query_one("#teammates", OptionList).focus()

    @on(OptionList.OptionSelected, "#teammates")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        """Assign to the chosen teammate."""
        self.dismiss(self._teammates[str(event.option.id)])

    def action_back(self) -> None:
        """Leave without assigning."""
        self.dismiss(None)
