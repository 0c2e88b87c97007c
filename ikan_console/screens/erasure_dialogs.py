"""Deletion-request dialogs: the erasure preview, the execute confirmation, identity check."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ikan_console.api.models import DeletionPreview, DeletionRequest

VERIFICATION_METHODS = (
    ("signed_in_account", "Request came from the subject's signed-in ikan account"),
    ("email_confirmation", "Subject confirmed from the email address we hold"),
    ("id_document", "Identity document checked (do not copy its number)"),
    ("client_hr_confirmation", "Client HR confirmed the employee's identity"),
    ("other", "Other (describe in the note)"),
)

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{
    width: 110; max-width: 100%; height: auto; max-height: 95%;
    border: thick $warning; background: $surface; padding: 1 2;
}}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .problem {{ color: $error; height: auto; }}
{name} Horizontal {{ height: auto; align-horizontal: right; margin-top: 1; }}
{name} Button {{ margin-left: 2; }}
{name} VerticalScroll {{ height: auto; max-height: 24; }}
"""


def scope_table(preview: DeletionPreview) -> Group:
    """Per category: how much, what is erased, pseudonymised or kept, until when and why."""
    table = Table(expand=True, show_edge=False, padding=(0, 1))
    table.add_column("Data", style="bold", no_wrap=True)
    table.add_column("Records", justify="right")
    table.add_column("Erase", justify="right", style="red")
    table.add_column("Pseudonymise", justify="right", style="yellow")
    table.add_column("Keep", justify="right", style="green")
    table.add_column("Kept until", no_wrap=True)
    table.add_column("Why kept / rule", ratio=1)
    for c in preview.categories:
        why = "; ".join(c.legal_basis) if c.legal_basis else c.retention_rule
        table.add_row(
            c.label,
            str(c.count),
            str(c.erase),
            str(c.pseudonymise),
            str(c.retain),
            str(c.retain_until or "—"),
            Text(why, style="" if c.legal_basis else "dim"),
        )
    parts: list[object] = [table]
    for warning in preview.warnings:
        parts.append(Text(f"⚠ {warning}", style="bold yellow"))
    return Group(*parts)


class PreviewScreen(ModalScreen[bool]):
    """What erasure would do right now; with `confirm_label`, also the approval step."""

    DEFAULT_CSS = DIALOG_CSS.format(name="PreviewScreen")
    BINDINGS = [Binding("escape", "close", "Close", id="preview.close")]

    def __init__(
        self, request: DeletionRequest, preview: DeletionPreview, confirm_label: str | None = None
    ) -> None:
        super().__init__()
        self._request = request
        self._preview = preview
        self._confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """Scope table and buttons."""
        verb = "Approve erasure for" if self._confirm_label else "Erasure preview for"
        with Vertical():
            yield Label(
                f"{verb} {self._request.reference} — {self._request.subject_name}", classes="title"
            )
            with VerticalScroll():
                yield Static(scope_table(self._preview))
            with Horizontal():
                yield Button("Close (Esc)", id="close")
                if self._confirm_label:
                    yield Button(self._confirm_label, id="confirm", variant="warning")

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Approve."""
        self.dismiss(True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        """Back to the list."""
        self.dismiss(False)


class ExecuteDialog(ModalScreen[bool]):
    """Erasure cannot be undone: show the scope and make the operator type the reference."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ExecuteDialog")
    BINDINGS = [Binding("escape", "back", "Back", id="execute.back")]

    def __init__(self, request: DeletionRequest, preview: DeletionPreview) -> None:
        super().__init__()
        self._request = request
        self._preview = preview

    def compose(self) -> ComposeResult:
        """Scope, warning, typed confirmation."""
        with Vertical():
            yield Label(f"Erase {self._request.subject_name}'s personal data now?", classes="title")
            with VerticalScroll():
                yield Static(scope_table(self._preview))
            yield Static(
                Text.assemble(
                    ("This cannot be undone. ", "bold red"),
                    "Records kept for a legal reason stay, with their basis. The subject is sent a "
                    f"written confirmation. Type {self._request.reference} to confirm.",
                )
            )
            yield Input(placeholder=self._request.reference, id="typed")
            yield Static("", classes="problem", id="problem")
            with Horizontal():
                yield Button("Back (Esc)", id="back")
                yield Button("Erase now", id="confirm", variant="error")

    def on_mount(self) -> None:
        """Start in the confirmation field."""
        self.query_one("#typed", Input).focus()

    @on(Input.Submitted, "#typed")
    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        """Only the exact reference confirms."""
        if self.query_one("#typed", Input).value.strip() != self._request.reference:
            self.query_one("#problem", Static).update(
                f"Type {self._request.reference} exactly to confirm."
            )
            return
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        """Leave without erasing."""
        self.dismiss(False)


class VerifyDialog(ModalScreen[dict | None]):
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
            yield Static("", classes="problem", id="problem")
            with Horizontal():
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
            self.query_one("#problem", Static).update("Describe the method in the note.")
            return
        if note is not None and len(note) < 3:
            self.query_one("#problem", Static).update("Write a note of at least 3 characters.")
            return
        self.dismiss({"method": method, "note": note} if note else {"method": method})

    @on(Button.Pressed, "#back")
    def action_back(self) -> None:
        """Leave without recording anything."""
        self.dismiss(None)
