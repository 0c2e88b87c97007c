# ruff: noqa: F811  (the IdP fixtures are imported from tests/auth and named as parameters)
"""Signing in to a real profile, as a user does it: Entra and Google through the loopback providers.

Each test drives the real console (Pilot) against the real platform app, which verifies the
tokens the real provider issued; only the user's browser is played by the test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import keyring
import pytest
from keyring.backends import fail

from ikan_console.auth.entra import EntraSignIn, SignInResult
from ikan_console.auth.token_store import (
    IDP_REFRESH_TOKEN,
    PLATFORM_REFRESH_TOKEN,
    KeyringTokenStore,
)
from ikan_console.screens.main import MainScreen
from ikan_console.screens.sign_in import SignInScreen
from ikan_console.widgets.session_bar import SessionBar
from tests.auth._idp import ENTRA_CLIENT_ID, TENANT, EntraIdp, mint_id_token
from tests.auth._platform import entra_identity, google_identity
from tests.auth._scripted_entra import ScriptedEntra, error
from tests.auth.conftest import (  # noqa: F401
    LockedKeyring,
    entra_idp,
    google_idp,
    live_clock,
    locked_keyring,
    memory_keyring,
)
from tests.console.pilot_steps import settle
from tests.console.sign_in_console import (  # noqa: F401
    BrowserStandIn,
    admin,
    console_platform,
    entra_profile,
    google_profile,
    hint,
    idp_console,
    message,
    mock_sign_in,
    panel,
    prompt,
)

SIZE = (120, 40)


@pytest.fixture
async def alice(admin, entra_idp) -> dict[str, Any]:
    """Alice, Operations, provisioned with her Entra object id."""
    return await admin.provision(
        "alice@corp.example", "Alice Ng", entra_identity(entra_idp, "alice")
    )


def entra_console(console_platform, entra_idp, clock, **keeper: Any):  # type: ignore[no-untyped-def]
    """The console on the production Entra profile ``prod``."""
    profile = entra_profile(entra_idp.base)
    return idp_console(console_platform, profile, mock_sign_in(), clock=clock, **keeper)


def stored(memory_keyring, key: str, profile: str = "prod") -> str | None:
    """What the keychain holds for the profile."""
    return KeyringTokenStore(memory_keyring).get(profile, key)


async def signed_in_directly(platform_app, idp: EntraIdp, sub: str = "alice") -> dict[str, Any]:
    """A platform session opened outside the console (as `ikan-console login` would leave)."""
    token = mint_id_token(f"{idp.base}/{TENANT}/v2.0", sub, ENTRA_CLIENT_ID, verify=idp.ca_file)
    transport = httpx.ASGITransport(app=platform_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://platform") as http:
        response = await http.post(
            "/v1/auth/exchange", json={"provider": "entra", "id_token": token}
        )
    assert response.status_code == 200, response.text
    return response.json()


async def test_entra_sign_in_with_one_key_opens_the_production_console(
    console_platform, entra_idp, alice, memory_keyring, clock, monkeypatch
):
    browser = BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel(app).state == "choose"

        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, MainScreen), message(app)
        assert app.screen.user.email == "alice@corp.example"
        header = app.screen.query_one(SessionBar).render().plain
        assert "PROD · PRODUCTION" in header and "Alice Ng · Operations" in header
    assert browser.urls and f"/{TENANT}/v2.0/oauth2/authorize" in browser.urls[0]
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN)
    assert stored(memory_keyring, IDP_REFRESH_TOKEN)


async def test_browser_wait_shows_the_link_and_escape_cancels_it(
    console_platform, entra_idp, memory_keyring, clock, monkeypatch
):
    browser = BrowserStandIn(None).install(monkeypatch)  # a browser that never comes back
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # "in a browser"
        assert await asyncio.to_thread(browser.opened.wait, 10)
        await pilot.pause()
        assert panel(app).state == "browser"
        assert browser.urls[0] in prompt(app).replace("\n", "")

        await pilot.press("escape")
        await settle(pilot)

        assert panel(app).state == "choose"
        assert message(app) == "Sign-in cancelled."
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None


async def test_user_of_another_tenant_is_told_why_in_words(
    console_platform, entra_idp, memory_keyring, clock, monkeypatch
):
    BrowserStandIn("mallory", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert panel(app).state == "error"
        assert "belongs to another organisation" in message(app)
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None
    assert stored(memory_keyring, IDP_REFRESH_TOKEN) is None


async def test_a_role_the_console_is_not_for_is_refused_and_its_session_ended(
    console_platform, entra_idp, admin, memory_keyring, clock, monkeypatch
):
    identity = entra_identity(entra_idp, "alice")
    await admin.provision(
        "alice@corp.example", "Alice Ng", identity, role="supplier", supplier_id=1
    )
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert "ikan console is only for Operations and Admin staff" in message(app)
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """Headless Linux: keyring's only backend is the failing one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


