# ruff: noqa: F811  (the IdP fixtures are imported from tests/auth and named as parameters)
"""The sign-in screen of a real profile in each state, at 120x40. Each SVG was looked at.

Choose, device code (real MSAL against a scripted login.microsoftonline.com), error (a real
foreign-tenant token refused by the real platform), no keychain and offline are the real flows.
Waiting for the browser uses a stand-in for Microsoft's sign-in page, because MSAL puts a random
state, nonce, PKCE challenge and port in the URL the screen must show; the Pilot tests run that
state for real (tests/console/test_sign_in_idp.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from textual.pilot import Pilot

from ikan_console.auth.entra import Attempt, EntraSignIn, SignInResult, SignInStatus
from ikan_console.config import Profile
from tests.auth._scripted_entra import CLIENT, TENANT, ScriptedEntra, error
from tests.auth.conftest import entra_idp, google_idp, live_clock, memory_keyring  # noqa: F401
from tests.console.pilot_steps import settle
from tests.console.sign_in_console import (  # noqa: F401
    BrowserStandIn,
    console_platform,
    entra_profile,
    idp_console,
    mock_sign_in,
)

SIZE = (120, 40)
MICROSOFT = "https://login.microsoftonline.com"
AUTHORIZE_URL = (
    f"{MICROSOFT}/{TENANT}/oauth2/v2.0/authorize?client_id={CLIENT}&response_type=code"
    "&redirect_uri=http%3A%2F%2Flocalhost%3A53117&scope=email+openid+profile+offline_access"
    "&state=hCq1yJbTRkWUoVdz&code_challenge=Zq0Rk1j6XH5bH0mGf4s8uJvA2oQe9cWn3dYtLpKx7sE"
    "&code_challenge_method=S256&nonce=6f1c0e3a9b&response_mode=form_post&prompt=select_account"
)


class MicrosoftPageStandIn:
    """Microsoft's sign-in page, left open: shows a fixed URL and waits until cancelled.

    Like the real loopback receiver, the wait ends when the session cancels the attempt
    (Esc, or the sign-in panel unmounting as the test's app closes), not only at the timeout.
    """

    def __init__(self) -> None:
        self.shown = threading.Event()
        self._cancelled = threading.Event()

    def silent(self, refresh_token: str | None = None) -> SignInResult:
        """Nothing cached."""
        return SignInResult(SignInStatus.NEEDS_INTERACTION)

    def interactive(
        self, *, timeout: float, on_auth_url: Any, attempt: Attempt | None = None, **_: Any
    ) -> SignInResult:
        """Hand over the URL, then wait like the real loopback does."""
        if attempt is not None:
            attempt.interrupt = self._cancelled.set
            if attempt.cancelled.is_set():
                return SignInResult(SignInStatus.CANCELLED, message="Sign-in cancelled.")
        on_auth_url(AUTHORIZE_URL)
        self.shown.set()
        self._cancelled.wait(timeout)
        return SignInResult(SignInStatus.CANCELLED, message="Sign-in cancelled.")

    def cancel(self) -> None:
        """Esc."""
        self._cancelled.set()


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """Headless Linux: keyring's only backend is the failing one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def prod(platform_app: Any, clock: Any, make: Any, **kw: Any):  # type: ignore[no-untyped-def]
    """The console on the production profile ``prod`` (Microsoft's real authority)."""
    return idp_console(platform_app, entra_profile(MICROSOFT), lambda _: make, clock=clock, **kw)


def test_sign_in_offers_the_ways_to_sign_in(snap_compare, platform_app, clock, memory_keyring):
    app, _ = prod(platform_app, clock, MicrosoftPageStandIn())
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_sign_in_waits_for_the_browser_and_shows_the_link(
    snap_compare, platform_app, clock, memory_keyring
):
    page = MicrosoftPageStandIn()
    app, _ = prod(platform_app, clock, page)

    async def browser(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("down", "enter")
        assert await asyncio.to_thread(page.shown.wait, 10)
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=browser)
    finally:
        page.cancel()


def test_sign_in_shows_the_device_code(snap_compare, platform_app, clock, memory_keyring):
    microsoft = ScriptedEntra([error("authorization_pending")] * 30)
    signin = EntraSignIn(TENANT, CLIENT, http_client=microsoft)
    staging = Profile(
        name="staging",
        api_url="https://staging.api.ikan.example",
        idp=entra_profile(MICROSOFT).idp,
        colour="blue",
        production=False,
    )
    app, _ = idp_console(platform_app, staging, lambda _: signin, clock=clock)

    async def device_code(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        assert await asyncio.to_thread(microsoft.polled.wait, 10)  # the code is on screen
        await pilot.pause()

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=device_code)
    finally:
        signin.cancel()


def test_sign_in_explains_a_foreign_tenant_refusal(
    snap_compare, console_platform, entra_idp, memory_keyring, clock, monkeypatch
):
    BrowserStandIn("mallory", verify=entra_idp.ca_file).install(monkeypatch)
    profile = entra_profile(entra_idp.base)
    app, _ = idp_console(console_platform, profile, mock_sign_in(), clock=clock)

    async def refused(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=refused)


def test_sign_in_without_a_keychain_explains_the_opt_in(
    snap_compare, platform_app, clock, no_keychain
):
    app, _ = prod(platform_app, clock, MicrosoftPageStandIn())
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_sign_in_when_the_platform_is_unreachable_keeps_the_session(
    snap_compare, platform_app, clock, memory_keyring
):
    from ikan_console.auth.token_store import PLATFORM_REFRESH_TOKEN, KeyringTokenStore

    KeyringTokenStore(memory_keyring).set("prod", PLATFORM_REFRESH_TOKEN, "kept-refresh-token")
    app, _ = prod(platform_app, clock, MicrosoftPageStandIn(), api_url="http://127.0.0.1:9")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
