"""The real console on a real profile: Entra or Google against the loopback providers.

`idp_console` builds the App exactly as `ikan-console --profile NAME` does (a `SessionKeeper` on
the connection, the client's `on_tokens` wired to it), except that the client reaches the
platform app through ASGITransport and the identity-provider clients point at the mocks.
`BrowserStandIn` replaces `open_url`: it plays the user's browser (or a browser that never
comes back) and sets `opened` after the URL has been shown, so tests wait on that event.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ikan_console.api.client import PlatformClient
from ikan_console.app import Connection, IkanApp
from ikan_console.auth import entra, google
from ikan_console.auth.entra import EntraSignIn
from ikan_console.auth.google import GoogleSignIn
from ikan_console.config import EntraIdp as EntraSettings
from ikan_console.config import GoogleIdp as GoogleSettings
from ikan_console.config import Profile
from ikan_console.screens.sign_in import SignInScreen
from ikan_console.screens.sign_in_idp import IdpSignIn
from ikan_console.session import SessionKeeper
from tests.auth._idp import ENTRA_CLIENT_ID, GOOGLE_CLIENT_ID, TENANT, EntraIdp
from tests.auth._platform import Admin, idp_settings
from tests.auth.conftest import FakeBrowser, GoogleIdp
from tests.conftest import MovableClock

API_URL = "https://api.ikan.example"
PROFILES = ("prod", "sandbox", "staging")
# The keepers' refresh lock files: this test run's own, not the user's state directory.
LOCK_DIR = Path(tempfile.gettempdir()) / f"ikan-console-test-locks-{os.getpid()}"


@pytest.fixture
def console_platform(
    database_url: str, live_clock: MovableClock, entra_idp: EntraIdp, google_idp: GoogleIdp
) -> Iterator[Any]:
    """The platform trusting both providers; access tokens last a minute, to test refresh."""
    from ikan_platform.app import create_app

    settings = idp_settings(
        database_url, live_clock, entra_idp, google_idp, access_token_ttl_seconds=60
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
async def admin(console_platform: Any) -> AsyncIterator[Admin]:
    """The seeded admin of `console_platform`, to provision and change IdP users."""
    person = Admin(console_platform)
    yield person
    await person.aclose()


def entra_profile(idp_base: str, name: str = "prod", **extra: Any) -> Profile:
    """A production-like Entra profile whose authority is the loopback provider."""
    settings = EntraSettings(tenant_id=TENANT, client_id=ENTRA_CLIENT_ID, authority_base=idp_base)
    return Profile(name=name, api_url=API_URL, idp=settings, colour="blue", **extra)


def google_profile(name: str = "corp") -> Profile:
    """A Google Workspace profile for corp.example."""
    settings = GoogleSettings(
        client_id=GOOGLE_CLIENT_ID,
        client_secret="desktop-not-secret",
        allowed_domains=("corp.example",),
    )
    return Profile(name=name, api_url=API_URL, idp=settings, colour="green", production=False)


def mock_sign_in(idp: EntraIdp | GoogleIdp | None = None) -> Callable[[Profile], Any]:
    """The console's IdP clients, pointed at the loopback providers."""

    def make(profile: Profile) -> Any:
        settings = profile.idp
        if isinstance(settings, GoogleSettings):
            assert isinstance(idp, GoogleIdp)
            return GoogleSignIn(
                settings.client_id,
                settings.client_secret,
                settings.allowed_domains,
                **idp.endpoints,
            )
        assert isinstance(settings, EntraSettings)
        # The mock refuses refresh for offline_access (AUTH-NOTES 4); Entra itself needs it.
        return EntraSignIn(
            settings.tenant_id,
            settings.client_id,
            authority_base=settings.authority_base,
            exclude_scopes=("offline_access",),
        )

    return make


def idp_console(
    platform_app: Any,
    profile: Profile,
    make_sign_in: Callable[[Profile], Any],
    *,
    clock: Callable[[], Any],
    api_url: str | None = None,
    **keeper: Any,
) -> tuple[IkanApp, SessionKeeper]:
    """The console App for `profile`, bound to the test's platform app."""
    keeper.setdefault("use_device_code", lambda: False)  # a browser, unless a test says not
    keeper.setdefault("lock_dir", LOCK_DIR)
    session = SessionKeeper(profile, make_sign_in=make_sign_in, other_profiles=PROFILES, **keeper)

    def open_client() -> PlatformClient:
        if api_url is not None:  # a real address (e.g. one nobody listens on)
            return session.connect(api_url, timeout=5)
        transport = httpx.ASGITransport(app=platform_app)
        return session.connect(profile.api_url, transport=transport)

    connection = Connection(
        environment=profile.name.upper(),
        describe=profile.api_url,
        open_client=open_client,
        production=profile.is_production,
        colour=profile.colour,
        keeper=session,
    )
    return IkanApp(connection, clock=clock), session


@dataclass
class BrowserStandIn:
    """`open_url` for tests: signs in as `sub` (or never answers), then sets `opened`."""

    sub: str | None
    verify: str | bool = True
    form_post: bool = True
    urls: list[str] = field(default_factory=list)
    opened: threading.Event = field(default_factory=threading.Event)
    browser: FakeBrowser | None = None

    def __call__(self, url: str) -> bool:
        """Open `url` like a browser would; the TUI has already shown it."""
        self.urls.append(url)
        if self.sub is not None:
            self.browser = FakeBrowser(self.sub, verify=self.verify, form_post=self.form_post)
            self.browser(url)
        self.opened.set()
        return True

    def install(self, monkeypatch: pytest.MonkeyPatch) -> BrowserStandIn:
        """Replace the console's browser launcher (Entra and Google) with this."""
        monkeypatch.setattr(entra, "open_url", self)
        monkeypatch.setattr(google, "open_url", self)
        return self


def panel(app: IkanApp) -> IdpSignIn:
    """The provider sign-in panel of the current sign-in screen."""
    assert isinstance(app.screen, SignInScreen), f"expected sign-in, got {app.screen}"
    return app.screen.query_one(IdpSignIn)


def message(app: IkanApp) -> str:
    """The sign-in panel's message line, as text."""
    return str(panel(app).query_one("#message").render())


def prompt(app: IkanApp) -> str:
    """The sign-in panel's prompt box (URL or device code), as text."""
    return str(panel(app).query_one("#prompt").render())


def hint(app: IkanApp) -> str:
    """The sign-in panel's hint line (keys, or how to opt in to the file store), as text."""
    return str(panel(app).query_one("#hint").render())
