"""No token, authorization code or PKCE verifier reaches a log record, even at DEBUG."""

from __future__ import annotations

import logging

import pytest

from ikan_console.auth.entra import EntraSignIn
from ikan_console.auth.google import GoogleSignIn
from ikan_console.auth.redaction import (
    NOISY_LOGGERS,
    RedactingFilter,
    configure_logging,
    redact,
)
from tests.auth._idp import ENTRA_CLIENT_ID, GOOGLE_CLIENT_ID, TENANT
from tests.auth.conftest import FakeBrowser, GoogleIdp

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    """All text any handler could write: messages, tracebacks and stacks."""
    parts = []
    for record in caplog.records:
        parts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    return "\n".join(parts)


def google_sign_in_at_debug(idp: GoogleIdp, caplog: pytest.LogCaptureFixture) -> str:
    """Run a whole Google sign-in with every logger at DEBUG; return the ID token."""
    caplog.set_level(logging.DEBUG)
    for name in NOISY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    signin = GoogleSignIn(GOOGLE_CLIENT_ID, "desktop-secret", ("corp.example",), **idp.endpoints)
    result = signin.interactive(
        "n-1", timeout=20, open_browser=False, on_auth_url=FakeBrowser("grace")
    )
    assert result.ok
    return result.id_token or ""


def test_without_redaction_the_libraries_do_leak(google_idp, caplog, restore_logging) -> None:
    """The control: proves this test would notice a leak if configure_logging stopped working."""
    google_sign_in_at_debug(google_idp, caplog)
    logged = everything_logged(caplog)
    assert any(secret in logged for secret in google_idp.secrets())


def test_google_sign_in_at_debug_logs_no_secret(google_idp, caplog, restore_logging) -> None:
    configure_logging()
    id_token = google_sign_in_at_debug(google_idp, caplog)

    logged = everything_logged(caplog)
    secrets = [*google_idp.secrets(), id_token, "desktop-secret"]
    assert len(secrets) >= 6  # code, verifier, access, refresh and ID token, client secret
    assert [s for s in secrets if s in logged] == []
    assert "eyJ" not in logged
    assert caplog.records  # the sign-in did log, just not the secrets


def test_entra_sign_in_at_debug_logs_no_secret(entra_idp, caplog, restore_logging) -> None:
    configure_logging()
    caplog.set_level(logging.DEBUG)
    for name in NOISY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True)
    signin = EntraSignIn(
        TENANT, ENTRA_CLIENT_ID, authority_base=entra_idp.base, exclude_scopes=("offline_access",)
    )

    result = signin.interactive(timeout=20, open_browser=False, on_auth_url=browser)

    assert result.ok
    browser.join()
    logged = everything_logged(caplog)
    for secret in (result.id_token, result.refresh_token, browser.delivered["code"]):
        assert secret and secret not in logged


def test_configure_pins_noisy_libraries_to_warning(restore_logging) -> None:
    logging.getLogger("requests_oauthlib").setLevel(logging.DEBUG)
    configure_logging()
    for name in NOISY_LOGGERS:
        assert logging.getLogger(name).level == logging.WARNING


def test_records_created_after_configure_are_scrubbed_for_every_handler(
    caplog, restore_logging
) -> None:
    configure_logging()
    configure_logging()  # idempotent: one wrapper, not two
    with caplog.at_level(logging.INFO, logger="ikan.test"):
        logging.getLogger("ikan.test").info("token response %s", {"refresh_token": "rt-123"})
        try:
            raise ValueError(f"bad token {JWT}")
        except ValueError:
            logging.getLogger("ikan.test").exception("exchange failed")
    logged = everything_logged(caplog)
    assert "rt-123" not in logged and JWT not in logged
    assert "'refresh_token': '[redacted]'" in logged


def test_filter_on_a_handler_scrubs_records_made_before_configure() -> None:
    record = logging.LogRecord(
        "x", logging.DEBUG, __file__, 1, "Authorization: Bearer %s", (JWT,), None
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "Authorization: Bearer [redacted]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"id_token={JWT}&x=1", "id_token=[redacted]&x=1"),
        ("code=abc123&state=xyz", "code=[redacted]&state=xyz"),
        (
            "code_verifier=v3r1f13r&code_challenge=ch4ll",
            "code_verifier=[redacted]&code_challenge=ch4ll",
        ),
        (
            '{"access_token": "at-1", "expires_in": 3600}',
            '{"access_token": "[redacted]", "expires_in": 3600}',
        ),
        ("'refresh_token': 'rt-9'", "'refresh_token': '[redacted]'"),
        ('"GET /?code=c0de&state=s HTTP/1.1" 200', '"GET /?code=[redacted]&state=s HTTP/1.1" 200'),
        ("device_code=dc&user_code=ABCD-EFGH", "device_code=[redacted]&user_code=ABCD-EFGH"),
        ("client_secret=desk", "client_secret=[redacted]"),
        ("Authorization: Basic aWthbjpzZWNyZXQ=", "Authorization: Basic [redacted]"),
        (f"header only {JWT.split('.')[0]}.", "header only [redacted]"),
        ("truncated eyJhbGciOiJSUzI1NiJ9", "truncated [redacted]"),
        ("nothing secret: state=abc nonce=n", "nothing secret: state=abc nonce=n"),
    ],
)
def test_redact(text, expected) -> None:
    assert redact(text) == expected
