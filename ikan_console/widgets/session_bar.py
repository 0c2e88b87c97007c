"""The top bar: environment, signed-in user and role, and the three views."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

VIEWS = (("queues", "1 Queues"), ("audit", "2 Audit"), ("deletion", "3 Deletion requests"))


class SessionBar(Static):
    """Shows where you are and who you are, so nobody works in production by mistake."""

    DEFAULT_CSS = """
    SessionBar {
        dock: top;
        height: 1;
        background: $panel;
        color: $text;
    }
    """

    environment: reactive[str] = reactive("")
    user_text: reactive[str] = reactive("")
    view: reactive[str] = reactive("queues")
    production: reactive[bool] = reactive(False)

    def render(self) -> Text:
        """One line: product, environment badge, user · role, views."""
        text = Text(" ikan console ", style="bold")
        env_style = "bold white on red" if self.production else "bold black on yellow"
        text.append(f" {self.environment} ", style=env_style)
        text.append(f"  {self.user_text}  ")
        for view_id, label in VIEWS:
            style = "bold reverse" if view_id == self.view else "dim"
            text.append(f" {label} ", style=style)
            text.append(" ")
        return text
