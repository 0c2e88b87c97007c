"""Plays login.microsoftonline.com for MSAL through its `http_client` seam: no network at all.

Discovery for one tenant, device codes, and scripted token-endpoint replies (successes, OAuth
errors, dropped connections); `polled` is set at every token request, so a test can wait for
the device-code prompt to be on screen without sleeping.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests

TENANT = "7c1e4f2a-0000-4000-8000-00000000a11c"
CLIENT = "3f2b1c0d-0000-4000-8000-00000000c0de"
AUTHORITY = f"https://login.microsoftonline.com/{TENANT}"
TOKEN_URL = f"{AUTHORITY}/oauth2/v2.0/token"
DEVICE_URL = f"{AUTHORITY}/oauth2/v2.0/devicecode"


@dataclass
class Reply:
    """A response object shaped like what MSAL reads from requests."""

    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The JSON body."""
        return json.dumps(self.body)

    def raise_for_status(self) -> None:
        """Like requests: raise on 4xx/5xx."""
        if self.status_code >= 400:
            raise requests.HTTPError(str(self.status_code))


@dataclass
class ScriptedEntra:
    """Plays login.microsoftonline.com: discovery, device codes and scripted token replies."""

    token_replies: list[Reply | Exception] = field(default_factory=list)
    offline: bool = False
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    polled: threading.Event = field(default_factory=threading.Event)

    def get(self, url: str, params: Any = None, headers: Any = None, **kw: Any) -> Reply:
        """Tenant discovery."""
        if self.offline:
            raise requests.ConnectionError("network is unreachable")
        assert url == f"{AUTHORITY}/v2.0/.well-known/openid-configuration", url
        return Reply(200, {
            "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "authorization_endpoint": f"{AUTHORITY}/oauth2/v2.0/authorize",
            "token_endpoint": TOKEN_URL,
            "device_authorization_endpoint": DEVICE_URL,
        })  # fmt: skip

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kw: Any):
        """Device code issuance and the scripted token endpoint."""
        if self.offline:
            raise requests.ConnectionError("network is unreachable")
        if url == DEVICE_URL:
            return Reply(200, {
                "device_code": "device-code-secret", "user_code": "ABCD-EFGH",
                "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900,
                "interval": 1, "message": "To sign in, use a browser to open ... ABCD-EFGH",
            })  # fmt: skip
        assert url == TOKEN_URL, url
        self.token_requests.append(dict(data or {}))
        self.polled.set()
        reply = self.token_replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def tokens(name: str = "alice") -> Reply:
    """A successful token response with an ID token and client_info, as Entra sends."""
    now = int(time.time())
    claims = {
        "iss": f"https://login.microsoftonline.com/{TENANT}/v2.0", "aud": CLIENT, "tid": TENANT,
        "oid": f"oid-{name}", "sub": name, "preferred_username": f"{name}@corp.example",
        "iat": now, "exp": now + 3600,
    }  # fmt: skip
    info = base64.urlsafe_b64encode(json.dumps({"uid": f"oid-{name}", "utid": TENANT}).encode())
    return Reply(200, {
        "token_type": "Bearer", "scope": "email openid profile", "expires_in": 3600,
        "access_token": f"at-{name}", "refresh_token": f"rt-{name}",
        "id_token": jwt.encode(claims, "k" * 32, "HS256"), "client_info": info.decode(),
    })  # fmt: skip


def error(code: str, description: str = "", codes: tuple[int, ...] = ()) -> Reply:
    """An OAuth error response."""
    body = {"error": code, "error_description": description or code, "error_codes": list(codes)}
    return Reply(400, body)
