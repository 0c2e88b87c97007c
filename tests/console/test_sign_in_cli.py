# ruff: noqa: F811  (the IdP fixtures are imported from tests/auth and named as parameters)
"""`ikan-console profiles | login | whoami | logout` in a terminal, against a served platform.

The platform (configured for the Entra-style loopback provider) listens on a real loopback port,
the CLI reads a real config file, the keychain is in memory and the browser is played by the
test: everything else is what a user runs.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from keyring.backends import fail

from ikan_console import cli
from ikan_console.auth.token_store import (
    IDP_REFRESH_TOKEN,
    PLATFORM_REFRESH_TOKEN,
    KeyringTokenStore,
)
from ikan_console.config import ConsoleSettings, Profile
from ikan_console.screens.main import MainScreen
from tests.auth._idp import ENTRA_CLIENT_ID, TENANT, EntraIdp
from tests.auth._platform import ADMIN, entra_identity, idp_settings, served
from tests.auth.conftest import (  # noqa: F401
    LockedKeyring,
    entra_idp,
    live_clock,
    locked_keyring,
    memory_keyring,
    restore_logging,
)
from tests.console.pilot_steps import settle
from tests.console.sign_in_console import BrowserStandIn, entra_profile, idp_console, mock_sign_in


@pytest.fixture
def platform_url(database_url, live_clock, entra_idp) -> Iterator[str]:
    """The platform, trusting the Entra-style provider, on a loopback port."""
    from ikan_platform.app import create_app

    app = create_app(idp_settings(database_url, live_clock, entra_idp, None))
    with served(app) as url:
        yield url
    app.state.engine.dispose()


@pytest.fixture
def config(
    tmp_path: Path, platform_url: str, entra_idp: EntraIdp, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A config file with the Entra profile ``corp`` (the default) next to the sandbox."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the refresh lock's home
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
default_profile = "corp"

[profiles.corp]
api_url = "{platform_url}"
colour = "blue"
production = true

[profiles.corp.idp]
kind = "entra"
tenant_id = "{TENANT}"
client_id = "{ENTRA_CLIENT_ID}"
authority_base = "{entra_idp.base}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def alice(platform_url: str, entra_idp: EntraIdp) -> None:
    """Alice, Operations, provisioned by the admin over HTTP."""
    with httpx.Client(base_url=platform_url) as http:
        admin = http.post(
            "/v1/auth/exchange", json={"provider": "sandbox", "id_token": ADMIN}
        ).json()
        body = {
            "email": "alice@corp.example",
            "name": "Alice Ng",
            "role": "operations",
            "identity": entra_identity(entra_idp, "alice"),
        }
        headers = {"Authorization": f"Bearer {admin['access_token']}", "Idempotency-Key": "a"}
        assert http.post("/v1/users", json=body, headers=headers).status_code == 201


def run(config: Path, *args: str) -> int:
    """`ikan-console --config CONFIG ARGS...`."""
    return cli.main(["--config", str(config), *args])


def stored(key: str) -> str | None:
    """What the keychain holds for profile ``corp``."""
    return KeyringTokenStore(keyring.get_keyring()).get("corp", key)


def test_without_a_config_the_only_profile_is_the_sandbox(tmp_path, capsys, restore_logging):
    assert run(tmp_path / "missing.toml", "profiles") == 0
    out = capsys.readouterr().out
    assert "not found: only the built-in sandbox" in out
    assert "* sandbox" in out


def test_profiles_lists_the_default_and_marks_production(config, capsys, restore_logging):
    assert run(config, "profiles") == 0
    lines = capsys.readouterr().out.splitlines()
    corp = next(line for line in lines if " corp " in line)
    assert corp.startswith("* ") and f"tenant {TENANT}" in corp and "PRODUCTION" in corp
    assert any(line.startswith("  sandbox") for line in lines)


def test_login_whoami_logout_in_a_terminal(
    config, alice, platform_url, entra_idp, memory_keyring, capsys, monkeypatch, restore_logging
):
    browser = BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    assert run(config, "whoami") == 1
    assert "Not signed in (profile corp)" in capsys.readouterr().err

    assert run(config, "login", "--browser") == 0
    err = capsys.readouterr().err
    assert browser.urls[0] in err  # shown in case no browser opened
    assert "Signed in: Alice Ng <alice@corp.example> · Operations · profile corp" in err
    assert stored(PLATFORM_REFRESH_TOKEN) and stored(IDP_REFRESH_TOKEN)

    assert run(config, "whoami") == 0
    assert capsys.readouterr().out.strip() == (
        "Alice Ng <alice@corp.example> · Operations · profile corp"
    )
    session = stored(PLATFORM_REFRESH_TOKEN)

    assert run(config, "--profile", "corp", "logout") == 0
    assert "Signed out of profile corp" in capsys.readouterr().err
    assert stored(PLATFORM_REFRESH_TOKEN) is None and stored(IDP_REFRESH_TOKEN) is None
    refused = httpx.post(f"{platform_url}/v1/auth/refresh", json={"refresh_token": session})
    assert refused.status_code == 401  # revoked on the platform, not only forgotten here
    assert run(config, "whoami") == 1


async def test_whoami_beside_an_open_console_leaves_both_signed_in(
    config, alice, platform_url, entra_idp, memory_keyring, live_clock, clock, capsys,
    monkeypatch, tmp_path, restore_logging
):  # fmt: skip
    """AUTH-NOTES pitfall 7, end to end: `whoami` rotates the stored session under the TUI."""
    BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    assert await asyncio.to_thread(run, config, "login", "--browser") == 0
    profile = entra_profile(entra_idp.base, name="corp")
    locks = tmp_path / "state" / "ikan-console" / "locks"  # where the CLI keeps its lock
    app, _ = idp_console(
        None, profile, mock_sign_in(), clock=clock, api_url=platform_url, lock_dir=locks
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)  # the TUI resumed the stored session

        assert await asyncio.to_thread(run, config, "whoami") == 0  # another terminal
        live_clock.advance(minutes=16)  # past the TUI's access token
        await pilot.press("1")
        await pilot.press("r")
        await settle(pilot)

        assert isinstance(app.screen, MainScreen), "the open console's session ended"
        assert not [n for n in app._notifications if n.severity == "error"]
    capsys.readouterr()
    assert await asyncio.to_thread(run, config, "whoami") == 0
    assert capsys.readouterr().out.startswith("Alice Ng <alice@corp.example>")


def test_login_with_microsoft_unreachable_says_what_to_do(
    tmp_path, memory_keyring, capsys, monkeypatch, restore_logging
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.corp]\napi_url = "http://127.0.0.1:9"\n[profiles.corp.idp]\nkind = "entra"\n'
        f'tenant_id = "{TENANT}"\nclient_id = "{ENTRA_CLIENT_ID}"\n'
        'authority_base = "https://127.0.0.1:9"\n',
        encoding="utf-8",
    )

    assert run(path, "--profile", "corp", "login") == 2

    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == (
        "Sign-in failed: Microsoft sign-in is unreachable. Check your network or VPN, then "
        "try again; nothing was changed."
    )


def test_a_profile_with_sandbox_sign_in_is_shown_by_its_name_an_api_url_by_its_host() -> None:
    settings = ConsoleSettings()
    plain = argparse.Namespace(sandbox=False, read_only=False, database_url=None, api_url=None)
    staging = Profile(name="staging", api_url="http://127.0.0.1:8700", colour="cyan")
    named = cli.connection_for(plain, settings, staging, {"staging": staging})
    assert (named.environment, named.colour) == ("STAGING", "cyan")

    ad_hoc_args = cli.build_parser().parse_args(["--api-url", "http://127.0.0.1:8700"])
    ad_hoc = cli._profile(ad_hoc_args, settings, {})
    shown = cli.connection_for(ad_hoc_args, settings, ad_hoc, {})
    assert (shown.environment, shown.colour) == ("LOCAL", None)


def test_whoami_with_the_platform_down_keeps_the_sign_in(
    tmp_path, memory_keyring, capsys, restore_logging
):
    path = tmp_path / "config.toml"
    path.write_text(
        '[profiles.corp]\napi_url = "http://127.0.0.1:9"\n[profiles.corp.idp]\nkind = "entra"\n'
        f'tenant_id = "{TENANT}"\nclient_id = "{ENTRA_CLIENT_ID}"\n',
        encoding="utf-8",
    )
    KeyringTokenStore(memory_keyring).set("corp", PLATFORM_REFRESH_TOKEN, "kept")

    assert run(path, "--profile", "corp", "whoami") == 2

    assert "Your sign-in is kept" in capsys.readouterr().err
    assert stored(PLATFORM_REFRESH_TOKEN) == "kept"


@pytest.fixture
def no_keychain() -> Iterator[None]:
    """Headless Linux: keyring's only backend is the failing one."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_login_without_a_keychain_says_how_to_opt_in(config, no_keychain, capsys, restore_logging):
    assert run(config, "login") == 2
    assert "IKAN_INSECURE_TOKEN_FILE=1" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["whoami", "login", "logout"])
