"""Loopback identity providers for the sign-in tests (oidc-provider-mock 0.3.4) and a fake browser.

Entra-style: the mock is served over TLS (MSAL insists on https) and mounted once per tenant under
``/<tid>/v2.0``, so ``authority = https://localhost:PORT/<tid>`` follows MSAL's real Entra code
path (discovery at ``<authority>/v2.0/.well-known/openid-configuration``). Keys are also served
at Entra's path ``/<tid>/discovery/v2.0/keys``, and ID tokens carry ``iss = <base>/<tid>/v2.0``
(a test-only patch of the mock), so `EntraProviderConfig(authority_base=base)` verifies them as it
would Microsoft's. Google-style: the plain mock over http, with the mock's issuer and JWKS URL.
"""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import flask
import httpx
import oidc_provider_mock
import oidc_provider_mock._app as mock_app
import pytest
import werkzeug.serving
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

TENANT = "7c1e4f2a-0000-4000-8000-00000000a11c"
FOREIGN_TENANT = "9d2f5a3b-0000-4000-8000-00000000f0e1"
ENTRA_CLIENT_ID = "3f2b1c0d-0000-4000-8000-00000000c0de"
GOOGLE_CLIENT_ID = "ikan-console.apps.googleusercontent.com"


def allow_public_clients_and_tenant_issuers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-only patches of mock 0.3.4: public clients (fixed in 0.4.3), issuer under the prefix."""
    for grant in (mock_app.AuthorizationCodeGrant, mock_app.RefreshTokenGrant):
        methods = ["client_secret_basic", "client_secret_post", "none"]
        monkeypatch.setattr(grant, "TOKEN_ENDPOINT_AUTH_METHODS", methods)
    original = mock_app.OpenIDCode.get_jwt_config

    def tenant_issuer(self: Any, grant: Any, client: object = None) -> dict[str, Any]:
        config = original(self, grant, client)
        # root_url includes the mount prefix: https://localhost:PORT/<tid>/v2.0, Entra's shape.
        config["iss"] = flask.request.root_url.rstrip("/")
        return config

    monkeypatch.setattr(mock_app.OpenIDCode, "get_jwt_config", tenant_issuer)


def write_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a localhost certificate it signed: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ikan test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def trust(verify: str | bool) -> ssl.SSLContext | bool:
    """httpx wants an SSL context for a custom CA (a path is deprecated)."""
    return ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify


@contextmanager
def serve(app: Any, ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Run a WSGI app on a loopback port in a thread; yield its base URL."""
    server = werkzeug.serving.make_server(
        "localhost", 0, app, threaded=True, ssl_context=ssl_context
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass(frozen=True)
class EntraIdp:
    """A running Entra-style provider: `base` plays login.microsoftonline.com."""

    base: str
    ca_file: str
    token_exchanges: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)

    def secrets(self) -> list[str]:
        """Every code, verifier and token that crossed the token endpoint so far."""
        return exchanged_secrets(self.token_exchanges)

    def put_user(self, sub: str, tenant: str, **claims: object) -> None:
        """Register a user whose tokens carry `tenant` as tid (and the given claims)."""
        body = {"tid": tenant, "oid": f"oid-{sub}", "preferred_username": sub, **claims}
        url = f"{self.base}/{tenant}/v2.0/users/{sub}"
        httpx.put(url, json=body, verify=trust(self.ca_file)).raise_for_status()


def entra_wsgi(tenants: tuple[str, ...], exchanges: list[Any]) -> Any:
    """One mock app mounted per tenant, plus Entra's JWKS path rewritten to the mock's."""
    mock = recording_token_endpoint(oidc_provider_mock.app(), exchanges)
    dispatcher = DispatcherMiddleware(NotFound(), {f"/{t}/v2.0": mock for t in tenants})

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        parts = environ.get("PATH_INFO", "").split("/")
        if len(parts) == 5 and parts[2:] == ["discovery", "v2.0", "keys"]:
            environ["PATH_INFO"] = f"/{parts[1]}/v2.0/jwks"
        return dispatcher(environ, start_response)

    return app


