"""The console App: one platform connection, one session, sign-in and the main screen."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.app import App, SystemCommand
from textual.screen import Screen

from ikan_console.api.client import PlatformClient
from ikan_console.api.errors import IkanError, PlatformUnreachable, SessionExpired
from ikan_console.api.models import User
from ikan_console.commands import ConsoleCommands

if TYPE_CHECKING:
    from ikan_console.session import SessionKeeper


@dataclass
class Connection:
    """Where the console connects and how to open the client (which may start a sandbox)."""

    environment: str
    describe: str
    open_client: Callable[[], PlatformClient]
    production: bool = False
    # The profile's header colour, and its sign-in keeper (None: sandbox user list).
    colour: str | None = None
    keeper: SessionKeeper | None = None
    # Look, never touch: the views offer no writes and the client refuses to send any.
    read_only: bool = False


def utc_now() -> datetime:
    """The console's clock."""
    return datetime.now(UTC)


class IkanApp(App[None]):
    """ikan console."""

    TITLE = "ikan console"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        connection: Connection,
        *,
        client: PlatformClient | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__()
        self.connection = connection
        self._client = client
        if client is not None:
            client.read_only = client.read_only or connection.read_only
        self._opening: asyncio.Future[PlatformClient] | None = None
        self.clock = clock

    @property
    def client(self) -> PlatformClient:
        """The platform client (opened before any screen needs it)."""
        if self._client is None:
            raise RuntimeError("the platform client is not open yet")
        return self._client

    async def ensure_client(self) -> PlatformClient:
        """Open the client once; starting a sandbox runs in a thread so the UI stays live.

        The opening runs as one shielded task: a caller that gives up (a cancelled worker, an
        impatient retry) never starts a second sandbox beside the first.
        """
        if self._client is not None:
            return self._client
        if self._opening is None:
            self._opening = asyncio.ensure_future(asyncio.to_thread(self.connection.open_client))
        try:
            client = await asyncio.shield(self._opening)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._opening = None  # let a retry start over
            raise PlatformUnreachable(f"Could not start the platform: {error}") from None
        # Set here, not in each open_client: however the client was built, read-only holds.
        client.read_only = client.read_only or self.connection.read_only
        self._client = client
        return client

    @property
    def read_only(self) -> bool:
        """Whether this console may only look (the views hide every write)."""
        return self.connection.read_only

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's palette commands, less Screenshot: it writes the screen, personal data
        and all, to an SVG file in the working directory."""
        for command in super().get_system_commands(screen):
            if command.title != "Screenshot":
                yield command

    def on_mount(self) -> None:
        """Begin at sign-in."""
        from ikan_console.screens.sign_in import SignInScreen

        self.push_screen(SignInScreen())

    def signed_in(self, user: User) -> None:
        """Open the console for a signed-in user (or resume after re-authentication)."""
        from ikan_console.screens.main import MainScreen
        from ikan_console.screens.sign_in import SignInScreen

        if isinstance(self.screen, SignInScreen):
            self.pop_screen()
        # The session may have ended under a dialog that stays open while it talks to the
        # platform (notes): the same user gets it back, with what they typed.
        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        if main is not None and main.user.id != user.id:
            # Someone else signed in over the ended session: none of its screens are theirs.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            main = None
        if main is None:
            self.push_screen(MainScreen(user))
        self.notify(f"Signed in as {user.name} ({user.role_label}).", timeout=3)

    def sign_out(self) -> None:
        """Revoke the session and go back to sign-in, leaving nothing of it on screen."""
        from ikan_console.screens.sign_in import SignInScreen

        keeper = self.connection.keeper
        ending = keeper.sign_out(self.client) if keeper else self.client.sign_out()
        self.run_worker(ending, group="session", exit_on_error=False)
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(SignInScreen())

    def report(self, error: IkanError, context: str) -> None:
        """The one failure path: a plain notification, or sign-in when the session ended."""
        if isinstance(error, SessionExpired):
            from ikan_console.screens.sign_in import SignInScreen

            if not isinstance(self.screen, SignInScreen):
                self.push_screen(
                    SignInScreen(reason=f"{error} Your work is still open behind this screen.")
                )
            return
        self.notify(str(error), title=context, severity="error", timeout=10)

    def report_unexpected(self, error: BaseException) -> None:
        """A bug or a contract surprise: log it in full, tell the user plainly."""
        logging.getLogger("ikan_console").error("unexpected error", exc_info=error)
        self.notify(
            f"{type(error).__name__}: {error}. Nothing more was sent; try again, and "
            "report it if it happens again.",
            title="Unexpected problem",
            severity="error",
            timeout=15,
        )

    async def on_unmount(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
