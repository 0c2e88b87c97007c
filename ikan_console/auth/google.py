"""Google Workspace sign-in: the installed-app loopback flow with PKCE, state and a nonce.

Blocking, for a Textual thread worker; no Textual import. google-auth-oauthlib's
`InstalledAppFlow` sends PKCE (S256) and ``state`` by default; the ``nonce`` comes from the
platform (one-time, server-issued) and is forwarded to Google so that it appears in the ID token
the platform later checks. The loopback listens on 127.0.0.1 (not "localhost", which a browser
may resolve to ::1) and handles exactly one request, so cancel and a stray request both end it.
The Workspace domain (``hd``) is checked here only to give a friendly early message: the
platform's check is the one that counts. There is no silent path: the platform requires a fresh
nonce for every Google sign-in, so Google's refresh token is not needed and not returned.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from ikan_console.auth.entra import (
    DEFAULT_TIMEOUT_SECONDS,
    Attempt,
    SignInResult,
    SignInStatus,
    from_exception,
    open_url,
)

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPES = ("openid", "email", "profile")
LOOPBACK_HOST = "127.0.0.1"
SUCCESS_PAGE = "Signed in to ikan console. You can close this tab and return to the terminal."


class GoogleSignIn:
    """Sign-in with one Google "Desktop app" OAuth client, limited to Workspace domains."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        allowed_domains: tuple[str, ...],
        *,
        auth_uri: str = GOOGLE_AUTH_URI,
        token_uri: str = GOOGLE_TOKEN_URI,
    ) -> None:
        self.allowed_domains = tuple(d.lower() for d in allowed_domains)
        self._client_config = {
            "installed": {
                "client_id": client_id,
                "client_secret": client_secret,
                "auth_uri": auth_uri,
                "token_uri": token_uri,
                "redirect_uris": [f"http://{LOOPBACK_HOST}"],
            }
        }
        self._attempt = Attempt()

    def cancel(self) -> None:
        """Stop the attempt in progress (from any thread, without blocking it)."""
        self._attempt.cancel()

    def interactive(
        self,
        nonce: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        open_browser: bool = True,
        on_auth_url: Callable[[str], None] | None = None,
        attempt: Attempt | None = None,
    ) -> SignInResult:
        """Browser sign-in carrying the platform's `nonce`; returns the raw ID token."""
        from google_auth_oauthlib.flow import WSGITimeoutError
        from oauthlib.oauth2.rfc6749.errors import MismatchingStateError, OAuth2Error

        # Google answers "email" with ".../userinfo.email": the same grant, but oauthlib would
        # raise "Scope has changed" without this (it is read at token time, so set it here).
        os.environ.setdefault("OAUTHLIB_RELAX_TOKEN_SCOPE", "1")
        attempt = self._attempt = attempt or Attempt()
        if attempt.cancelled.is_set():
            return SignInResult(SignInStatus.CANCELLED, message="Sign-in cancelled.")

        def announce(url: str, state: str, redirect_uri: str) -> None:
            attempt.interrupt = lambda: _send_error(redirect_uri, state)
            if on_auth_url is not None:
                on_auth_url(url)
            if open_browser and not attempt.cancelled.is_set():  # never after a cancel
                open_url(url)
            if attempt.cancelled.is_set():
                # Queued on the listening socket; answered as soon as the wait starts.
                threading.Thread(target=attempt.interrupt, daemon=True).start()

        flow = _flow_class().from_client_config(self._client_config, scopes=list(SCOPES))
        flow.announce = announce
        extra: dict[str, str] = {"prompt": "select_account"}
        if len(self.allowed_domains) == 1:
            # A hint for Google's account chooser; the platform enforces the domain.
            extra["hd"] = self.allowed_domains[0]
        try:
            credentials = flow.run_local_server(
                host=LOOPBACK_HOST,
                port=0,
                authorization_prompt_message=None,
                success_message=SUCCESS_PAGE,
                open_browser=False,
                timeout_seconds=max(1, int(timeout)),
                nonce=nonce,
                **extra,
            )
        except (OAuth2Error, WSGITimeoutError) as exc:
            if attempt.cancelled.is_set():
                return SignInResult(SignInStatus.CANCELLED, message="Sign-in cancelled.")
            if isinstance(exc, WSGITimeoutError):
                return SignInResult(
                    SignInStatus.TIMED_OUT, message="The browser sign-in timed out."
                )
            if isinstance(exc, MismatchingStateError):
                return SignInResult(
                    SignInStatus.FAILED,
                    message="The browser sent an unexpected request; please try again.",
                )
            if getattr(exc, "error", "") == "access_denied":
                return SignInResult(SignInStatus.DECLINED, message="Sign-in was declined.")
            return SignInResult(SignInStatus.FAILED, message=f"Google refused: {exc.error}.")
        except Exception as exc:
            return from_exception(exc, "Google")
        id_token = getattr(credentials, "id_token", None)
        if not id_token:
            return SignInResult(SignInStatus.FAILED, message="Google returned no ID token.")
        claims = unverified_claims(id_token)
        if self.allowed_domains and claims.get("hd") not in self.allowed_domains:
            return SignInResult(
                SignInStatus.WRONG_ACCOUNT,
                message=(
                    f"{claims.get('email', 'This account')} is not a "
                    f"{' or '.join(self.allowed_domains)} account; sign in with your work account."
                ),
            )
        return SignInResult(
            SignInStatus.SIGNED_IN, id_token=id_token, nonce=nonce, username=claims.get("email")
        )


def unverified_claims(id_token: str) -> dict[str, Any]:
    """The payload of a JWT without checking it: for display and early hints only."""
    try:
        payload = id_token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _send_error(redirect_uri: str, state: str) -> None:
    """Answer the one-shot loopback with an error that carries the right state: it ends the wait."""
    query = urllib.parse.urlencode({"error": "access_denied", "state": state})
    # Any failure means the loopback already handled its one request: nothing is left to stop.
    with contextlib.suppress(OSError):
        urllib.request.urlopen(f"{redirect_uri}?{query}", timeout=5).close()


def _flow_class() -> Any:
    """`InstalledAppFlow` that reports its authorization URL; built lazily to keep start-up fast."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    class AnnouncingFlow(InstalledAppFlow):
        """Calls `announce(url, state, redirect_uri)` once the loopback is listening."""

        announce: Callable[[str, str, str], None] | None = None

        def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
            """Build the URL as usual, then hand it to the TUI instead of printing it."""
            url, state = super().authorization_url(**kwargs)
            if self.announce is not None:
                self.announce(url, state, self.redirect_uri)
            return url, state

    return AnnouncingFlow
