"""Deletion-request dialogs: the erasure preview, the execute confirmation, identity check."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ikan_console.api.models import DeletionPreview, DeletionRequest
from ikan_console.widgets.erasure_scope import ErasureScope

VERIFICATION_METHODS = (
    ("signed_in_account", "Request came from the subject's signed-in ikan account"),
    ("email_confirmation", "Subject confirmed from the email address we hold"),
    ("id_document", "Identity document checked (do not copy its number)"),
    ("client_hr_confirmation", "Client HR confirmed the employee's identity"),
    ("other", "Other (describe in the note)"),
)

# Rows below which a dialog drops its padding and its buttons and input their borders, as the
# main screen does below 32 rows (screens/main.py).
SHORT = 32

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 110; max-width: 100%; height: auto; max-height: 100%;
    border: thick $warning; background: $surface; padding: 1 2;
}}
{name} .title {{ dock: top; text-style: bold; margin-bottom: 1; }}
{name} .problem {{ color: $error; height: auto; display: none; }}
{name} #bottom {{ dock: bottom; height: auto; }}
{name} .actions {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} .actions Button {{ margin-left: 2; }}
{name}.-short > Vertical {{ padding: 0 1; }}
{name}.-short .title {{ margin-bottom: 0; }}
{name}.-short .actions {{ margin-top: 0; }}
{name}.-short Input {{ background: $primary 25%; }}
"""
# Whatever has focus (the typed reference, a button), these keys scroll the categories.
SCROLL_BINDINGS = [
    Binding("down", "scroll_scope('down')", "Scroll down", show=False, id="erasure.down"),
    Binding("up", "scroll_scope('up')", "Scroll up", show=False, id="erasure.up"),
    Binding(
        "pagedown", "scroll_scope('page_down')", "Page down", show=False, id="erasure.page_down"
    ),
    Binding("pageup", "scroll_scope('page_up')", "Page up", show=False, id="erasure.page_up"),
]


class FitsTheTerminal:
    """Mixin for the dialogs: on a short terminal, one-line buttons and input, no padding.

    The problem line takes no row until there is a problem to show.
    """

    def on_resize(self, event: events.Resize) -> None:
        """Fit the dialog to the terminal's height."""
        short = event.size.height < SHORT
        self.set_class(short, "-short")  # type: ignore[attr-defined]
        for widget in self.query("Button, Input"):  # type: ignore[attr-defined]
            widget.compact = short

    def show_problem(self, text: str) -> None:
        """Say what is wrong with what was typed or chosen."""
        problem = self.query_one("#problem", Static)  # type: ignore[attr-defined]
        problem.update(text)
        problem.display = True


class ShowsTheScope(FitsTheTerminal):
    """Mixin for the dialogs that show an `ErasureScope`: the scroll keys work from anywhere."""

    def action_scroll_scope(self, how: str) -> None:
        """Scroll the erasure scope's categories."""
        self.query_one(ErasureScope).scroll_categories(how)  # type: ignore[attr-defined]


