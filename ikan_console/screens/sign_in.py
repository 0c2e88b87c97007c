"""Sign-in: pick who to be; roles this console is not for get a clear refusal."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from ikan_console.api.errors import IkanError
from ikan_console.api.models import CONSOLE_ROLES, ROLE_LABELS, SandboxUser
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

REFUSALS = {
    "rmc": "Relocation Managers use the ikan web portal to follow their assignments.",
    "supplier": "Suppliers answer bookings in the ikan supplier portal.",
    "traveler": "Travellers see their stay in the ikan app.",
}


def refusal_message(name: str, role: str) -> str:
    """Why someone with this role cannot use the console, and where to go instead."""
    label = ROLE_LABELS.get(role, role)
    where = REFUSALS.get(role, "")
    return (
        f"{name} signs in as {label}. This console is for ikan Operations and Admin staff "
        f"only. {where}"
    ).strip()


class SignInScreen(ReportsWorkerFailures, Screen[None]):
    """Choose who to sign in as; refused roles get a plain explanation."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen #panel {
        width: 104; height: auto; max-height: 95%;
        border: round $primary; padding: 1 2; background: $surface;
    }
    SignInScreen #heading { text-style: bold; margin-bottom: 1; }
    SignInScreen #environment { margin-bottom: 1; }
    SignInScreen #users { height: auto; max-height: 20; }
    SignInScreen #message { margin-bottom: 1; height: auto; }
    SignInScreen #message.error { color: $error; }
    SignInScreen LoadingIndicator { height: 3; }
    """
    BINDINGS = [Binding("r", "reload", "Retry", id="signin.retry", show=False)]

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self._reason = reason

    def compose(self) -> ComposeResult:
        """A centred panel: environment, user list, status line."""
        app = self.app
        with Center(), Vertical(id="panel"):
            yield Label("ikan console — sign in", id="heading")
            yield Static(
                f"Environment: [b]{app.connection.environment}[/b]  "
                f"Platform: {app.connection.describe}",
                id="environment",
            )
            yield Static(self._reason or "", id="message")
            yield LoadingIndicator(id="loading")
            yield OptionList(id="users")
        yield Footer()

    def on_mount(self) -> None:
        """Connect, then list who can sign in."""
        self.query_one("#users", OptionList).display = False
        self.load_users()

    def action_reload(self) -> None:
        """Try connecting again."""
        self.load_users()

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(text)
        message.set_class(error, "error")

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def load_users(self) -> None:
        """Start or reach the platform and fetch the sandbox users."""
        loading = self.query_one("#loading", LoadingIndicator)
        loading.display = True
        if not self._reason:
            self._say("Connecting to the platform… (a first sandbox start seeds demo data)")
        try:
            client = await self.app.ensure_client()
            users = await client.sandbox_users()
        except IkanError as error:
            loading.display = False
            self._say(f"{error} Press r to retry.", error=True)
            return
        loading.display = False
        options = self.query_one("#users", OptionList)
        options.clear_options()
        for user in users:
            marker = "" if user.role in CONSOLE_ROLES else "portal only"
            options.add_option(
                Option(
                    Text.assemble(
                        f"{user.name:<23} {user.role_label:<19} {user.email:<33} ",
                        (marker, "dim italic"),
                    ),
                    id=user.email,
                )
            )
        self._users = {u.email: u for u in users}
        options.display = True
        options.highlighted = 0
        options.focus()
        if not self._reason:
            self._say(
                "Choose a user and press Enter. Sandbox data is made up and resets with "
                "`ikan-platform seed`."
            )

    @on(OptionList.OptionSelected, "#users")
    def choose(self, event: OptionList.OptionSelected) -> None:
        """Sign in as the chosen user."""
        user = self._users[str(event.option.id)]
        self.sign_in(user)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def sign_in(self, user: SandboxUser) -> None:
        """Exchange, check the role, then open the console (or refuse and sign out)."""
        self._say(f"Signing in as {user.name}…")
        client = await self.app.ensure_client()
        try:
            signed_in = await client.exchange("sandbox", user.email)
        except IkanError as error:
            self._say(str(error), error=True)
            return
        if signed_in.role not in CONSOLE_ROLES:
            await client.sign_out()
            self._say(refusal_message(signed_in.name, signed_in.role), error=True)
            return
        self.app.signed_in(signed_in)
