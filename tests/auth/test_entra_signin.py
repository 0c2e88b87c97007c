"""Entra browser sign-in end to end against an Entra-shaped provider on loopback TLS."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import webbrowser
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from ikan_console.auth import entra
from ikan_console.auth.entra import Attempt, EntraSignIn, SignInStatus
from ikan_platform.identity import IdentityError, nonce_hash, verify_id_token
from tests.auth._idp import ENTRA_CLIENT_ID, TENANT, EntraIdp, run_in_thread
from tests.auth.conftest import FakeBrowser


def sign_in(idp: EntraIdp) -> EntraSignIn:
    """The console's Entra sign-in, pointed at the loopback provider for the home tenant."""
    return EntraSignIn(
        TENANT,
        ENTRA_CLIENT_ID,
        authority_base=idp.base,
        # The mock does not know offline_access and then refuses refresh (AUTH-NOTES 4).
        exclude_scopes=("offline_access",),
    )


def test_browser_sign_in_yields_an_id_token_the_platform_accepts(entra_idp, entra_config) -> None:
    browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True)

    result = sign_in(entra_idp).interactive(timeout=20, open_browser=False, on_auth_url=browser)

    assert result.status is SignInStatus.SIGNED_IN and result.ok
    assert result.username == "alice"
    assert result.refresh_token  # for the token store
    identity = verify_id_token(
        entra_config, result.id_token or "", expected_nonce_hash=nonce_hash(result.nonce or "")
    )
    assert identity.key == (TENANT, "oid-alice")


def test_authorization_request_uses_tenant_pkce_form_post_and_hashed_nonce(entra_idp) -> None:
    browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True)

    result = sign_in(entra_idp).interactive(timeout=20, open_browser=False, on_auth_url=browser)

    url = urlsplit(browser.urls[0])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert url.path == f"/{TENANT}/v2.0/oauth2/authorize"
    assert query["code_challenge_method"] == "S256"
    assert query["response_mode"] == "form_post"
    assert query["redirect_uri"].startswith("http://localhost:")
    assert query["nonce"] == hashlib.sha256((result.nonce or "").encode()).hexdigest()


def test_user_from_another_tenant_signs_in_but_the_platform_refuses(entra_idp, entra_config):
    browser = FakeBrowser("mallory", verify=entra_idp.ca_file, form_post=True)

    result = sign_in(entra_idp).interactive(timeout=20, open_browser=False, on_auth_url=browser)

    assert result.ok  # MSAL alone is not a control: the platform's tid allowlist is
    with pytest.raises(IdentityError) as refused:
        verify_id_token(entra_config, result.id_token or "")
    assert refused.value.code == "id_token_foreign_tenant"


def test_cancel_ends_the_browser_wait_at_once_and_frees_the_port(entra_idp) -> None:
    signin = sign_in(entra_idp)
    urls: list[str] = []
    thread, box = run_in_thread(
        signin.interactive, timeout=60, open_browser=False, on_auth_url=urls.append
    )
    deadline = time.monotonic() + 10
    while not urls and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()

    signin.cancel()
    thread.join(10)

    assert box[0].status is SignInStatus.CANCELLED
    assert time.monotonic() - started < 5
    port = int(parse_qs(urlsplit(urls[0]).query)["redirect_uri"][0].rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_cancel_after_the_link_is_shown_means_no_browser_is_launched(
    entra_idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    launched: list[str] = []
    monkeypatch.setattr(entra, "open_url", launched.append)
    attempt = Attempt()

    result = sign_in(entra_idp).interactive(
        timeout=20, on_auth_url=lambda url: attempt.cancel(), attempt=attempt
    )

    assert result.status is SignInStatus.CANCELLED
    assert launched == []


@pytest.mark.parametrize("flow", ["browser", "device_code"])
def test_an_attempt_cancelled_in_an_earlier_step_never_starts_the_flow(
    entra_idp, monkeypatch: pytest.MonkeyPatch, flow: str
) -> None:
    launched: list[str] = []
    monkeypatch.setattr(entra, "open_url", launched.append)
    attempt = Attempt()
    attempt.cancel()  # Esc while, say, the silent sign-in was still running
    shown: list[object] = []

    if flow == "browser":
        result = sign_in(entra_idp).interactive(
            timeout=20, on_auth_url=shown.append, attempt=attempt
        )
    else:
        result = sign_in(entra_idp).device_code(shown.append, attempt)

    assert result.status is SignInStatus.CANCELLED
    assert shown == [] and launched == []


def test_browser_flow_times_out_instead_of_waiting_forever(entra_idp) -> None:
    started = time.monotonic()

    result = sign_in(entra_idp).interactive(timeout=1, open_browser=False)

    assert result.status is SignInStatus.TIMED_OUT
    assert time.monotonic() - started < 6


def test_forged_callback_with_wrong_state_is_ignored_and_real_one_still_works(entra_idp) -> None:
    real_browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True)

    def attacker_then_user(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]

        def forge() -> None:
            forged = httpx.post(redirect, data={"code": "attacker-code", "state": "forged"})
            assert forged.status_code == 400  # "State mismatch. Waiting for next response"
            real_browser(url)

        threading.Thread(target=forge, daemon=True).start()

    result = sign_in(entra_idp).interactive(
        timeout=20, open_browser=False, on_auth_url=attacker_then_user
    )

    assert result.ok and result.username == "alice"


def test_user_who_denies_consent_gets_declined(entra_idp) -> None:
    browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True, deny=True)

    result = sign_in(entra_idp).interactive(timeout=20, open_browser=False, on_auth_url=browser)

    assert result.status is SignInStatus.DECLINED
    assert result.id_token is None


def test_one_msal_app_per_process_for_the_same_tenant_and_client(entra_idp) -> None:
    first, second = sign_in(entra_idp), sign_in(entra_idp)
    assert first.app() is second.app()


def test_result_repr_never_shows_tokens(entra_idp) -> None:
    browser = FakeBrowser("alice", verify=entra_idp.ca_file, form_post=True)
    result = sign_in(entra_idp).interactive(timeout=20, open_browser=False, on_auth_url=browser)
    assert result.id_token and result.id_token not in repr(result)
    assert result.refresh_token and result.refresh_token not in repr(result)


def test_text_mode_browser_is_not_launched(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[str] = []

    class Lynx(webbrowser.GenericBrowser):
        """A console browser: would fight the TUI for the terminal."""

        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            launched.append(url)
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Lynx("lynx"))
    monkeypatch.setattr(entra, "_is_wsl", lambda env: False)

    assert entra.open_url("https://login.example/authorize") is False
    assert launched == []


def test_graphical_browser_is_launched(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[str] = []

    class Firefox(webbrowser.BackgroundBrowser):
        """A graphical browser."""

        def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
            launched.append(url)
            return True

    monkeypatch.setattr(webbrowser, "get", lambda using=None: Firefox("firefox"))

    assert entra.open_url("https://login.example/authorize") is True
    assert launched == ["https://login.example/authorize"]