class PreviewScreen(ShowsTheScope, ModalScreen[bool]):
    """What erasure would do right now; with `confirm_label`, also the approval step (key a)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PreviewScreen")
    BINDINGS = [
        Binding("escape", "close", "Close", id="preview.close"),
        Binding("a", "confirm", "Approve", id="preview.approve"),
        *SCROLL_BINDINGS,
    ]

    def __init__(
        self, request: DeletionRequest, preview: DeletionPreview, confirm_label: str | None = None
    ) -> None:
        super().__init__()
        self._request = request
        self._preview = preview
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """Title, the scope, buttons."""
        verb = "Approve erasure for" if self._confirm_label else "Erasure preview for"
        with Vertical():
            yield Label(
                f"{verb} {self._request.reference} — {self._request.subject_name}", classes="title"
            )
            with Vertical(id="bottom"), Horizontal(classes="actions"):
                yield Button("Close (Esc)", id="close")
                if self._confirm_label:
                    yield Button(f"{self._confirm_label} (a)", id="confirm", variant="warning")
            yield ErasureScope(self._preview)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`a` approves only when the preview was opened to approve."""
        return action != "confirm" or self._confirm_label is not None

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        """Approve."""
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Back to the list."""
        self.dismiss(False)


class ExecuteDialog(ShowsTheScope, ModalScreen[bool]):
    """Erasure cannot be undone: show the scope and make the operator type the reference.

    The warning, the typed reference and the buttons are docked at the bottom, so they are on
    screen at any terminal size; the categories scroll above them.
    """

    DEFAULT_CSS = DIALOG_CSS.format(name="ExecuteDialog")
    BINDINGS = [Binding("escape", "back", "Back", id="execute.back"), *SCROLL_BINDINGS]

    def __init__(self, request: DeletionRequest, preview: DeletionPreview) -> None:
        super().__init__()
        self._request = request
        self._preview = preview

    def compose(self) -> ComposeResult:
        """Title, scope, warning, typed confirmation, buttons."""
        with Vertical():
            yield Label(
                f"Erase {self._request.subject_name}'s personal data now? "
                f"({self._request.reference})",
                classes="title",
            )
            with Vertical(id="bottom"):
                yield Static(
                    Text.assemble(
                        ("This cannot be undone. ", "bold red"),
                        "Records with a legal basis are kept; the subject is sent a written "
                        f"confirmation. Type {self._request.reference} to confirm.",
                    ),
                    id="warning",
                )
                yield Input(placeholder=f"type {self._request.reference} here", id="typed")
                yield Static("", classes="problem", id="problem")
                with Horizontal(classes="actions"):
                    yield Button("Back (Esc)", id="back")
                    yield Button("Erase now", id="confirm", variant="error")
            yield ErasureScope(self._preview)

    def on_mount(self) -> None:
        """Start in the confirmation field."""
        self.query_one("#typed", Input).focus()

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Only the exact reference confirms."""
        if self.query_one("#typed", Input).value.strip() != self._request.reference:
            self.show_problem(f"Type {self._request.reference} exactly to confirm.")
            return
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        """Leave without erasing."""
        self.dismiss(False)


class VerifyDialog(FitsTheTerminal, ModalScreen[dict | None]):
    """Record how the subject's identity was verified (method, and a note without ID numbers)."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="VerifyDialog")
        + """
    VerifyDialog OptionList { height: auto; max-height: 8; margin-bottom: 1; }
    """
    )
    BINDINGS = [Binding("escape", "back", "Back", id="verify.back")]

    def __init__(self, request: DeletionRequest) -> None:
        super().__init__()
        self._request = request

    def compose(self) -> ComposeResult:
        """Method list, note, buttons."""
        with Vertical():
            yield Label(
                f"Identity of {self._request.subject_name} verified — how?", classes="title"
            )
            yield OptionList(
                *(Option(text, id=key) for key, text in VERIFICATION_METHODS), id="method"
            )
            yield Input(
                placeholder="Note (what was checked; never copy document numbers)", id="note"
            )
            with Vertical(id="bottom"):
                yield Static("", classes="problem", id="problem")
                with Horizontal(classes="actions"):
                    yield Button("Back (Esc)", id="back")
                    yield Button("Mark verified", id="confirm", variant="warning")

    def on_mount(self) -> None:
        """Start on the method list."""
        self.query_one("#method", OptionList).highlighted = 0
        self.query_one("#method", OptionList).focus()

    @on(OptionList.OptionSelected, "#method")
    def method_chosen(self) -> None:
        """Move on to the note."""
        self.query_one("#note", Input).focus()

    @on(Input.Submitted, "#note")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Return the method and note; `other` needs a note."""
        options = self.query_one("#method", OptionList)
        method = str(options.get_option_at_index(options.highlighted or 0).id)
        note = self.query_one("#note", Input).value.strip() or None
        if method == "other" and not note:
            self.show_problem("Describe the method in the note.")
            return
        if note is not None and len(note) < 3:
            self.show_problem("Write a note of at least 3 characters.")
            return
        self.dismiss({"method": method, "note": note} if note else {"method": method})

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        """Leave without recording anything."""
        self.dismiss(None)
