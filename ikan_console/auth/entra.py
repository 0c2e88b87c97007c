"""Microsoft Entra ID sign-in with MSAL: silent, browser (loopback), or device code.

Every method blocks and is meant for a Textual thread worker (``@work(thread=True)``); none
touches Textual. The result is the raw ID token that the console exchanges at the platform,
plus the IdP refresh token to keep in the token store. Decisions, after AUTH-NOTES section 1:

- authority is the tenant, never ``common``; ``instance_discovery=False`` by default, so an
  offline start fails as "offline" instead of in a discovery call; one MSAL app per process.
- The browser flow runs MSAL's own loopback receiver (form_post, state checked, 127.0.0.1) but
  opens the browser itself, so the TUI can show the URL, refuse text-mode browsers and cancel:
  cancel and timeout post an error carrying the flow's state to the receiver, which ends the wait
  at once with no thread left behind.
- Cancel belongs to an `Attempt` the caller may create before the flow starts (`SessionKeeper`
  does, when the user picks a way to sign in): a cancel pressed while the attempt is still in an
  earlier step (silent sign-in, the platform nonce) sticks, and no browser opens afterwards.
- Device code polls one request at a time, sleeping on our own cancel event: MSAL's own
  cancel (``expires_at = 0``) reports ``authorization_pending``, not "cancelled".
- A network failure is `SignInStatus.OFFLINE`, never "signed out".
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import msal

ENTRA_AUTHORITY_BASE = "https://login.microsoftonline.com"
DEFAULT_SCOPES = ("email",)
DEFAULT_TIMEOUT_SECONDS = 300
TEXT_BROWSERS = frozenset({"lynx", "w3m", "links", "elinks", "www-browser", "browsh", "links2"})
DETAIL_CHARS = 160
# Longer than a GUID (36), in a token alphabet: tenant ids and host names survive, tokens do not.
_OPAQUE = re.compile(r"[A-Za-z0-9_\-+=]{40,}")
# AADSTS53003 (Conditional Access blocked), 50097 (device authentication required), 530xxx
# (authentication flows policy) mean "device code is blocked here": offer the browser instead.
BLOCKED_CODES = frozenset({53003, 50097})
DECLINED_ERRORS = frozenset({"authorization_declined", "access_denied"})
EXPIRED_ERRORS = frozenset({"expired_token", "code_expired"})
PENDING_ERRORS = frozenset({"authorization_pending", "slow_down"})

_log = logging.getLogger(__name__)


class SignInStatus(StrEnum):
    """How a sign-in attempt ended; the sign-in screen shows one state per value."""

    SIGNED_IN = "signed_in"
    NEEDS_INTERACTION = "needs_interaction"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    EXPIRED = "expired"
    TIMED_OUT = "timed_out"
    BLOCKED = "blocked"
    WRONG_ACCOUNT = "wrong_account"
    OFFLINE = "offline"
    FAILED = "failed"


@dataclass(frozen=True)
class SignInResult:
    """Outcome of one attempt; secrets are kept out of repr so they never reach a log."""

    status: SignInStatus
    id_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    nonce: str | None = field(default=None, repr=False)
    message: str = ""
    username: str | None = None

    @property
    def ok(self) -> bool:
        """True when an ID token is ready to exchange."""
        return self.status is SignInStatus.SIGNED_IN and bool(self.id_token)


@dataclass(frozen=True)
class DeviceCodePrompt:
    """What the user must see for the device code flow: go to the URL, type the code."""

    user_code: str
    verification_uri: str
    message: str
    expires_at: float


@dataclass
class Attempt:
    """One running sign-in (Entra or Google), so `cancel` reaches only the wait in progress."""

    cancelled: threading.Event = field(default_factory=threading.Event)
    timed_out: bool = False
    interrupt: Callable[[], None] | None = None

    def cancel(self) -> None:
        """Stop this attempt from any thread without blocking; later steps see `cancelled`."""
        self.cancelled.set()
        if self.interrupt is not None:
            threading.Thread(target=self.interrupt, daemon=True).start()


def should_use_device_code(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> bool:
    """True in an SSH session, or on Linux without a graphical display (no usable browser)."""
    env = os.environ if environ is None else environ
    if env.get("SSH_CONNECTION") or env.get("SSH_TTY"):
        return True
    system = sys.platform if platform is None else platform
    if system.startswith("linux") and not _is_wsl(env):
        return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    return False


_APPS: dict[tuple[str, str, bool, tuple[str, ...]], msal.PublicClientApplication] = {}
_APPS_LOCK = threading.Lock()


class EntraSignIn:
    """Sign-in against one Entra tenant for one public client app registration."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        *,
        authority_base: str = ENTRA_AUTHORITY_BASE,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        exclude_scopes: tuple[str, ...] = (),
        instance_discovery: bool = False,
        http_client: Any = None,
    ) -> None:
        self.client_id = client_id
        self.authority = f"{authority_base.rstrip('/')}/{tenant_id}"
        self.scopes = list(scopes)
        self._exclude_scopes = exclude_scopes
        self._instance_discovery = instance_discovery
        self._http_client = http_client
        self._attempt = Attempt()
        self._app: msal.PublicClientApplication | None = None

    def app(self) -> msal.PublicClientApplication:
        """The process-wide MSAL app (its token cache is what silent sign-in reads)."""
        import msal

        if self._app is not None:
            return self._app
        key = (self.client_id, self.authority, self._instance_discovery, self._exclude_scopes)
        with _APPS_LOCK:
            app = None if self._http_client else _APPS.get(key)
            if app is None:
                # Built lazily: construction already calls the network (tenant discovery).
                app = msal.PublicClientApplication(
                    self.client_id,
                    authority=self.authority,
                    instance_discovery=self._instance_discovery,
                    exclude_scopes=list(self._exclude_scopes) or None,
                    http_client=self._http_client,
                    timeout=None if self._http_client else 30,
                )
            # A scripted http_client belongs to one test: its app is never shared.
            if self._http_client is None:
                _APPS[key] = app
        self._app = app
        return app

    def cancel(self) -> None:
        """Stop the attempt in progress, from any thread without blocking; it ends `CANCELLED`."""
        self._attempt.cancel()

    def silent(self, refresh_token: str | None = None) -> SignInResult:
        """A fresh ID token without UI: cached account first, then a stored IdP refresh token."""
        try:
            app = self.app()
            for account in app.get_accounts():
                # force_refresh: a cached ID token may be older than the platform's max age.
                result = app.acquire_token_silent_with_error(
                    self.scopes, account=account, force_refresh=True
                )
                if result and result.get("id_token"):
                    return _signed_in(result)
            if refresh_token:
                result = app.acquire_token_by_refresh_token(refresh_token, self.scopes)
                if result.get("id_token"):
                    return _signed_in(result)
        except Exception as exc:
            return from_exception(exc, "Microsoft")
        return SignInResult(SignInStatus.NEEDS_INTERACTION, message="Sign in to continue.")

    def interactive(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        open_browser: bool = True,
        on_auth_url: Callable[[str], None] | None = None,
        login_hint: str | None = None,
        attempt: Attempt | None = None,
    ) -> SignInResult:
        """Authorization code + PKCE through the browser and a loopback port, with timeout."""
        from msal.oauth2cli.authcode import AuthCodeReceiver

        attempt = self._attempt = attempt or Attempt()
        if attempt.cancelled.is_set():
            return _cancelled()
        try:
            app = self.app()
            with AuthCodeReceiver(port=0) as receiver:
                port = receiver.get_port()
                flow = app.initiate_auth_code_flow(
                    self.scopes,
                    redirect_uri=f"http://localhost:{port}",
                    response_mode="form_post",
                    login_hint=login_hint,
                    prompt="select_account",
                )
                attempt.interrupt = lambda: _post_error(port, flow["state"])
                timer = threading.Timer(timeout, _time_out, (attempt,))
                timer.daemon = True
                timer.start()
                try:
                    if on_auth_url is not None:
                        on_auth_url(flow["auth_uri"])
                    if attempt.cancelled.is_set():  # before the browser: it must not open
                        return _cancelled()
                    if open_browser:
                        open_url(flow["auth_uri"])
                    response = receiver.get_auth_response(state=flow["state"], timeout=None)
                finally:
                    timer.cancel()
            if attempt.timed_out:
                return SignInResult(
                    SignInStatus.TIMED_OUT, message="The browser sign-in timed out."
                )
            if attempt.cancelled.is_set():
                return _cancelled()
            result = app.acquire_token_by_auth_code_flow(flow, response or {}, self.scopes)
        except Exception as exc:
            return from_exception(exc, "Microsoft")
        if result.get("id_token"):
            return _signed_in(result, nonce=flow.get("nonce"))
        return _from_error(result)

    def device_code(
        self, on_prompt: Callable[[DeviceCodePrompt], None], attempt: Attempt | None = None
    ) -> SignInResult:
        """Device code flow: `on_prompt` gets the code to show, then this polls until done."""
        attempt = self._attempt = attempt or Attempt()
        if attempt.cancelled.is_set():
            return _cancelled()
        try:
            app = self.app()
            flow = app.initiate_device_flow(scopes=self.scopes)
            if "user_code" not in flow:
                return _from_error(flow)
            on_prompt(
                DeviceCodePrompt(
                    user_code=flow["user_code"],
                    verification_uri=flow.get("verification_uri", ""),
                    message=flow.get("message", ""),
                    expires_at=flow["expires_at"],
                )
            )
            while True:
                if attempt.cancelled.is_set():
                    return _cancelled()
                # One poll per call: we own the loop, so cancel is prompt and reported as such.
                result = app.acquire_token_by_device_flow(flow, exit_condition=lambda _: True)
                if result.get("error") not in PENDING_ERRORS:
                    break
                if time.time() >= flow["expires_at"]:
                    return SignInResult(SignInStatus.EXPIRED, message="The code expired.")
                if _wait(attempt.cancelled, flow.get("interval", 5)):
                    return _cancelled()
        except Exception as exc:
            return from_exception(exc, "Microsoft")
        if result.get("id_token"):
            return _signed_in(result)
        return _from_error(result)

    def sign_out(self) -> None:
        """Forget the accounts in the in-process MSAL cache (the token store is the caller's)."""
        try:
            app = self.app()
            for account in app.get_accounts():
                app.remove_account(account)
        except Exception:
            # Signing out must always succeed locally; an offline cache is simply dropped later.
            return


