"""Entra device code, silent and offline paths, with a scripted MSAL `http_client` (no network)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from ikan_console.auth import entra
from ikan_console.auth.entra import DeviceCodePrompt, EntraSignIn, SignInStatus
from tests.auth._scripted_entra import CLIENT, TENANT, ScriptedEntra, error, tokens

pytestmark = pytest.mark.filterwarnings("ignore:Attempted too soon")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the poll sleep with a record of the intervals asked for (the test stays fast)."""
    asked: list[float] = []

    def fake_wait(event: threading.Event, seconds: float) -> bool:
        asked.append(seconds)
        return event.is_set()

    monkeypatch.setattr(entra, "_wait", fake_wait)
    return asked


def device_sign_in(
    idp: ScriptedEntra, on_prompt: Callable[[DeviceCodePrompt], None] | None = None
) -> tuple[EntraSignIn, Any]:
    """Run a device code sign-in to the end; return it with (result, prompts shown)."""
    signin = EntraSignIn(TENANT, CLIENT, http_client=idp)
    prompts: list[DeviceCodePrompt] = []
    result = signin.device_code(on_prompt or prompts.append)
    return signin, (result, prompts)


def test_pending_then_success_shows_the_code_and_returns_the_id_token(waits) -> None:
    idp = ScriptedEntra([error("authorization_pending"), error("authorization_pending"), tokens()])

    _, (result, prompts) = device_sign_in(idp)

    assert prompts[0].user_code == "ABCD-EFGH"
    assert prompts[0].verification_uri == "https://microsoft.com/devicelogin"
    assert result.status is SignInStatus.SIGNED_IN and result.username == "alice@corp.example"
    assert result.refresh_token == "rt-alice"
    assert waits == [1, 1]


def test_slow_down_lengthens_the_poll_interval(waits) -> None:
    idp = ScriptedEntra([error("slow_down"), error("authorization_pending"), tokens()])

    _, (result, _) = device_sign_in(idp)

    assert result.ok
    assert waits == [6, 6]  # RFC 8628: slow_down adds 5 seconds, for good


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (error("authorization_declined"), SignInStatus.DECLINED),
        (error("expired_token"), SignInStatus.EXPIRED),
        (
            error("invalid_grant", "AADSTS53003: Access has been blocked by Conditional Access "
                  "policies.\r\nTrace ID: 1", (53003,)),
            SignInStatus.BLOCKED,
        ),
        (error("invalid_client", "AADSTS7000218: public client flows disabled"),
         SignInStatus.FAILED),
    ],
    ids=["declined", "expired", "blocked-by-conditional-access", "other-error"],
)  # fmt: skip
def test_device_code_outcomes_are_distinct(waits, reply, status) -> None:
    _, (result, _) = device_sign_in(ScriptedEntra([error("authorization_pending"), reply]))
    assert result.status is status
    assert result.id_token is None


def test_blocked_message_is_the_first_line_of_the_aadsts_text(waits) -> None:
    blocked = error("invalid_grant", "AADSTS53003: Blocked by CA.\r\nTrace ID: x", (53003,))
    _, (result, _) = device_sign_in(ScriptedEntra([blocked]))
    assert result.message == "AADSTS53003: Blocked by CA."


def test_cancel_while_polling_reports_cancelled_not_pending() -> None:
    idp = ScriptedEntra([error("authorization_pending")] * 50)
    signin = EntraSignIn(TENANT, CLIENT, http_client=idp)
    shown = threading.Event()
    box: list[Any] = []
    worker = threading.Thread(
        target=lambda: box.append(signin.device_code(lambda prompt: shown.set())), daemon=True
    )
    worker.start()
    assert shown.wait(5)
    time.sleep(0.2)  # let it reach the wait between polls (interval 1 s)
    started = time.monotonic()

    signin.cancel()
    worker.join(5)

    assert box[0].status is SignInStatus.CANCELLED
    assert time.monotonic() - started < 1
    assert len(idp.token_requests) < 50


def test_device_code_when_offline_is_offline(waits) -> None:
    _, (result, prompts) = device_sign_in(ScriptedEntra(offline=True))
    assert result.status is SignInStatus.OFFLINE
    assert prompts == []


def test_connection_lost_while_polling_is_offline(waits) -> None:
    lost = requests.ConnectionError("connection reset")
    _, (result, _) = device_sign_in(ScriptedEntra([error("authorization_pending"), lost]))
    assert result.status is SignInStatus.OFFLINE


