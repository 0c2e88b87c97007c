"""The signed-in console: session bar, the three jobs, and the keys that move between them."""

from __future__ import annotations

import asyncio

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, HelpPanel

from ikan_console.api.errors import IkanError
from ikan_console.api.models import User
from ikan_console.views.audit import AuditView
from ikan_console.views.deletion_requests import DeletionRequestsView
from ikan_console.views.queues import QueuesView
from ikan_console.widgets.session_bar import SessionBar

NARROW, SHORT = 110, 32
VIEW_TITLES = {"queues": "Queues", "audit": "Audit", "deletion": "Deletion requests"}


class MainScreen(Screen[None]):
    """One signed-in session; signing out dismisses it, so no data outlives the session."""

    # Small terminals (a laptop split, 80x24): drop the queue list ([ ] still change queue) and
    # shrink the detail panes so the tables keep their rows.
    DEFAULT_CSS = """
    MainScreen.narrow #queue-list { display: none; }
    MainScreen.short BookingDetail { height: 8; }
    MainScreen.short DiffView { height: 8; }
    MainScreen.short DeletionDetail { height: 8; }
    MainScreen.short Input { border: none; height: 1; padding: 0 1; }
    /* Textual's compact footer runs key and description together ("cClaim"): space them. */
    MainScreen Footer.-compact FooterKey .footer-key--description { padding: 0 0 0 1; }
    """

    BINDINGS = [
        # The session bar shows 1/2/3 already; the footer keeps its room for the view's keys.
        Binding("1", "show('queues')", "Queues", id="view.queues", show=False),
        Binding("2", "show('audit')", "Audit", id="view.audit", show=False),
        Binding("3", "show('deletion')", "Deletion", id="view.deletion", show=False),
        # Off the footers (they need the room for the steps); `?` and the palette list it.
        Binding("ctrl+o", "sign_out", "Sign out", id="session.sign_out", show=False),
        # Every key of the view, the ones the footer has no room for included.
        Binding("question_mark", "toggle_keys", "Keys", id="session.keys"),
        # Before the views' own Esc (leave the search), but only while the keys are shown.
        Binding(
            "escape", "hide_keys", "Close keys", id="session.hide_keys", show=False, priority=True
        ),
    ]

    def __init__(self, user: User) -> None:
        super().__init__()
        self.user = user
        self._team: list[User] | None = None
        self._team_lock = asyncio.Lock()

    async def team(self) -> list[User] | None:
        """Operations and Admin staff, fetched once a session and shared by the views (names in
        diffs and deletion details, `by:` in the audit filter); None while it cannot be had."""
        async with self._team_lock:  # views asking at once share one fetch
            if self._team is None:
                try:
                    self._team = await self.app.client.assignable_users()  # type: ignore[attr-defined]
                except IkanError:
                    return None  # asked again next time; ids show meanwhile
            return self._team

    def compose(self) -> ComposeResult:
        """Bar, views, footer."""
        bar = SessionBar()
        bar.environment = self.app.connection.environment
        bar.production = self.app.connection.production
        bar.user_text = f"{self.user.name} · {self.user.role_label}"
        yield bar
        with ContentSwitcher(initial="queues"):
            yield QueuesView(id="queues")
            yield AuditView(id="audit")
            yield DeletionRequestsView(id="deletion")
        yield Footer()

    def on_mount(self) -> None:
        """Start in the queues."""
        self.action_show("queues")

    def on_resize(self, event: events.Resize) -> None:
        """Fit the layout to the terminal."""
        self.set_class(event.size.width < NARROW, "narrow")
        self.set_class(event.size.height < SHORT, "short")
        # The footer's room is the view's keys: drop the padding between them when narrow.
        self.query_one(Footer).compact = event.size.width < NARROW

    def action_show(self, view: str) -> None:
        """Switch to one of the three jobs and focus its table."""
        switcher = self.query_one(ContentSwitcher)
        if switcher.current != view:
            # Coming back to a view shows what changed meanwhile (your own writes included).
            self.query_one(f"#{view}").action_refresh()
        switcher.current = view
        self.query_one(SessionBar).view = view
        self.sub_title = VIEW_TITLES[view]
        tables = self.query_one(f"#{view}").query(DataTable)
        if tables:
            tables.last().focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc closes the keys panel only when it is open; otherwise it is the view's."""
        if action == "hide_keys":
            return bool(self.query(HelpPanel))
        return True

    def action_toggle_keys(self) -> None:
        """Show every key of the view beside it (Textual's keys panel), or hide it."""
        if self.query(HelpPanel):
            self.app.action_hide_help_panel()
        else:
            self.app.action_show_help_panel()

    def action_hide_keys(self) -> None:
        """Close the keys panel."""
        self.app.action_hide_help_panel()

    def action_sign_out(self) -> None:
        """End the session and return to sign-in."""
        self.app.sign_out()
