"""Sign-in with Entra ID or Google Workspace: the part of the sign-in screen for real profiles.

States, one at a time (`state`): ``starting`` (opening the keychain), ``restoring`` (resuming a
stored session), ``choose`` (how to sign in), ``working`` (silent sign-in or the exchange),
``browser`` (waiting for the browser, URL shown), ``device_code`` (code and URL shown),
``error`` (a refusal in words, then the choices again), ``offline`` (the platform is unreachable;
the stored sign-in is kept), ``no_keychain`` (no safe store, and how to opt in; or a keychain that
refused a read, e.g. locked: unlock it and press r). The identity
provider's blocking calls run in threads (see `SessionKeeper`); their progress arrives here
through `browser_opened` / `device_code`, called from those threads.
"""

from __future__ import annotations

import asyncio
import time

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from ikan_console.api.errors import IkanError, PlatformUnreachable
from ikan_console.api.models import CONSOLE_ROLES, User
from ikan_console.auth.entra import DeviceCodePrompt, SignInStatus
from ikan_console.auth.redaction import configure_logging
from ikan_console.auth.token_store import PLATFORM_REFRESH_TOKEN, TokenStoreUnavailable
from ikan_console.session import SessionKeeper, SignInFailed, refusal_message
from ikan_console.widgets.worker_failures import ReportsWorkerFailures

WAITING = frozenset({"browser", "device_code", "working"})
SPINNING = frozenset({"starting", "restoring", "working"})
OPT_IN = (
    "To keep your sign-in in a file that only your user can read (less safe than a keychain), "
    "set IKAN_INSECURE_TOKEN_FILE=1, or put insecure_token_file = true in config.toml, and start "
    "the console again. The header will say so while you work."
)
UNLOCK = "Unlock your keychain, then press r to try again; or sign in for this session only."


