"""Opaque, signed keyset cursors: a tampered or foreign cursor is a 400, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from ikan_platform.errors import Problem

MAX_LIMIT = 200
DEFAULT_LIMIT = 50


def encode_cursor(secret: str, scope: str, key: list[Any]) -> str:
    """Sign the last row's sort key, bound to the list it came from."""
    payload = json.dumps([scope, key], separators=(",", ":")).encode()
    mac = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")


def decode_cursor(secret: str, scope: str, cursor: str) -> list[Any]:
    """The sort key inside a cursor made by `encode_cursor` for the same list."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, payload = raw[:12], raw[12:]
        expected = hmac.new(secret.encode(), payload, hashlib.sha256).digest()[:12]
        if not hmac.compare_digest(mac, expected):
            raise ValueError("bad signature")
        got_scope, key = json.loads(payload)
        if got_scope != scope or not isinstance(key, list):
            raise ValueError("cursor for another list")
        return key
    except (ValueError, TypeError, json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(
            400,
            "invalid_cursor",
            "Invalid cursor",
            detail="The cursor is not one this list gave out; start from the first page.",
        ) from None
