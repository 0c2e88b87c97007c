"""Profiles from the TOML file and IKAN_* variables: the https rule, the sandbox, the IdP shapes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ikan_console.config import (
    ConfigError,
    EntraIdp,
    GoogleIdp,
    Profile,
    default_config_path,
    load_profiles,
    load_settings,
)

TENANT = "7c1e4f2a-0000-4000-8000-00000000a11c"
CLIENT = "3f2b1c0d-0000-4000-8000-00000000c0de"

CONFIG = f"""
default_profile = "prod"

[profiles.prod]
api_url = "https://api.ikan.example"
colour = "red"

[profiles.prod.idp]
kind = "entra"
tenant_id = "{TENANT}"
client_id = "{CLIENT}"

[profiles.staging]
api_url = "https://staging.ikan.example/"
read_only = true
production = false

[profiles.staging.idp]
kind = "google"
client_id = "console.apps.googleusercontent.com"
client_secret = "desktop-secret"
allowed_domains = ["Corp.Example"]

[profiles.local]
api_url = "http://127.0.0.1:8000"
"""


@pytest.fixture(autouse=True)
def no_ikan_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own IKAN_* variables must not change these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("IKAN_"):
            monkeypatch.delenv(name)


def write(tmp_path: Path, text: str) -> Path:
    """Write a config file and return its path."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_profiles_from_toml_with_each_identity_provider(tmp_path) -> None:
    profiles = load_profiles(write(tmp_path, CONFIG))

    assert sorted(profiles) == ["local", "prod", "sandbox", "staging"]
    prod, staging = profiles["prod"], profiles["staging"]
    assert isinstance(prod.idp, EntraIdp) and prod.idp.tenant_id == TENANT
    assert prod.idp.authority_base == "https://login.microsoftonline.com"
    assert isinstance(staging.idp, GoogleIdp) and staging.idp.allowed_domains == ("corp.example",)
    assert staging.api_url == "https://staging.ikan.example" and staging.read_only


def test_production_is_derived_unless_stated(tmp_path) -> None:
    profiles = load_profiles(write(tmp_path, CONFIG))
    assert profiles["prod"].is_production is True  # remote, real IdP
    assert profiles["staging"].is_production is False  # stated
    assert profiles["local"].is_production is False  # loopback
    assert profiles["sandbox"].is_production is False


def test_sandbox_profile_exists_without_any_file(tmp_path) -> None:
    settings, profiles = load_settings(tmp_path / "missing.toml")
    assert list(profiles) == ["sandbox"]
    assert profiles["sandbox"].idp.kind == "sandbox"
    assert settings.default_profile == "sandbox"
    assert settings.insecure_token_file is False


def test_environment_overrides_one_field_and_adds_profiles(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IKAN_PROFILES__PROD__API_URL", "https://eu.api.ikan.example")
    monkeypatch.setenv("IKAN_PROFILES__DEV__API_URL", "http://localhost:9000")
    monkeypatch.setenv("IKAN_DEFAULT_PROFILE", "dev")
    monkeypatch.setenv("IKAN_INSECURE_TOKEN_FILE", "1")

    settings, profiles = load_settings(write(tmp_path, CONFIG))

    assert profiles["prod"].api_url == "https://eu.api.ikan.example"
    assert profiles["prod"].colour == "red"  # the rest still comes from the file
    assert profiles["dev"].api_url == "http://localhost:9000"
    assert settings.default_profile == "dev" and settings.insecure_token_file is True


@pytest.mark.parametrize(
    "url", ["http://api.ikan.example", "http://10.0.0.5:8000", "http://127.0.0.1.nip.io"]
)
def test_plain_http_to_a_remote_host_is_refused_with_a_clear_message(tmp_path, url) -> None:
    text = f'[profiles.prod]\napi_url = "{url}"\n'
    with pytest.raises(ConfigError) as refused:
        load_profiles(write(tmp_path, text))
    message = str(refused.value)
    assert "Profile 'prod'" in message and "must use https://" in message
    assert "errors.pydantic.dev" not in message


@pytest.mark.parametrize(
    "url", ["http://localhost:8000", "http://127.0.0.1", "http://127.3.4.5:1", "http://[::1]:8000"]
)
def test_plain_http_to_loopback_is_allowed(url) -> None:
    assert Profile(name="dev", api_url=url).api_url == url


@pytest.mark.parametrize("tenant", ["common", "organizations", "Consumers"])
def test_multi_tenant_authority_is_refused(tenant) -> None:
    with pytest.raises(ValueError, match="would admit other organisations"):
        EntraIdp(tenant_id=tenant, client_id=CLIENT)


def test_google_needs_at_least_one_workspace_domain() -> None:
    with pytest.raises(ValueError, match="allowed_domains"):
        GoogleIdp(client_id="c", client_secret="s", allowed_domains=())


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[profiles.prod]\napi_url = "https://a.example"\ncolour = "blurple"\n', "colour"),
        ('[profiles.Prod]\napi_url = "https://a.example"\n', "lowercase"),
        ('[profiles.prod]\napi_url = "https://a.example"\nregion = "eu"\n', "region"),
        ('default_profile = "nope"\n', "'nope' is not defined"),
        ("[profiles.prod\n", "Cannot read"),
        (
            '[profiles.prod]\napi_url = "https://a.example"\n[profiles.prod.idp]\nkind = "okta"\n',
            "idp",
        ),
    ],
    ids=["colour", "name", "unknown-key", "default", "toml-syntax", "idp-kind"],
)
def test_invalid_configuration_is_a_config_error(tmp_path, snippet, expected) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_profiles(write(tmp_path, snippet))


def test_config_file_lives_under_the_platform_config_dir() -> None:
    path = default_config_path()
    assert path.name == "config.toml" and path.parent.name == "ikan-console"


def test_config_and_auth_modules_import_neither_textual_nor_heavy_sdks() -> None:
    code = (
        "import sys, ikan_console.config, ikan_console.auth.entra, ikan_console.auth.google, "
        "ikan_console.auth.token_store, ikan_console.auth.redaction\n"
        "heavy = {'textual', 'msal', 'google_auth_oauthlib', 'requests'} & set(sys.modules)\n"
        "print(sorted(heavy), file=sys.stderr)\n"
        "sys.exit(1 if heavy else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