class IdpSignIn(ReportsWorkerFailures, Vertical, can_focus=True):
    """Choose how to sign in, follow the identity provider, and say plainly what went wrong."""

    DEFAULT_CSS = """
    IdpSignIn { height: auto; }
    IdpSignIn #message { margin-bottom: 1; height: auto; }
    IdpSignIn #message.error { color: $error; }
    IdpSignIn #prompt {
        height: auto; border: round $accent; padding: 0 1; margin-bottom: 1;
    }
    IdpSignIn #methods { height: auto; max-height: 8; }
    IdpSignIn #hint { color: $text-muted; height: auto; }
    IdpSignIn #hint.explain { color: $text; margin-top: 1; }
    IdpSignIn LoadingIndicator { height: 3; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel sign-in", id="signin.cancel"),
        Binding("c", "copy_link", "Copy link", id="signin.copy_link"),
        Binding("r", "retry", "Retry", id="signin.retry"),
    ]

    state: reactive[str] = reactive("starting")

    def __init__(self, keeper: SessionKeeper, reason: str | None = None) -> None:
        super().__init__(id="idp")
        self.keeper = keeper
        self._reason = reason
        self._url = ""
        # The keychain exists but refused a read (locked, or failing): retrying can help.
        self._locked = False

    def compose(self) -> ComposeResult:
        """Message, loading, prompt box, choices, hint."""
        yield Static(self._reason or "", id="message")
        yield LoadingIndicator(id="loading")
        yield Static(id="prompt")
        yield OptionList(id="methods")
        yield Static(id="hint")

    def on_mount(self) -> None:
        """Open the keychain and resume a stored session, if any."""
        self.query_one("#prompt").display = False
        self.query_one("#methods").display = False
        self.prepare()

    def on_unmount(self) -> None:
        """Quitting mid-wait must not leave a thread waiting minutes for a browser."""
        self.keeper.cancel()

    # -- what is shown -----------------------------------------------------------------------

    def watch_state(self, state: str) -> None:
        """Show only the parts of this state; offer the keys that work in it."""
        self.query_one("#loading").display = state in SPINNING
        self.query_one("#prompt").display = state in ("browser", "device_code")
        self.query_one("#methods").display = state in ("choose", "error", "no_keychain")
        hints = {
            "browser": "Esc cancels · c copies the link · the wait ends after "
            f"{round(self.keeper.browser_timeout / 60)} minutes",
            "device_code": "Esc cancels",
            "offline": "r tries again",
            "no_keychain": UNLOCK if self._locked else OPT_IN,
        }
        hint = self.query_one("#hint", Static)
        hint.update(hints.get(state, self._store_note()))
        hint.set_class(state == "no_keychain", "explain")
        if state in ("choose", "error", "no_keychain"):
            self.query_one("#methods").focus()
        else:
            self.focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Escape only while waiting, copy only with a link, retry only when offline."""
        if action == "cancel":
            return self.state in WAITING
        if action == "copy_link":
            return self.state == "browser"
        if action == "retry":
            return self.state == "offline" or (self.state == "no_keychain" and self._locked)
        return True

    def _say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#message", Static)
        message.update(Text(text))  # words from a server or an exception: never markup
        message.set_class(error, "error")

    def _store_note(self) -> str:
        # Shown while nobody is signed in yet: where a sign-in goes, not that one is kept.
        label = self.keeper.insecure_label
        return f"This profile keeps its sign-in in a {label} store." if label else ""

    def _choose(self, text: str, *, error: bool = False, no_keychain: bool = False) -> None:
        """Offer the ways to sign in (or, without a keychain, the session-only one)."""
        options = self.query_one("#methods", OptionList)
        options.clear_options()
        label = self.keeper.provider_label
        if no_keychain:
            options.add_option(Option("Sign in for this session only (nothing is saved)", "memory"))
        elif self.keeper.provider == "entra":
            auto = "device code" if self.keeper.use_device_code() else "browser"
            options.add_option(
                Option(f"Sign in with {label}  (saved account, else {auto})", "auto")
            )
            options.add_option(Option(f"Sign in with {label} in a browser", "browser"))
            options.add_option(Option("Sign in with a code on another device", "device_code"))
        else:
            options.add_option(Option(f"Sign in with {label} in a browser", "browser"))
        options.highlighted = 0
        self._say(text, error=error)
        self.state = "no_keychain" if no_keychain else ("error" if error else "choose")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """After a crash (reported by `ReportsWorkerFailures`), never leave the panel spinning."""
        if event.state is WorkerState.ERROR and self.state in SPINNING:
            self._choose("Sign-in stopped on an unexpected problem; please try again.", error=True)

    def _keychain_failed(self, error: TokenStoreUnavailable) -> None:
        """A keychain that refused a read: say so, offer a retry and a session-only sign-in."""
        self._locked = True
        self._choose(str(error), error=True, no_keychain=True)

    def browser_opened(self, url: str) -> None:
        """From the sign-in thread: show the URL while the browser does its part."""
        self.app.call_from_thread(self._show_browser, url)

    def device_code(self, prompt: DeviceCodePrompt) -> None:
        """From the sign-in thread: show the code and where to enter it."""
        self.app.call_from_thread(self._show_device_code, prompt)

    def _show_browser(self, url: str) -> None:
        self._url = url
        self._say(f"Waiting for you to sign in with {self.keeper.provider_label} in your browser.")
        body = Text("If no browser window opened, open this address on this computer:\n")
        body.append(url, style=f"bold link {url}")
        self.query_one("#prompt", Static).update(body)
        self.state = "browser"

    def _show_device_code(self, prompt: DeviceCodePrompt) -> None:
        minutes = max(1, round((prompt.expires_at - time.time()) / 60))
        self._say(f"Sign in with {self.keeper.provider_label} on any device: a phone will do.")
        body = Text.assemble(
            "1. Open   ",
            (prompt.verification_uri, f"bold link {prompt.verification_uri}"),
            "\n2. Enter  ",
            (prompt.user_code, "bold reverse"),
            f"\n\nWaiting for you… the code works for {minutes} minutes.",
        )
        self.query_one("#prompt", Static).update(body)
        self.state = "device_code"

    # -- actions -----------------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#methods")
    def choose(self, event: OptionList.OptionSelected) -> None:
        """Start the chosen way of signing in."""
        method = str(event.option.id)
        if method == "memory":
            self.keeper.keep_in_memory()
            method = "auto"
        self.sign_in(method)

    def action_cancel(self) -> None:
        """Stop the sign-in in progress (the browser or device-code wait, or an earlier step)."""
        self.keeper.cancel()
        if self.state == "working":
            self._say("Cancelling…")

    def action_copy_link(self) -> None:
        """Put the sign-in link on the clipboard (for a browser on this computer)."""
        self.app.copy_to_clipboard(self._url)
        self.app.notify("Sign-in link copied.", timeout=3)

    def action_retry(self) -> None:
        """Try to reach the platform again."""
        self.prepare()

    # -- workers -----------------------------------------------------------------------------

    @work(exclusive=True, group="idp-sign-in", exit_on_error=False)
    async def prepare(self) -> None:
        """Open the token store, then resume a stored session or offer to sign in."""
        configure_logging()
        self.state = "starting"
        self._locked = False
        try:
            await asyncio.to_thread(self.keeper.open_store)
        except TokenStoreUnavailable as error:
            self._choose(str(error), error=True, no_keychain=True)
            return
        note = self._reason or ""
        try:
            stored = await asyncio.to_thread(self.keeper.stored, PLATFORM_REFRESH_TOKEN)
        except TokenStoreUnavailable as error:
            self._keychain_failed(error)
            return
        if stored and not self._reason:
            self.state = "restoring"
            self._say("Resuming your session…")
            try:
                client = await self.app.ensure_client()
                user = await self.keeper.restore(client)
            except PlatformUnreachable as error:
                self._say(f"{error} Your sign-in is kept.", error=True)
                self.state = "offline"
                return
            except TokenStoreUnavailable as error:
                self._keychain_failed(error)
                return
            except IkanError as error:
                self._choose(error.message, error=True)
                return
            if user is not None:
                await self._enter(user)
                return
            note = "Your saved session has ended; please sign in again."
        self._choose(note or f"Sign in with your {self.keeper.provider_label} work account.")

    @work(exclusive=True, group="idp-sign-in", exit_on_error=False)
    async def sign_in(self, method: str) -> None:
        """Identity provider, then the platform; any refusal is shown in words."""
        # A new attempt (an earlier wait, if any, is cancelled): from here Esc stops this one,
        # whichever step it is at, and no browser opens after it.
        attempt = self.keeper.begin()
        self.state = "working"
        self._say(f"Signing in with {self.keeper.provider_label}…")
        try:
            client = await self.app.ensure_client()
            user = await self.keeper.sign_in(client, self, method, attempt)  # type: ignore[arg-type]
        except SignInFailed as failure:
            if failure.status is SignInStatus.CANCELLED:
                self._choose("Sign-in cancelled.")
            else:
                self._choose(str(failure), error=True)
            return
        except IkanError as error:
            self._choose(error.message, error=True)
            return
        except TokenStoreUnavailable as error:
            self._keychain_failed(error)
            return
        await self._enter(user)

    async def _enter(self, user: User) -> None:
        """Open the console, or refuse a role it is not for (and end that session)."""
        client = await self.app.ensure_client()
        if user.role not in CONSOLE_ROLES:
            await self.keeper.sign_out(client)
            self._choose(refusal_message(user.name, user.role), error=True)
            return
        warning = await self.keeper.flush()
        if warning:
            self.app.notify(warning, title="Sign-in not saved", severity="warning", timeout=15)
        self.app.signed_in(user)  # type: ignore[attr-defined]
