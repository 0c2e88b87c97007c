"""Command palette: the three jobs and the session, searchable by name."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

COMMANDS = (
    ("Queues", "Work the booking queues", "show", "queues"),
    ("Audit", "Find a write, see its diff, undo it", "show", "audit"),
    ("Deletion requests", "Data-subject requests and their deadlines", "show", "deletion"),
    ("Sign out", "End this session", "sign_out", None),
)


class ConsoleCommands(Provider):
    """Views and session commands (available once signed in)."""

    def _commands(self):  # type: ignore[no-untyped-def]
        from ikan_console.screens.main import MainScreen

        screen = self.screen  # the screen the palette was opened over, not the palette
        if not isinstance(screen, MainScreen):
            return
        for name, help_text, action, arg in COMMANDS:
            if action == "show":
                yield name, help_text, partial(screen.action_show, arg)
            else:
                yield name, help_text, screen.action_sign_out

    async def discover(self) -> Hits:
        """All commands, before anything is typed."""
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands matching what was typed."""
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
