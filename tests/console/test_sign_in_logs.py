# ruff: noqa: F811  (the IdP fixtures are imported from tests/auth and named as parameters)
"""A whole console sign-in at DEBUG leaves no token, code or verifier in any log record.

The console pins the chatty auth/HTTP libraries to WARNING; this test turns them back to DEBUG
after start-up (as someone debugging would), so the redacting record factory is what keeps the
secrets out. It covers the Entra browser sign-in through the loopback provider (authorization
code, PKCE verifier, ID, access and refresh tokens), the platform exchange, and a silent refresh
of the platform session (every access and refresh token the platform issued).
"""

from __future__ import annotations

import logging

from ikan_console.api.models import Tokens
from ikan_console.auth import redaction
from ikan_console.screens.main import MainScreen
from tests.auth._platform import entra_identity
from tests.auth.conftest import (  # noqa: F401
    entra_idp,
    google_idp,
    live_clock,
    memory_keyring,
    restore_logging,
)
from tests.console.pilot_steps import settle
from tests.console.sign_in_console import (  # noqa: F401
    BrowserStandIn,
    admin,
    console_platform,
    entra_profile,
    idp_console,
    mock_sign_in,
)

SIZE = (120, 40)


def leaks(records: list[logging.LogRecord], secrets: list[str]) -> list[tuple[str, str]]:
    """(logger, secret prefix) for every record whose text holds one of the secrets."""
    formatter = logging.Formatter("%(name)s %(message)s")
    found = []
    for record in records:
        text = " ".join([formatter.format(record), record.exc_text or "", record.stack_info or ""])
        found += [(record.name, secret[:12]) for secret in secrets if secret in text]
    return found


async def test_a_whole_sign_in_and_refresh_at_debug_logs_no_secret(
    console_platform,
    entra_idp,
    admin,
    memory_keyring,
    clock,
    live_clock,
    caplog,
    restore_logging,
    monkeypatch,
) -> None:
    await admin.provision("alice@corp.example", "Alice Ng", entra_identity(entra_idp, "alice"))
    browser = BrowserStandIn("alice", verify=entra_idp.ca_file).install(monkeypatch)
    app, keeper = idp_console(
        console_platform, entra_profile(entra_idp.base), mock_sign_in(), clock=clock
    )
    platform_tokens: list[Tokens] = []
    keep = keeper.on_tokens

    def spy(tokens: Tokens | None) -> None:
        if tokens is not None:
            platform_tokens.append(tokens)
        keep(tokens)

    monkeypatch.setattr(keeper, "on_tokens", spy)
    caplog.set_level(logging.DEBUG)
    screens: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for name in (*redaction.NOISY_LOGGERS, "werkzeug", "ikan_console"):
            logging.getLogger(name).setLevel(logging.DEBUG)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        screens.append(app.export_screenshot())
        live_clock.advance(seconds=90)  # the access token (60 s here) runs out
        await pilot.press("r")
        await settle(pilot)
        screens.append(app.export_screenshot())

    assert len(platform_tokens) >= 2, "the platform session was never refreshed"
    assert browser.browser is not None
    secrets = [*entra_idp.secrets(), browser.browser.delivered["code"]]
    secrets += [t.access_token for t in platform_tokens] + [
        t.refresh_token for t in platform_tokens
    ]
    kinds = {"code", "code_verifier"} & set(entra_idp.token_exchanges[0][0])
    assert kinds == {"code", "code_verifier"} and len(secrets) >= 8
    records = caplog.records
    assert any(r.name.startswith(("msal", "httpx", "urllib3")) for r in records), (
        "no library logged at DEBUG: the test would prove nothing"
    )
    assert any(redaction.REDACTED in r.getMessage() for r in records)  # secrets came, were cut
    assert leaks(records, secrets) == []
    assert not [s[:12] for s in secrets for screen in screens if s in screen]


def test_the_leak_finder_finds_an_unredacted_secret() -> None:
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "token=%s", ("s3cret-value",), None)
    assert leaks([record], ["s3cret-value"]) == [("x", "s3cret-value")]
