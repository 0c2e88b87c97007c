"""Fixtures for the sign-in tests: loopback identity providers, fake browsers, keyring, logging."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import keyring
import oidc_provider_mock
import pytest

from ikan_console.auth import redaction
from ikan_platform.identity import EntraProviderConfig, GoogleProviderConfig
from tests.auth import _platform
from tests.auth._idp import (
    ENTRA_CLIENT_ID,
    FOREIGN_TENANT,
    GOOGLE_CLIENT_ID,
    TENANT,
    EntraIdp,
    allow_public_clients_and_tenant_issuers,
    authorize_in_browser,
    exchanged_secrets,
    recording_token_endpoint,
    running_entra_idp,
    serve,
)
from tests.conftest import MovableClock


@pytest.fixture
def entra_idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EntraIdp]:
    """An Entra-shaped provider over TLS with alice (home tenant) and mallory (foreign tenant)."""
    allow_public_clients_and_tenant_issuers(monkeypatch)
    with running_entra_idp(tmp_path) as idp:
        # MSAL's requests session honours only the environment's CA bundle (AUTH-NOTES 4).
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", idp.ca_file)
        idp.put_user("alice", TENANT, email="alice@corp.example", name="Alice Admin")
        idp.put_user("mallory", FOREIGN_TENANT, email="mallory@elsewhere.example")
        yield idp


@pytest.fixture
def entra_config(entra_idp: EntraIdp) -> EntraProviderConfig:
    """How the platform would be configured for the home tenant of `entra_idp`."""
    return EntraProviderConfig(
        client_ids=(ENTRA_CLIENT_ID,),
        tenant_ids=(TENANT,),
        authority_base=entra_idp.base,
        ca_bundle=entra_idp.ca_file,
    )


@dataclass(frozen=True)
class GoogleIdp:
    """A Google-shaped provider on plain loopback http (issuer = its own base URL)."""

    base: str
    token_exchanges: list[tuple[dict[str, str], dict[str, Any]]]

    def secrets(self) -> list[str]:
        """Every code, verifier and token that crossed the token endpoint so far."""
        return exchanged_secrets(self.token_exchanges)

    def put_user(self, sub: str, **claims: object) -> None:
        """Register a user with these claims (hd, email_verified, ...)."""
        httpx.put(f"{self.base}/users/{sub}", json=claims).raise_for_status()

    def config(self, **overrides: Any) -> GoogleProviderConfig:
        """The platform's Google configuration pointed at this provider."""
        values: dict[str, Any] = {
            "client_ids": (GOOGLE_CLIENT_ID,),
            "allowed_domains": ("corp.example",),
            "issuers": (self.base,),
            "jwks_endpoint": f"{self.base}/jwks",
        }
        return GoogleProviderConfig(**{**values, **overrides})

    @property
    def endpoints(self) -> dict[str, str]:
        """auth_uri and token_uri for `GoogleSignIn`."""
        return {
            "auth_uri": f"{self.base}/oauth2/authorize",
            "token_uri": f"{self.base}/oauth2/token",
        }


@pytest.fixture
def google_idp(monkeypatch: pytest.MonkeyPatch) -> Iterator[GoogleIdp]:
    """A Google-shaped provider with one user per case the platform must tell apart."""
    allow_public_clients_and_tenant_issuers(monkeypatch)
    # oauthlib refuses a plain-http token endpoint; the real one is https.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    # Registered so that monkeypatch removes what GoogleSignIn sets for the process.
    monkeypatch.setenv("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE")
    exchanges: list[tuple[dict[str, str], dict[str, Any]]] = []
    with serve(recording_token_endpoint(oidc_provider_mock.app(), exchanges)) as base:
        idp = GoogleIdp(base, exchanges)
        verified = {"email_verified": True, "name": "Grace"}
        idp.put_user("grace", email="grace@corp.example", hd="corp.example", **verified)
        idp.put_user("gus", email="gus@other.example", hd="other.example", **verified)
        idp.put_user("una", email="una@corp.example", hd="corp.example", email_verified=False)
        idp.put_user("gmail-user", email="someone@gmail.example", email_verified=True)
        yield idp


@dataclass
class FakeBrowser:
    """Stands in for the user's browser: given the auth URL, signs in as `sub` on a thread."""

    sub: str
    verify: str | bool = True
    form_post: bool = False
    deny: bool = False
    urls: list[str] = field(default_factory=list)
    delivered: dict[str, str] = field(default_factory=dict)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __call__(self, url: str) -> None:
        """The `on_auth_url` callback: answer like a user who clicks "Authorize"."""
        self.urls.append(url)

        def run() -> None:
            params = authorize_in_browser(
                url, self.sub, verify=self.verify, form_post=self.form_post, deny=self.deny
            )
            self.delivered.update(params)

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    def join(self) -> None:
        """Wait for the browser's requests to finish."""
        for thread in self._threads:
            thread.join(10)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An in-memory keychain with the priority of a real one."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """Stored value or None."""
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store."""
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Remove, or raise like real backends do when missing."""
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


class LockedKeyring(MemoryKeyring):
    """A real keychain that is locked: reads raise `KeyringLocked` until `locked` is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = True

    def get_password(self, service: str, username: str) -> str | None:
        """Refuse while locked, as the Secret Service does for a locked collection."""
        if self.locked:
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")
        return super().get_password(service, username)


@pytest.fixture
def locked_keyring() -> Iterator[LockedKeyring]:
    """Install a locked keychain as the process keyring for one test."""
    previous = keyring.get_keyring()
    backend = LockedKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keychain as the process keyring for one test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo `configure_logging` (record factory and pinned levels) after the test."""
    factory = logging.getLogRecordFactory()
    levels = {name: logging.getLogger(name).level for name in redaction.NOISY_LOGGERS}
    yield
    logging.setLogRecordFactory(factory)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def live_clock() -> MovableClock:
    """The platform clock for IdP tests: starts at the real time, and tests may move it."""
    return _platform.live_clock()


@pytest.fixture
def idp_platform(
    database_url: str, live_clock: MovableClock, entra_idp: EntraIdp, google_idp: GoogleIdp
) -> Iterator[Any]:
    """The real platform app trusting both loopback providers (and the sandbox, for the admin)."""
    from ikan_platform.app import create_app

    app = create_app(_platform.idp_settings(database_url, live_clock, entra_idp, google_idp))
    yield app
    app.state.engine.dispose()


@pytest.fixture
async def admin(idp_platform: Any) -> Any:
    """The seeded admin, to provision and change IdP users on `idp_platform`."""
    person = _platform.Admin(idp_platform)
    yield person
    await person.aclose()