async def test_without_a_keychain_the_console_says_so_and_offers_a_session_only_sign_in(
    console_platform, entra_idp, alice, no_keychain, clock, monkeypatch
):
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, keeper = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel(app).state == "no_keychain"
        assert "No OS keychain is available" in message(app)
        assert "insecure_token_file = true in config.toml" in hint(app)

        await pilot.press("enter")  # "for this session only"
        await settle(pilot)

        assert isinstance(app.screen, MainScreen)
        assert keeper.store is not None and keeper.store.label == "not saved"
        assert "tokens:" not in app.screen.query_one(SessionBar).render().plain


def visible(bar: SessionBar) -> str:
    """The header line as the terminal shows it: cut at the screen's width, not the full text."""
    return bar.render_line(0).text


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (
            (120, 40),
            " PROD · PRODUCTION   ⚠ tokens: file (less safe)   Alice Ng · Operations   "
            "1 Queues   2 Audit   3 Deletion requests  ",
        ),
        (
            (80, 24),
            " PROD · PRODUCTION   ⚠ tokens in file  Alice Ng · Operations  1 Queues   2   3",
        ),
    ],
    ids=["120-columns", "80-columns"],
)
async def test_opting_in_to_the_file_store_is_shown_in_the_header(
    console_platform, entra_idp, alice, no_keychain, clock, monkeypatch, tmp_path, size, header
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock, allow_insecure_file=True)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        # Nobody is signed in yet: the panel says where a sign-in will be kept.
        assert hint(app) == "This profile keeps its sign-in in a file (less safe) store."
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, MainScreen)
        assert visible(app.screen.query_one(SessionBar)).rstrip() == header.rstrip()
    token_file = tmp_path / "ikan-console" / "insecure-tokens" / "tokens.json"
    assert token_file.stat().st_mode & 0o777 == 0o600


async def test_a_locked_keychain_is_explained_and_r_resumes_once_it_is_unlocked(
    console_platform, entra_idp, alice, locked_keyring: LockedKeyring, clock
):
    session = await signed_in_directly(console_platform, entra_idp)
    entry = ("ikan-console", f"prod/{PLATFORM_REFRESH_TOKEN}")
    locked_keyring.entries[entry] = "v1:" + session["refresh_token"]
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert panel(app).state == "no_keychain"  # not spinning forever
        assert not panel(app).query_one("#loading").display
        assert "Could not read from the keychain (LockedKeyring: KeyringLocked)" in message(app)
        assert "Unlock your keychain, then press r to try again" in hint(app)

        locked_keyring.locked = False
        await pilot.press("r")
        await settle(pilot)

        assert isinstance(app.screen, MainScreen)
        assert app.screen.user.email == "alice@corp.example"


async def test_with_a_locked_keychain_a_session_only_sign_in_still_works(
    console_platform, entra_idp, alice, locked_keyring: LockedKeyring, clock, monkeypatch
):
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, keeper = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel(app).state == "no_keychain"

        await pilot.press("enter")  # "for this session only"
        await settle(pilot)

        assert isinstance(app.screen, MainScreen), message(app)
        assert keeper.store is not None and keeper.store.label == "not saved"
    assert locked_keyring.entries == {}  # nothing was written to the locked keychain


async def test_the_stored_session_is_resumed_at_start_without_signing_in(
    console_platform, entra_idp, alice, memory_keyring, clock
):
    session = await signed_in_directly(console_platform, entra_idp)
    KeyringTokenStore(memory_keyring).set("prod", PLATFORM_REFRESH_TOKEN, session["refresh_token"])
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        assert isinstance(app.screen, MainScreen)
        assert app.screen.user.email == "alice@corp.example"
    rotated = stored(memory_keyring, PLATFORM_REFRESH_TOKEN)
    assert rotated and rotated != session["refresh_token"]