@contextmanager
def running_entra_idp(directory: Path) -> Iterator[EntraIdp]:
    """Serve the Entra-style provider over TLS for the home and a foreign tenant."""
    ca, cert, key = write_tls_files(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    exchanges: list[Any] = []
    with serve(entra_wsgi((TENANT, FOREIGN_TENANT), exchanges), context) as base:
        yield EntraIdp(base=base, ca_file=str(ca), token_exchanges=exchanges)


def recording_token_endpoint(app: Any, exchanges: list[Any]) -> Any:
    """Wrap a WSGI app to keep each token request and response (to hunt for them in logs)."""

    def recorder(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != "/oauth2/token":
            return app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        answer = b"".join(app(environ, start_response))
        exchanges.append((dict(parse_qsl(body.decode())), json.loads(answer or b"{}")))
        return [answer]

    return recorder


def exchanged_secrets(exchanges: list[tuple[dict[str, str], dict[str, Any]]]) -> list[str]:
    """Codes, PKCE verifiers and tokens seen at a token endpoint (to hunt for in logs)."""
    found = []
    for request, response in exchanges:
        found += [request.get(k, "") for k in ("code", "code_verifier", "refresh_token")]
        found += [str(response.get(k, "")) for k in ("access_token", "refresh_token", "id_token")]
    return [value for value in found if value]


def authorize_in_browser(
    auth_url: str,
    sub: str,
    *,
    verify: str | bool = True,
    form_post: bool = False,
    deny: bool = False,
) -> dict[str, str]:
    """Play the user's browser: open the page, pick `sub` (or deny), deliver to the loopback.

    Returns the parameters delivered (code, state), so tests can look for them in logs.
    """
    with httpx.Client(verify=trust(verify), timeout=10) as browser:
        browser.get(auth_url).raise_for_status()
        answer = browser.post(auth_url, data={"action": "deny"} if deny else {"sub": sub})
        assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    params = dict(parse_qsl(location.query))
    if deny:
        # The mock drops state from error redirects; RFC 6749 4.1.2.1 requires it, as Entra does.
        params["state"] = dict(parse_qsl(urlsplit(auth_url).query))["state"]
    loopback = f"{location.scheme}://{location.netloc}{location.path or '/'}"
    # MSAL's receiver accepts only form_post; Google's only a GET with the query string.
    if form_post:
        httpx.post(loopback, data=params, timeout=10)
    else:
        httpx.get(loopback, params=params, timeout=10)
    return params


def run_in_thread(target: Any, *args: Any, **kwargs: Any) -> tuple[threading.Thread, list[Any]]:
    """Start `target` in a thread (like a Textual thread worker); the list receives its result."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(target(*args, **kwargs)), daemon=True)
    thread.start()
    return thread, box


def mint_id_token(
    issuer_base: str,
    sub: str,
    client_id: str,
    *,
    nonce: str | None = None,
    verify: str | bool = True,
) -> str:
    """An ID token straight from the provider (authorize + code exchange), no console involved."""
    redirect_uri = "http://127.0.0.1:9/callback"
    params = {
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid email profile",
        "state": "test-state",
        **({"nonce": nonce} if nonce else {}),
    }
    with httpx.Client(verify=trust(verify), timeout=10) as client:
        answer = client.post(f"{issuer_base}/oauth2/authorize", params=params, data={"sub": sub})
        code = dict(parse_qsl(urlsplit(answer.headers["location"]).query))["code"]
        grant = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        secret = {"client_id": client_id, "client_secret": "not-secret"}
        tokens = client.post(f"{issuer_base}/oauth2/token", data={**grant, **secret})
        tokens.raise_for_status()
        return str(tokens.json()["id_token"])
