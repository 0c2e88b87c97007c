"""Refresh the footer only when the keys a view offers change.

`refresh_bindings()` makes Textual's Footer rebuild every key widget: about 30 ms of CPU on this
machine (benchmarks/console_keys.py), paid on every cursor move if a view calls it per row. Rows
in a row mostly offer the same keys, so compare first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class OffersKeys:
    """Mixin for a view whose `check_action` depends on the selected row."""

    _offered: frozenset[str] | None = None

    def refresh_offered(self, actions: Iterable[str]) -> None:
        """Re-check `actions`; refresh the footer only if the set that is offered changed."""
        view: Any = self
        offered = frozenset(a for a in actions if view.check_action(a, ()) is True)
        if offered != self._offered:
            self._offered = offered
            view.refresh_bindings()