async def test_an_unreachable_platform_keeps_the_stored_sign_in(
    console_platform, entra_idp, memory_keyring, clock
):
    KeyringTokenStore(memory_keyring).set("prod", PLATFORM_REFRESH_TOKEN, "kept-refresh-token")
    profile = entra_profile(entra_idp.base)
    app, _ = idp_console(
        console_platform, profile, mock_sign_in(), clock=clock, api_url="http://127.0.0.1:9"
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert panel(app).state == "offline"
        assert "Cannot reach the platform" in message(app)
        assert "Your sign-in is kept" in message(app)

        await pilot.press("r")
        await settle(pilot)
        assert panel(app).state == "offline"
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) == "kept-refresh-token"


async def test_refused_refresh_brings_back_sign_in_over_the_same_work(
    console_platform, entra_idp, alice, memory_keyring, clock, live_clock, monkeypatch
):
    session = await signed_in_directly(console_platform, entra_idp)
    KeyringTokenStore(memory_keyring).set("prod", PLATFORM_REFRESH_TOKEN, session["refresh_token"])
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        work = app.screen
        assert isinstance(work, MainScreen)
        await pilot.press("2")  # the audit view: the screen to come back to
        await settle(pilot)
        # An admin ends the session elsewhere, and the access token runs out.
        current = stored(memory_keyring, PLATFORM_REFRESH_TOKEN)
        transport = httpx.ASGITransport(app=console_platform)
        async with httpx.AsyncClient(transport=transport, base_url="http://platform") as http:
            await http.post("/v1/auth/logout", json={"refresh_token": current})
        live_clock.advance(seconds=90)

        await pilot.press("1")
        await pilot.press("r")
        await settle(pilot)

        assert isinstance(app.screen, SignInScreen)
        assert work in app.screen_stack
        assert "Your work is still open behind this screen" in message(app)
        assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None

        await pilot.press("enter")
        await settle(pilot)

        assert app.screen is work
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN)


async def test_google_sign_in_uses_a_platform_nonce_and_opens_the_console(
    console_platform, google_idp, admin, memory_keyring, clock, monkeypatch
):
    await admin.provision("grace@corp.example", "Grace Liu", google_identity(google_idp, "grace"))
    browser = BrowserStandIn("grace", form_post=False).install(monkeypatch)
    profile = google_profile()
    app, _ = idp_console(console_platform, profile, mock_sign_in(google_idp), clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert isinstance(app.screen, MainScreen), message(app)
        assert "CORP" in app.screen.query_one(SessionBar).render().plain
    assert "nonce=" in browser.urls[0]
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN, "corp")
    assert stored(memory_keyring, IDP_REFRESH_TOKEN, "corp") is None  # Google: nothing to keep


async def test_sign_out_revokes_and_forgets_both_tokens(
    console_platform, entra_idp, alice, memory_keyring, clock, monkeypatch
):
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        refresh = stored(memory_keyring, PLATFORM_REFRESH_TOKEN)

        await pilot.press("ctrl+o")
        await settle(pilot)

        assert isinstance(app.screen, SignInScreen)
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None
    assert stored(memory_keyring, IDP_REFRESH_TOKEN) is None
    transport = httpx.ASGITransport(app=console_platform)
    async with httpx.AsyncClient(transport=transport, base_url="http://platform") as http:
        again = await http.post("/v1/auth/refresh", json={"refresh_token": refresh})
    assert again.status_code == 401