def open_url(url: str) -> bool:
    """Open a graphical browser; refuse text-mode ones that would take over the terminal."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        browser = None
    name = os.path.basename(str(getattr(browser, "name", "") or "")).lower()
    if browser is not None and name not in TEXT_BROWSERS:
        try:
            if browser.open(url, new=1):
                return True
        except webbrowser.Error:
            pass
    if _is_wsl(os.environ) and shutil.which("wslview"):
        return subprocess.run(["wslview", url], check=False, timeout=10).returncode == 0
    return False


def _wait(event: threading.Event, seconds: float) -> bool:
    """Sleep between polls; True if cancelled meanwhile (a seam for tests)."""
    return event.wait(seconds)


def _time_out(attempt: Attempt) -> None:
    attempt.timed_out = True
    if attempt.interrupt is not None:
        attempt.interrupt()


def _post_error(port: int, state: str) -> None:
    """End the receiver's wait: an error response with the right state is accepted at once."""
    body = urllib.parse.urlencode({"error": "cancelled", "state": state}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", data=body, method="POST")
    # Any failure means the receiver has already finished: nothing is left to stop.
    with contextlib.suppress(OSError):
        urllib.request.urlopen(request, timeout=5).close()


def _signed_in(result: dict[str, Any], nonce: str | None = None) -> SignInResult:
    claims = result.get("id_token_claims") or {}
    return SignInResult(
        SignInStatus.SIGNED_IN,
        id_token=result["id_token"],
        refresh_token=result.get("refresh_token"),
        nonce=nonce,
        username=claims.get("preferred_username") or claims.get("email"),
    )


def _cancelled() -> SignInResult:
    return SignInResult(SignInStatus.CANCELLED, message="Sign-in cancelled.")


def _from_error(result: dict[str, Any]) -> SignInResult:
    """Map an OAuth error response to a status; the message is the first line (AADSTS text)."""
    error = str(result.get("error", "unknown_error"))
    description = str(result.get("error_description") or error).splitlines()[0]
    codes = set(result.get("error_codes") or ())
    if codes & BLOCKED_CODES or any(530000 <= c < 531000 for c in codes if isinstance(c, int)):
        return SignInResult(SignInStatus.BLOCKED, message=description)
    if error in DECLINED_ERRORS:
        return SignInResult(SignInStatus.DECLINED, message="Sign-in was declined.")
    if error in EXPIRED_ERRORS:
        return SignInResult(SignInStatus.EXPIRED, message="The code expired.")
    if error in ("invalid_grant", "interaction_required"):
        return SignInResult(SignInStatus.NEEDS_INTERACTION, message=description)
    return SignInResult(SignInStatus.FAILED, message=description)


def from_exception(exc: Exception, provider: str) -> SignInResult:
    """Network trouble is "offline"; anything else is a failure with a plain message."""
    import requests

    offline = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)
    if isinstance(exc, offline):
        return SignInResult(SignInStatus.OFFLINE, message=f"{provider} sign-in is unreachable.")
    # The exception text may quote a server response; the redacting log filter scrubs it.
    _log.warning("%s sign-in failed: %s: %s", provider, type(exc).__name__, exc)
    name = type(exc).__name__
    detail = shown_detail(exc)
    message = f"{provider} sign-in stopped on an unexpected {name}"
    return SignInResult(
        SignInStatus.FAILED, message=f"{message}: {detail}" if detail else f"{message}."
    )


def shown_detail(exc: BaseException, limit: int = DETAIL_CHARS) -> str:
    """One line of an exception's text that is safe to show: no token can survive it.

    The log redaction removes JWTs, bearer credentials and secret parameters; any other long
    opaque run (a bare refresh token, a code) goes too, then the line is cut to `limit`.
    """
    from ikan_console.auth.redaction import REDACTED, redact

    line = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    line = _OPAQUE.sub(REDACTED, redact(line))
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _is_wsl(env: Mapping[str, str]) -> bool:
    if env.get("WSL_DISTRO_NAME"):
        return True
    try:
        with open("/proc/version", encoding="utf-8") as handle:
            return "microsoft" in handle.read().lower()
    except OSError:
        return False