def test_a_locked_keychain_is_explained_without_a_traceback_and_keeps_the_sign_in(
    config, locked_keyring: LockedKeyring, capsys, restore_logging, command: str
) -> None:
    locked_keyring.entries[("ikan-console", f"corp/{PLATFORM_REFRESH_TOKEN}")] = "v1:kept"

    assert run(config, command) == 2

    err = capsys.readouterr().err
    assert "Could not read from the keychain (LockedKeyring: KeyringLocked)" in err
    assert "Unlock it and try again" in err and "Traceback" not in err
    locked_keyring.locked = False
    assert stored(PLATFORM_REFRESH_TOKEN) == "kept"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--api-url", "http://ikan.example.com"), "must use https://"),
        (("--profile", "nope", "whoami"), "No profile 'nope'"),
        (("--sandbox", "login"), "uses the sandbox: it has no stored sign-in"),
    ],
    ids=["plain-http-remote", "unknown-profile", "sandbox-login"],
)
def test_refusals_are_one_plain_line(
    tmp_path, capsys, restore_logging, args: Any, said: str
) -> None:
    assert run(tmp_path / "missing.toml", *args) == 2
    assert said in capsys.readouterr().err


def test_the_session_commands_start_without_textual() -> None:
    code = (
        "import sys, ikan_console.cli, ikan_console.session, ikan_console.session_cli;"
        "assert 'textual' not in sys.modules, 'the session commands imported Textual'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