async def test_an_unprovisioned_user_is_told_what_the_admin_needs(
    console_platform, entra_idp, memory_keyring, clock, monkeypatch
):
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, _ = entra_console(console_platform, entra_idp, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert panel(app).state == "error"
        assert "no ikan account is linked" in message(app)
        assert f"issuer {entra_idp.base}/{TENANT}/v2.0 and subject oid-alice" in message(app)
    # Microsoft signed Alice in, but the platform refused her: nothing of it is kept.
    assert stored(memory_keyring, IDP_REFRESH_TOKEN) is None
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None


class HeldSilentSignIn(EntraSignIn):
    """The real Entra sign-in, whose silent step waits until the test lets it go (slow network)."""

    def __init__(self, idp: EntraIdp) -> None:
        super().__init__(
            TENANT, ENTRA_CLIENT_ID, authority_base=idp.base, exclude_scopes=("offline_access",)
        )
        self.in_silent = threading.Event()
        self.release = threading.Event()

    def silent(self, refresh_token: str | None = None) -> SignInResult:
        """Wait for `release`, then try the cached account and stored token as usual."""
        self.in_silent.set()
        self.release.wait(10)
        return super().silent(refresh_token)


async def test_escape_while_signing_in_sticks_and_no_browser_opens_afterwards(
    console_platform, entra_idp, alice, memory_keyring, clock, monkeypatch
):
    browser = BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    held = HeldSilentSignIn(entra_idp)
    profile = entra_profile(entra_idp.base)
    app, _ = idp_console(console_platform, profile, lambda _: held, clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # saved account first: the silent step is under way
        assert await asyncio.to_thread(held.in_silent.wait, 10)
        await pilot.pause()
        assert panel(app).state == "working"

        await pilot.press("escape")
        held.release.set()  # silent finds nothing; the browser would be next
        await settle(pilot)

        assert panel(app).state == "choose"
        assert message(app) == "Sign-in cancelled."
    assert browser.urls == []  # the browser never opened
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None


def scripted_console(platform_app, clock, microsoft: ScriptedEntra):  # type: ignore[no-untyped-def]
    """The console on ``prod`` against a scripted Microsoft, on a machine with no usable browser."""
    signin = EntraSignIn(TENANT, ENTRA_CLIENT_ID, http_client=microsoft)
    profile = entra_profile("https://login.microsoftonline.com")
    app, _ = idp_console(
        platform_app, profile, lambda _: signin, clock=clock, use_device_code=lambda: True
    )
    return app, signin


async def test_auto_sign_in_without_a_usable_browser_shows_a_device_code(
    platform_app, memory_keyring, clock, monkeypatch
):
    browser = BrowserStandIn(None).install(monkeypatch)
    microsoft = ScriptedEntra([error("authorization_pending")] * 30)
    app, signin = scripted_console(platform_app, clock, microsoft)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "(saved account, else device code)" in str(
                panel(app).query_one("#methods").get_option_at_index(0).prompt
            )

            await pilot.press("enter")  # the first choice: saved account, else ...
            assert await asyncio.to_thread(microsoft.polled.wait, 10)
            await pilot.pause()

            assert panel(app).state == "device_code"
            assert "ABCD-EFGH" in prompt(app) and "microsoft.com/devicelogin" in prompt(app)
    finally:
        signin.cancel()
    assert browser.urls == []


async def test_escape_in_the_device_code_state_cancels_and_returns_to_the_choice(
    platform_app, memory_keyring, clock, monkeypatch
):
    BrowserStandIn(None).install(monkeypatch)
    microsoft = ScriptedEntra([error("authorization_pending")] * 30)
    app, _ = scripted_console(platform_app, clock, microsoft)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert await asyncio.to_thread(microsoft.polled.wait, 10)
        await pilot.pause()
        assert panel(app).state == "device_code"
        polls = len(microsoft.token_requests)

        await pilot.press("escape")
        await settle(pilot)

        assert panel(app).state == "choose"
        assert message(app) == "Sign-in cancelled."
        assert len(microsoft.token_requests) <= polls + 1  # polling stopped
    assert stored(memory_keyring, PLATFORM_REFRESH_TOKEN) is None


async def test_microsoft_unreachable_says_what_to_do(platform_app, memory_keyring, clock):
    app, _ = scripted_console(platform_app, clock, ScriptedEntra(offline=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert panel(app).state == "error"
        assert message(app) == (
            "Microsoft sign-in is unreachable. Check your network or VPN, then try again; "
            "nothing was changed."
        )


async def test_an_unexpected_sign_in_error_is_shown_in_one_line_without_secrets(
    platform_app, memory_keyring, clock
):
    secret = "0.AXoA" + "Zq0Rk1j6XH5bH0mGf4s8uJvA2oQe9cWn3dYtLpKx7sEzzzzzz"
    surprise = ValueError(f"unexpected reply {{'refresh_token': '{secret}'}} after {secret}")
    app, _ = scripted_console(platform_app, clock, ScriptedEntra([surprise]))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

        assert panel(app).state == "error"
        assert message(app) == (
            "Microsoft sign-in stopped on an unexpected ValueError: unexpected reply "
            "{'refresh_token': '[redacted]'} after 0.[redacted]"
        )
