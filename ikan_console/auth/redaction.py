"""Keep tokens, codes and PKCE verifiers out of every log record.

requests-oauthlib logs the whole token response at DEBUG, MSAL's loopback receiver logs the
authorization code, and google-auth-oauthlib logs the redirect request line (with ``code=``) at
INFO. `configure_logging` pins those libraries to WARNING and installs `RedactingFilter` through
the log record factory, so every record is scrubbed at creation, whichever handler (a file, pytest's
caplog, Textual's log) sees it later. The filter is also usable on its own, on any handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

NOISY_LOGGERS = (
    "requests_oauthlib",
    "oauthlib",
    "msal",
    "urllib3",
    "httpx",
    "httpcore",
    "google_auth_oauthlib",
    "google.auth",
)
REDACTED = "[redacted]"

# A JWT (header.payload.signature, each base64url); headers always start with '{"' = "eyJ".
# A lone segment is redacted too: a truncated token is still a token.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){0,4}")
# key=value, "key": "value", 'key': 'value' for the secret-bearing OAuth parameters. `code` needs
# a word boundary on both sides so that code_challenge (public) and user_code (shown) survive.
_SECRET_PARAM = re.compile(
    r"(?P<key>\b(?:access_token|refresh_token|id_token|code_verifier|device_code|client_secret"
    r"|client_assertion|password|code)\b)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?)"
    r"(?P<value>(?!\[redacted\])[^\"'&\s,;}\]\)]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with JWTs, bearer credentials and secret OAuth parameters replaced."""
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group('key')}{m.group('sep')}{REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, exception and stack text in place; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Merge args into the message, then scrub message, traceback and stack."""
        if getattr(record, "_ikan_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:
            # A broken format string must not hide the record, nor leak its raw arguments.
            message = f"{record.msg!s} (unformattable arguments)"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._ikan_redacted = True
        return True


_FILTER = RedactingFilter()


def configure_logging(
    *,
    handlers: Iterable[logging.Handler] = (),
    noisy_loggers: Iterable[str] = NOISY_LOGGERS,
) -> None:
    """Pin chatty auth/HTTP libraries to WARNING and scrub every record; safe to call twice.

    Call it once at start-up, before any sign-in; `handlers` also get the filter directly
    (useful for handlers that may see records created before this call).
    """
    for name in noisy_loggers:
        logging.getLogger(name).setLevel(logging.WARNING)
    for handler in handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_ikan_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(factory))


def _redacting_factory(inner: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    """Wrap the current record factory so each record is redacted as it is created."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = inner(*args, **kwargs)
        _FILTER.filter(record)
        return record

    factory._ikan_redacting = True  # type: ignore[attr-defined]
    factory._ikan_inner = inner  # type: ignore[attr-defined]
    return factory


def unconfigure_logging() -> None:
    """Undo the record factory wrapper (tests); logger levels are left as they are."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "_ikan_redacting", False):
        logging.setLogRecordFactory(factory._ikan_inner)  # type: ignore[attr-defined]
