"""Pseudonyms: how a data subject's email and names are found and replaced in text and JSON.

Matching is by email always; by name only inside the subject's own records, or elsewhere when the
name belongs to nobody else on file (two travellers may share a name, and erasing one must not
touch the other).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_

from ikan_platform.search import ESCAPE, escape_like

ERASED = "[erased]"


@dataclass(frozen=True)
class Subject:
    """The person a request is about: how their data is recognised, and what replaces it."""

    email: str
    names: tuple[str, ...]
    # Names nobody else on file has: only these are safe to replace in free text elsewhere.
    unique_names: tuple[str, ...]
    pseudonym_name: str
    pseudonym_email: str

    @cached_property
    def _everywhere(self) -> re.Pattern[str]:
        return self._pattern(self.unique_names)

    @cached_property
    def _all_names(self) -> re.Pattern[str]:
        return self._pattern(self.names)

    def _pattern(self, names: tuple[str, ...]) -> re.Pattern[str]:
        parts = [rf"(?<![\w.+-]){re.escape(self.email)}(?!\.?[\w-])"]
        parts += [rf"(?<!\w){re.escape(n)}(?!\w)" for n in sorted(names, key=len, reverse=True)]
        return re.compile("|".join(parts), re.IGNORECASE)

    def scrub(self, value: Any, own_record: bool = False) -> Any:
        """`value` (text or JSON) with the subject's email and names replaced by the pseudonym.

        All their names go inside their own records and in any text that also holds their email
        (it is surely about them); elsewhere only names nobody else has.
        """
        if isinstance(value, str):
            sure = own_record or self.email in value.lower()
            pattern = self._all_names if sure else self._everywhere
            return pattern.sub(
                lambda m: self.pseudonym_email if "@" in m.group(0) else self.pseudonym_name, value
            )
        if isinstance(value, list):
            return [self.scrub(v, own_record) for v in value]
        if isinstance(value, dict):
            return {k: self.scrub(v, own_record) for k, v in value.items()}
        return value


def redact_identities(identities: Any) -> Any:
    """A user's identity-provider links with the subject ids (personal data) taken out."""
    return [{**i, "subject": ERASED} for i in identities] if isinstance(identities, list) else []


def like_any(column: Any, needles: Iterable[str]) -> ColumnElement[bool]:
    """Case-insensitive substring match, also on the escaped form JSON stores non-ASCII in."""
    forms = set()
    for needle in needles:
        forms.add(needle.lower())
        forms.add(json.dumps(needle.lower())[1:-1])
    conditions = [
        func.lower(column).like("%" + escape_like(f) + "%", escape=ESCAPE) for f in sorted(forms)
    ]
    return or_(*conditions) if conditions else false()


def rewrite_state(
    state: dict[str, Any] | None, replace: dict[str, Any], subject: Subject, own_record: bool
) -> dict[str, Any] | None:
    """An audited state with the subject's fields replaced and mentions of them scrubbed."""
    if state is None:
        return None
    out = {}
    for key, value in state.items():
        if key in replace and value is not None:
            new = replace[key]
            out[key] = new(value) if callable(new) else new
        else:
            out[key] = subject.scrub(value, own_record)
    return out
