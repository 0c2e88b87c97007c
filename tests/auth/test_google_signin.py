"""Google Workspace sign-in end to end against a Google-shaped provider on loopback."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ikan_console.auth import google
from ikan_console.auth.entra import Attempt
from ikan_console.auth.google import GoogleSignIn, unverified_claims
from ikan_platform.identity import nonce_hash, verify_id_token
from tests.auth._idp import GOOGLE_CLIENT_ID, run_in_thread
from tests.auth.conftest import FakeBrowser, GoogleIdp

NONCE = "platform-issued-nonce-1"


def sign_in(idp: GoogleIdp, **overrides: str) -> GoogleSignIn:
    """The console's Google sign-in pointed at the loopback provider."""
    endpoints = {**idp.endpoints, **overrides}
    return GoogleSignIn(GOOGLE_CLIENT_ID, "desktop-not-secret", ("corp.example",), **endpoints)


def test_sign_in_yields_an_id_token_the_platform_accepts(google_idp) -> None:
    browser = FakeBrowser("grace")

    result = sign_in(google_idp).interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=browser
    )

    assert result.ok and result.username == "grace@corp.example"
    assert result.nonce == NONCE
    identity = verify_id_token(
        google_idp.config(), result.id_token or "", expected_nonce_hash=nonce_hash(NONCE)
    )
    assert identity.key == (google_idp.base, "grace")


def test_authorization_request_carries_pkce_state_nonce_and_loopback_ip(google_idp) -> None:
    browser = FakeBrowser("grace")

    sign_in(google_idp).interactive(NONCE, timeout=20, open_browser=False, on_auth_url=browser)

    query = {k: v[0] for k, v in parse_qs(urlsplit(browser.urls[0]).query).items()}
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    assert query["state"] and query["nonce"] == NONCE
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    assert query["scope"] == "openid email profile"
    assert query["hd"] == "corp.example"  # account chooser hint; the platform enforces it


def test_account_outside_the_workspace_gets_an_early_friendly_message(google_idp) -> None:
    browser = FakeBrowser("gus")

    result = sign_in(google_idp).interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=browser
    )

    assert result.status == "wrong_account"
    assert "gus@other.example is not a corp.example account" in result.message
    assert result.id_token is None


def test_cancel_ends_the_wait_at_once(google_idp) -> None:
    signin = sign_in(google_idp)
    urls: list[str] = []
    thread, box = run_in_thread(
        signin.interactive, NONCE, timeout=60, open_browser=False, on_auth_url=urls.append
    )
    deadline = time.monotonic() + 10
    while not urls and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()

    signin.cancel()
    thread.join(10)

    assert box[0].status == "cancelled"
    assert time.monotonic() - started < 3


def test_cancel_pressed_before_the_browser_opens_still_cancels(google_idp) -> None:
    signin = sign_in(google_idp)

    result = signin.interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=lambda url: signin.cancel()
    )

    assert result.status == "cancelled"


def test_cancel_after_the_link_is_shown_means_no_browser_is_launched(
    google_idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[str] = []
    monkeypatch.setattr(google, "open_url", launched.append)
    attempt = Attempt()

    result = sign_in(google_idp).interactive(
        NONCE, timeout=20, on_auth_url=lambda url: attempt.cancel(), attempt=attempt
    )

    assert result.status == "cancelled"
    assert launched == []


def test_an_attempt_cancelled_while_the_nonce_was_fetched_never_starts(
    google_idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[str] = []
    monkeypatch.setattr(google, "open_url", launched.append)
    attempt = Attempt()
    attempt.cancel()
    shown: list[str] = []

    result = sign_in(google_idp).interactive(
        NONCE, timeout=20, on_auth_url=shown.append, attempt=attempt
    )

    assert result.status == "cancelled"
    assert shown == [] and launched == []


def test_sign_in_times_out(google_idp) -> None:
    started = time.monotonic()
    result = sign_in(google_idp).interactive(NONCE, timeout=1, open_browser=False)
    assert result.status == "timed_out"
    assert time.monotonic() - started < 5


def test_stray_request_to_the_loopback_fails_cleanly_and_a_retry_works(google_idp) -> None:
    def favicon_probe(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        threading.Thread(
            target=lambda: httpx.get(redirect + "favicon.ico", timeout=5), daemon=True
        ).start()

    signin = sign_in(google_idp)
    first = signin.interactive(NONCE, timeout=20, open_browser=False, on_auth_url=favicon_probe)
    retry = signin.interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=FakeBrowser("grace")
    )

    assert first.status == "failed" and "try again" in first.message
    assert retry.ok


def test_user_who_denies_gets_declined(google_idp) -> None:
    result = sign_in(google_idp).interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=FakeBrowser("grace", deny=True)
    )
    assert result.status == "declined"


def test_unreachable_token_endpoint_is_offline(google_idp) -> None:
    signin = sign_in(google_idp, token_uri="http://127.0.0.1:9/token")

    result = signin.interactive(
        NONCE, timeout=20, open_browser=False, on_auth_url=FakeBrowser("grace")
    )

    assert result.status == "offline"


def test_unverified_claims_tolerates_garbage() -> None:
    assert unverified_claims("not-a-jwt") == {}
    assert unverified_claims("a.!!!.c") == {}
    assert unverified_claims("a.bnVsbA.c") == {}  # payload "null"
