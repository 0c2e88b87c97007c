"""Sign-in: the sandbox's user list, or a real profile's identity provider (`IdpSignIn`).

Roles this console is not for get a clear refusal either way.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option

from ikan_console.api.errors import IkanError, NotFound
from ikan_console.api.models import CONSOLE_ROLES, SandboxUser
from ikan_console.session import refusal_message
from ikan_console.widgets.session_bar import badge
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

__all__ = ["SignInScreen", "refusal_message"]


class SignInScreen(ReportsWorkerFailures, Screen[None]):
    """Choose who to sign in as; refused roles get a plain explanation."""

    DEFAULT_CSS = """
    SignInScreen { align: center middle; }
    SignInScreen #panel {
        width: 104; max-width: 100%; height: auto; max-height: 95vh;
        border: round $primary; padding: 1 2; background: $surface;
    }
    SignInScreen #heading { text-style: bold; margin-bottom: 1; }
    SignInScreen #environment { margin-bottom: 1; }
    SignInScreen #users { height: auto; max-height: 20; }
    SignInScreen #message { margin-bottom: 1; height: auto; }
    SignInScreen #message.error { color: $error; }
    SignInScreen LoadingIndicator { height: 3; }
    """
    BINDINGS = [Binding("r", "reload", "Retry", id="signin.retry")]

    def __init__(self, reason: str | None = None) -> None:
        super().__init__()
        self._reason = reason
        self._unreachable = False  # the footer offers r only when there is something to retry

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer Retry only after the platform could not be reached."""
        return self._unreachable if action == "reload" else True

    def compose(self) -> ComposeResult:
        """A centred panel: environment, then the sandbox's users or the provider's sign-in."""
        connection = self.app.connection  # type: ignore[attr-defined]
        with Center(), Vertical(id="panel"):
            yield Label("ikan console — sign in", id="heading")
            if connection.keeper is None:
                yield Static(
                    f"Environment: [b]{connection.environment}[/b]  "
                    f"Platform: {connection.describe}",
                    id="environment",
                )
                yield Static(self._reason or "", id="message")
                yield LoadingIndicator(id="loading")
                yield OptionList(id="users")
            else:
                from ikan_console.screens.sign_in_idp import IdpSignIn

                yield Static(self._profile_line(connection), id="environment")
                yield IdpSignIn(connection.keeper, self._reason)
        yield Footer()

    @staticmethod
    def _profile_line(connection: object) -> Text:
        """The profile badge (red for production) and where it signs in."""
        keeper = connection.keeper  # type: ignore[attr-defined]
        line = Text()
        line.append_text(badge(connection.environment, connection.production, connection.colour))  # type: ignore[attr-defined]
        line.append(f"  {connection.describe}  ·  {keeper.provider_label} sign-in")  # type: ignore[attr-defined]
        others = [name for name in keeper.other_profiles if name != keeper.profile.name]
        if others:
            line.append(
                f"\nOther profiles: {', '.join(others)} (ikan-console --profile NAME)", style="dim"
            )
        return line

    def on_mount(self) -> None:
        """Connect, then list who can sign in (the provider panel starts itself)."""
        if self.app.connection.keeper is None:  # type: ignore[attr-defined]
            self.query_one("#users", OptionList).display = False
            self.load_users()

    def action_reload(self) -> None:
        """Try connecting again."""
        if self.app.connection.keeper is None and self._unreachable:  # type: ignore[attr-defined]
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
        except NotFound:
            loading.display = False
            self._say(
                "This platform has no sandbox sign-in. Start the console with a profile that "
                "signs in with Entra ID or Google (`ikan-console profiles`; see the README).",
                error=True,
            )
            return
        except IkanError as error:
            loading.display = False
            self._say(f"{error} Press r to retry.", error=True)
            self._unreachable = True
            self.refresh_bindings()
            return
        self._unreachable = False
        self.refresh_bindings()
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
                "Choose a user and press Enter. Sandbox data is made up; to start over, delete "
                "the sandbox database (see the README)."
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
