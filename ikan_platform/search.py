"""Free-text `q` search: a case-insensitive "contains", with the user's text taken literally.

Someone searching for `50%` or `a_b` means those characters, not LIKE wildcards, and a trailing
backslash must not reach PostgreSQL as a dangling escape (a 500). Every LIKE built from user text
goes through `contains` (or `like_pattern` for a column expression of one's own).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` with LIKE's wildcards (`%`, `_`) and the escape character itself escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def like_pattern(text: str) -> str:
    """The LIKE pattern for "contains `text`" (lower-cased, literal); use with escape=ESCAPE."""
    return "%" + escape_like(text.strip().lower()) + "%"


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """`lower(column)` contains `text`, matched literally."""
    return func.lower(column).like(like_pattern(text), escape=ESCAPE)
