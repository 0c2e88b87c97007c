# ruff: noqa: F811  (the IdP fixtures are imported from tests/auth and named as parameters)
"""POST /v1/auth/exchange with real ID tokens from a loopback OIDC provider, through the real app.

Entra-style tokens come from the TLS provider mounted per tenant, Google-style ones from the plain
provider; each refusal must be a problem+json with its stable code and a sentence for people.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from ikan_platform.app import create_app
from ikan_platform.settings import PlatformSettings
from tests.auth._idp import (
    ENTRA_CLIENT_ID,
    FOREIGN_TENANT,
    GOOGLE_CLIENT_ID,
    TENANT,
    EntraIdp,
    mint_id_token,
)
from tests.auth._platform import Admin, entra_identity, google_identity, idp_settings
from tests.auth.conftest import (  # noqa: F401
    admin,
    entra_idp,
    google_idp,
    idp_platform,
    live_clock,
)

PROBLEM = "application/problem+json"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@pytest.fixture
async def http(idp_platform: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the platform app, as the console is."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=idp_platform), base_url="http://platform"
    ) as client:
        yield client


@pytest.fixture
async def alice(admin: Admin, entra_idp: EntraIdp) -> dict[str, Any]:
    """An Operations user provisioned with her Entra tenant and object id."""
    identity = entra_identity(entra_idp, "alice")
    return await admin.provision("alice@corp.example", "Alice Admin", identity)


@pytest.fixture
async def grace(admin: Admin, google_idp: Any) -> dict[str, Any]:
    """An Operations user provisioned with her Google subject."""
    return await admin.provision(
        "grace@corp.example", "Grace", google_identity(google_idp, "grace")
    )


def entra_token(idp: EntraIdp, sub: str = "alice", tenant: str = TENANT, **kw: Any) -> str:
    """An ID token from the Entra-style provider for `tenant`."""
    kw.setdefault("client_id", ENTRA_CLIENT_ID)
    return mint_id_token(f"{idp.base}/{tenant}/v2.0", sub, verify=idp.ca_file, **kw)


async def google_token(http: httpx.AsyncClient, idp: Any, sub: str = "grace") -> tuple[str, str]:
    """A platform nonce and a Google-style ID token that carries it."""
    nonce = (await http.get("/v1/auth/nonce")).json()["nonce"]
    return nonce, mint_id_token(idp.base, sub, GOOGLE_CLIENT_ID, nonce=nonce)


async def exchange(
    http: httpx.AsyncClient, provider: str, token: str, nonce: str | None = None
) -> httpx.Response:
    """POST /v1/auth/exchange."""
    body = {"provider": provider, "id_token": token, **({"nonce": nonce} if nonce else {})}
    return await http.post("/v1/auth/exchange", json=body)


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert a problem+json refusal with this status and code; return the document."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"] and "eyJ" not in body["detail"]
    return body


async def test_entra_sign_in_opens_a_session_that_refreshes_and_logs_out(http, entra_idp, alice):
    signed_in = await exchange(http, "entra", entra_token(entra_idp))

    assert signed_in.status_code == 200, signed_in.text
    session = signed_in.json()
    assert session["user"]["email"] == "alice@corp.example"
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert (await http.get("/v1/me", headers=bearer)).json()["role"] == "operations"
    rotated = await http.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
    assert rotated.status_code == 200
    new_refresh = rotated.json()["refresh_token"]
    assert new_refresh != session["refresh_token"]

    logout = await http.post("/v1/auth/logout", json={"refresh_token": new_refresh})

    assert logout.status_code == 204
    after = await http.post("/v1/auth/refresh", json={"refresh_token": new_refresh})
    refused(after, 401, "refresh_refused")


async def test_google_sign_in_with_a_platform_nonce_opens_a_session(http, google_idp, grace):
    nonce, token = await google_token(http, google_idp)

    signed_in = await exchange(http, "google", token, nonce)

    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["email"] == "grace@corp.example"


async def test_user_of_a_foreign_tenant_is_refused_in_words(http, entra_idp):
    response = await exchange(http, "entra", entra_token(entra_idp, "mallory", FOREIGN_TENANT))

    body = refused(response, 403, "id_token_foreign_tenant")
    assert "another organisation" in body["detail"]


async def test_token_issued_to_another_app_is_refused(http, entra_idp, alice):
    token = entra_token(entra_idp, client_id=GRAPH_APP_ID)
    refused(await exchange(http, "entra", token), 401, "id_token_wrong_audience")


async def test_expired_token_is_refused(http, entra_idp, alice, live_clock):
    token = entra_token(entra_idp)
    live_clock.advance(hours=2)  # the provider issues one-hour tokens
    refused(await exchange(http, "entra", token), 401, "id_token_expired")


@pytest.mark.parametrize(
    ("sub", "status", "code"),
    [
        ("gus", 403, "id_token_wrong_domain"),
        ("gmail-user", 403, "id_token_wrong_domain"),
        ("una", 403, "id_token_email_unverified"),
    ],
)
async def test_google_account_outside_the_workspace_policy_is_refused(
    http, google_idp, admin, sub, status, code
):
    # Even provisioned, the domain and email policy come first.
    await admin.provision(f"{sub}@corp.example", sub, google_identity(google_idp, sub))
    nonce, token = await google_token(http, google_idp, sub)
    refused(await exchange(http, "google", token, nonce), status, code)


async def test_graph_style_access_token_is_refused(http):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"aud": GRAPH_APP_ID, "tid": TENANT, "scp": "User.Read", "iss": "x", "sub": "s"}
    token = jwt.encode(claims, key, "RS256", headers={"kid": "k", "nonce": "graph-nonce"})
    refused(await exchange(http, "entra", token), 401, "id_token_wrong_type")


async def test_tampered_token_fails_its_signature(http, entra_idp, alice):
    header, payload, signature = entra_token(entra_idp, "mallory", FOREIGN_TENANT).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims |= {"oid": "oid-alice", "tid": TENANT, "iss": f"{entra_idp.base}/{TENANT}/v2.0"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    token = f"{header}.{forged}.{signature}"
    refused(await exchange(http, "entra", token), 401, "id_token_invalid_signature")


async def test_a_token_exchanges_only_once(http, entra_idp, alice):
    token = entra_token(entra_idp)
    assert (await exchange(http, "entra", token)).status_code == 200

    refused(await exchange(http, "entra", token), 401, "id_token_replayed")


async def test_a_nonce_is_spent_by_its_first_sign_in(http, google_idp, grace):
    nonce, token = await google_token(http, google_idp)
    assert (await exchange(http, "google", token, nonce)).status_code == 200

    again = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce=nonce)
    refused(await exchange(http, "google", again, nonce), 401, "nonce_invalid")


async def test_a_nonce_the_platform_never_issued_is_refused(http, google_idp, grace):
    token = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce="made-up-by-client")
    refused(await exchange(http, "google", token, "made-up-by-client"), 401, "nonce_invalid")


async def test_a_nonce_expires_after_five_minutes(http, google_idp, grace, live_clock):
    nonce, _ = await google_token(http, google_idp)
    live_clock.advance(minutes=5, seconds=1)
    # The token is fresh (its iat is the real time, 5 minutes "ago"): only the nonce is stale.
    token = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce=nonce)
    refused(await exchange(http, "google", token, nonce), 401, "nonce_invalid")


async def test_google_sign_in_without_a_nonce_or_with_another_is_refused(http, google_idp, grace):
    nonce, token = await google_token(http, google_idp)
    other = (await http.get("/v1/auth/nonce")).json()["nonce"]

    refused(await exchange(http, "google", token), 401, "id_token_nonce_mismatch")
    refused(await exchange(http, "google", token, other), 401, "id_token_nonce_mismatch")
    assert (await exchange(http, "google", token, nonce)).status_code == 200


async def test_same_email_with_another_subject_is_not_provisioned(http, entra_idp, admin):
    # Provisioned for a different object id: the email alone must never be enough.
    other = {**entra_identity(entra_idp, "alice"), "subject": "oid-someone-else"}
    await admin.provision("alice@corp.example", "Alice Admin", other)

    body = refused(
        await exchange(http, "entra", entra_token(entra_idp)), 403, "user_not_provisioned"
    )

    assert "alice@corp.example" in body["detail"] and "ikan admin" in body["detail"]
    assert "subject oid-alice" in body["detail"]  # what the admin needs, shown to the user
    assert (body["issuer"], body["subject"]) == (f"{entra_idp.base}/{TENANT}/v2.0", "oid-alice")


async def test_deactivated_user_is_refused(http, entra_idp, admin, alice):
    await admin.change(alice, "deactivate", reason="Left the company")
    refused(await exchange(http, "entra", entra_token(entra_idp)), 403, "user_deactivated")


async def test_role_change_takes_effect_on_the_next_request(http, entra_idp, admin, alice):
    session = (await exchange(http, "entra", entra_token(entra_idp))).json()
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert (await http.get("/v1/queues", headers=bearer)).status_code == 200

    await admin.change(alice, "role", role="supplier", supplier_id=1, reason="Moved to Cityhome")

    refused(await http.get("/v1/queues", headers=bearer), 403, "forbidden")


async def test_provider_not_configured_is_refused(http, entra_idp):
    refused(await exchange(http, "oidc", entra_token(entra_idp)), 400, "provider_not_enabled")


async def test_nonces_live_in_the_database_so_any_instance_can_spend_them(
    idp_platform, database_url, live_clock, entra_idp, google_idp, grace
):
    other = create_app(idp_settings(database_url, live_clock, entra_idp, google_idp))
    first = httpx.AsyncClient(transport=httpx.ASGITransport(app=idp_platform), base_url="http://a")
    second = httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://b")
    async with first, second:
        nonce, token = await google_token(first, google_idp)
        assert (await exchange(second, "google", token, nonce)).status_code == 200
        again = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce=nonce)
        refused(await exchange(first, "google", again, nonce), 401, "nonce_invalid")
    other.state.engine.dispose()


def test_half_configured_providers_are_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="entra_tenant_ids"):
        PlatformSettings(database_url="sqlite://", entra_client_ids="app")
    with pytest.raises(ValueError, match="google_allowed_domains"):
        PlatformSettings(database_url="sqlite://", google_client_ids="app")
    with pytest.raises(ValueError, match="tenant"):
        PlatformSettings(database_url="sqlite://", entra_client_ids="app", entra_tenant_ids=",")


def test_providers_are_configured_from_comma_separated_environment(monkeypatch) -> None:
    monkeypatch.setenv("IKAN_PLATFORM_ENTRA_CLIENT_IDS", "app-1")
    monkeypatch.setenv("IKAN_PLATFORM_ENTRA_TENANT_IDS", f"{TENANT}, {FOREIGN_TENANT.upper()}")
    monkeypatch.setenv("IKAN_PLATFORM_GOOGLE_CLIENT_IDS", "desktop.apps.googleusercontent.com")
    monkeypatch.setenv("IKAN_PLATFORM_GOOGLE_ALLOWED_DOMAINS", "Corp.Example")

    providers = PlatformSettings(database_url="sqlite://").identity_providers()

    assert providers["entra"].tenant_ids == (TENANT, FOREIGN_TENANT)  # type: ignore[attr-defined]
    assert providers["google"].allowed_domains == ("corp.example",)  # type: ignore[attr-defined]
    assert providers["google"].issuers == ("https://accounts.google.com", "accounts.google.com")  # type: ignore[attr-defined]
