"""The top bar: environment, signed-in user and role, and the three views."""

from __future__ import annotations

from rich.color import Color, ColorParseError, ColorType
from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

VIEWS = (("queues", "1 Queues"), ("audit", "2 Audit"), ("deletion", "3 Deletion requests"))
SHORT_VIEWS = (("queues", "1 Queues"), ("audit", "2 Audit"), ("deletion", "3 Deletion"))
NARROW = 110  # below this the product name goes and the view names shorten
DEFAULT_COLOUR = "yellow"
# Exact inks: named "white" is a light grey in many terminal themes, too dim on a badge.
BLACK, WHITE = "#000000", "#ffffff"
# green, yellow, cyan, white and their bright variants
LIGHT_STANDARD_COLOURS = frozenset({2, 3, 6, 7, 10, 11, 14, 15})


def badge(environment: str, production: bool, colour: str | None = None) -> Text:
    """The environment badge: the profile's colour, or red and PRODUCTION whatever it says."""
    if production:
        label = environment if "PRODUCTION" in environment else f"{environment} · PRODUCTION"
        return Text(f" {label} ", style=f"bold {WHITE} on red")
    if not colour:
        return Text(f" {environment} ", style=f"bold black on {DEFAULT_COLOUR}")
    return Text(f" {environment} ", style=f"bold {_ink_on(colour)} on {colour}")


def _ink_on(background: str) -> str:
    """Black or white text, whichever reads on this background."""
    try:
        colour = Color.parse(background)
    except ColorParseError:
        return BLACK
    if colour.type is ColorType.STANDARD:
        # The terminal picks the shade of the 16 named colours; these are light in every theme.
        return BLACK if colour.number in LIGHT_STANDARD_COLOURS else WHITE
    red, green, blue = colour.get_truecolor()
    return BLACK if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else WHITE


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
    colour: reactive[str | None] = reactive(None)
    store_warning: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)

    def on_mount(self) -> None:
        """Take the profile's colour and token-store label from the app's connection."""
        connection = getattr(self.app, "connection", None)
        keeper = getattr(connection, "keeper", None)
        self.colour = getattr(connection, "colour", None)
        self.read_only = bool(getattr(connection, "read_only", False))
        label = keeper.insecure_label if keeper is not None else None
        self.store_warning = f"tokens: {label}" if label else ""

    def render(self) -> Text:
        """One line: product, environment badge, store warning, user · role, views.

        The warning sits by the badge, where it is never cut off; when the line is too long
        for the terminal, the product name goes first, then the long view names, then the
        warning's long form, and last the names of the views not shown (their keys stay).
        """
        narrow = self.size.width < NARROW
        if not self.store_warning:
            return self._line(product=not narrow, views=SHORT_VIEWS if narrow else VIEWS)
        full = f"⚠ {self.store_warning}"
        short = f"⚠ tokens in {self.store_warning.removeprefix('tokens: ').split()[0]}"
        keys_only = tuple((v, label if v == self.view else label[0]) for v, label in SHORT_VIEWS)
        shapes = [
            (False, SHORT_VIEWS, full, "  "),
            (False, SHORT_VIEWS, short, "  "),
            (False, keys_only, short, " "),
        ]
        if not narrow:
            shapes[:0] = [(True, VIEWS, full, "  "), (False, VIEWS, full, "  ")]
        lines = [self._line(product=p, views=v, warning=w, gap=g) for p, v, w, g in shapes]
        return next((line for line in lines if line.cell_len <= self.size.width), lines[-1])

    def _line(
        self,
        *,
        product: bool,
        views: tuple[tuple[str, str], ...],
        warning: str = "",
        gap: str = "  ",
    ) -> Text:
        text = Text(" ikan console " if product else "", style="bold")
        text.append_text(badge(self.environment, self.production, self.colour))
        if self.read_only:
            text.append(" ")
            text.append(" READ-ONLY ", style=f"bold {BLACK} on {WHITE}")
            text.append(" ")
        if warning:
            text.append(" ")
            text.append(f" {warning} ", style="bold black on yellow")
        text.append(f"{gap}{self.user_text}{gap}")
        for view_id, label in views:
            style = "bold reverse" if view_id == self.view else "dim"
            text.append(f" {label} ", style=style)
            text.append(" ")
        return text
