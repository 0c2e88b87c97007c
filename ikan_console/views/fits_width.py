"""Views that lay themselves out by their own width, the keys panel included.

A view's `on_resize` is not enough: when Textual's keys panel (`?`) splits the screen, the views
beside it shrink without a Resize event (Textual 8 sends it only to the panel's widgets). Every
layout refresh publishes the screen's `screen_layout_refresh_signal`, so the view checks its
width there, which is cheap, and fits itself only when the width changed.
"""

from __future__ import annotations

from typing import Any


class FitsWidth:
    """Mixin: `fit_width(width)` runs once mounted and whenever the view's width changes."""

    _fitted_width: int | None = None

    def fit_width(self, width: int) -> None:
        """Lay the view out for this many columns."""
        raise NotImplementedError

    # Textual calls every class's own handler along the MRO, so the view's on_mount runs too.
    def on_mount(self) -> None:
        """Follow the screen's layout."""
        view: Any = self
        view.screen.screen_layout_refresh_signal.subscribe(view, self._check_width)

    def on_unmount(self) -> None:
        """Stop following it."""
        view: Any = self
        view.screen.screen_layout_refresh_signal.unsubscribe(view)

    def _check_width(self, screen: Any) -> None:
        view: Any = self
        width = view.size.width
        if width and width != self._fitted_width:
            self._fitted_width = width
            self.fit_width(width)