BARE_REFRESH_TOKEN = "0.AXoA" + "q7Zk2mN4pR8sT1vW3xY5zB6cD9fG0hJ2kL4nP6rS8tV0wX2yZ4aB6cD8eF0gH2jK"
ID_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def test_an_unexpected_error_says_what_happened_in_one_line_without_a_token(waits) -> None:
    surprise = ValueError(
        f"token endpoint answered without an id_token (refresh_token={BARE_REFRESH_TOKEN}, "
        f"previous {ID_TOKEN}, again {BARE_REFRESH_TOKEN})\nsecond line of the response"
    )
    _, (result, _) = device_sign_in(ScriptedEntra([surprise]))

    assert result.status is SignInStatus.FAILED
    assert result.message.startswith(
        "Microsoft sign-in stopped on an unexpected ValueError: token endpoint answered "
        "without an id_token (refresh_token=[redacted], previous [redacted], again 0.[redacted])"
    )
    assert "second line" not in result.message
    assert BARE_REFRESH_TOKEN[5:25] not in result.message and "eyJ" not in result.message


def test_the_shown_detail_keeps_tenant_ids_and_hosts_and_stays_short() -> None:
    detail = entra.shown_detail(
        ValueError(f"no tenant {TENANT} at login.microsoftonline.com " + "x " * 200)
    )
    assert detail.startswith(f"no tenant {TENANT} at login.microsoftonline.com x x")
    assert len(detail) <= entra.DETAIL_CHARS and detail.endswith("…")
    assert entra.shown_detail(ValueError()) == ""


def test_an_unexpected_error_without_text_names_its_type() -> None:
    result = entra.from_exception(KeyError(), "Google")
    assert result.message == "Google sign-in stopped on an unexpected KeyError."


def test_silent_uses_the_cached_account_and_forces_a_fresh_id_token(waits) -> None:
    idp = ScriptedEntra([tokens(), tokens()])
    signin = EntraSignIn(TENANT, CLIENT, http_client=idp)
    assert signin.device_code(lambda prompt: None).ok

    result = signin.silent()

    assert result.ok and result.username == "alice@corp.example"
    assert idp.token_requests[-1]["grant_type"] == "refresh_token"


def test_silent_with_a_stored_refresh_token_after_restart() -> None:
    idp = ScriptedEntra([tokens("bob")])

    result = EntraSignIn(TENANT, CLIENT, http_client=idp).silent(refresh_token="rt-stored")

    assert result.ok and result.refresh_token == "rt-bob"
    assert idp.token_requests[0]["refresh_token"] == "rt-stored"


def test_silent_with_revoked_refresh_token_asks_for_interaction() -> None:
    idp = ScriptedEntra([error("invalid_grant", "AADSTS70008: The refresh token has expired")])
    result = EntraSignIn(TENANT, CLIENT, http_client=idp).silent(refresh_token="rt-old")
    assert result.status is SignInStatus.NEEDS_INTERACTION


def test_silent_with_nothing_stored_asks_for_interaction() -> None:
    result = EntraSignIn(TENANT, CLIENT, http_client=ScriptedEntra()).silent()
    assert result.status is SignInStatus.NEEDS_INTERACTION


def test_offline_start_is_offline_not_signed_out() -> None:
    result = EntraSignIn(TENANT, CLIENT, http_client=ScriptedEntra(offline=True)).silent("rt")
    assert result.status is SignInStatus.OFFLINE


def test_offline_when_a_cached_account_needs_refresh_is_offline(waits) -> None:
    idp = ScriptedEntra([tokens()])
    signin = EntraSignIn(TENANT, CLIENT, http_client=idp)
    assert signin.device_code(lambda prompt: None).ok
    idp.offline = True

    assert signin.silent().status is SignInStatus.OFFLINE


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({"SSH_CONNECTION": "10.0.0.1 5000 10.0.0.2 22", "DISPLAY": ":0"}, "linux", True),
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({}, "darwin", False),
        ({}, "win32", False),
        ({"SSH_TTY": "/dev/pts/1"}, "darwin", True),
    ],
)
def test_device_code_is_preferred_without_a_usable_browser(
    monkeypatch: pytest.MonkeyPatch, environ, platform, expected
) -> None:
    monkeypatch.setattr(entra, "_is_wsl", lambda env: False)
    assert entra.should_use_device_code(environ, platform) is expected


def test_wsl_without_display_still_uses_the_windows_browser(monkeypatch) -> None:
    monkeypatch.setattr(entra, "_is_wsl", lambda env: True)
    assert entra.should_use_device_code({}, "linux") is False
