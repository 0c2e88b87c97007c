"""The platform's ID token verification: what it accepts, and each refusal with its stable code."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from ikan_platform.identity import (
    EntraProviderConfig,
    GoogleProviderConfig,
    IdentityError,
    OidcProviderConfig,
    nonce_hash,
    verify_id_token,
)
from tests.auth._idp import (
    ENTRA_CLIENT_ID,
    FOREIGN_TENANT,
    GOOGLE_CLIENT_ID,
    TENANT,
    EntraIdp,
    mint_id_token,
    serve,
)
from tests.auth.conftest import GoogleIdp

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def refused(config: Any, token: str, **kwargs: Any) -> str:
    """The error code verification raised."""
    with pytest.raises(IdentityError) as caught:
        verify_id_token(config, token, **kwargs)
    return caught.value.code


def entra_token(idp: EntraIdp, sub: str = "alice", tenant: str = TENANT, **kw: Any) -> str:
    """A token minted under `tenant`'s issuer by the Entra-style provider."""
    kw.setdefault("client_id", ENTRA_CLIENT_ID)
    return mint_id_token(f"{idp.base}/{tenant}/v2.0", sub, verify=idp.ca_file, **kw)


def test_entra_token_from_allowed_tenant_names_tid_and_oid(entra_idp, entra_config) -> None:
    identity = verify_id_token(entra_config, entra_token(entra_idp))
    assert identity.key == (TENANT, "oid-alice")
    assert (identity.provider, identity.email, identity.name) == (
        "entra",
        "alice@corp.example",
        "Alice Admin",
    )
    assert identity.expires_at > datetime.now(UTC)


def test_entra_token_from_foreign_tenant_is_refused(entra_idp, entra_config) -> None:
    token = entra_token(entra_idp, "mallory", FOREIGN_TENANT)
    assert refused(entra_config, token) == "id_token_foreign_tenant"


def test_entra_token_whose_issuer_names_another_tenant_is_refused(entra_idp, entra_config) -> None:
    entra_idp.put_user("eve", TENANT)  # claims the home tid, but is issued by the foreign tenant
    token = entra_token(entra_idp, "eve", FOREIGN_TENANT)
    assert refused(entra_config, token) == "id_token_wrong_issuer"


def test_token_for_microsoft_graph_audience_is_refused(entra_idp, entra_config) -> None:
    token = entra_token(entra_idp, client_id=GRAPH_APP_ID)
    assert refused(entra_config, token) == "id_token_wrong_audience"


def test_graph_style_access_token_with_header_nonce_is_refused(entra_config) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"aud": GRAPH_APP_ID, "tid": TENANT, "scp": "User.Read", "iss": "x", "sub": "s"}
    token = jwt.encode(claims, key, "RS256", headers={"kid": "k", "nonce": "graph-nonce"})
    assert refused(entra_config, token) == "id_token_wrong_type"


def test_expired_and_too_old_tokens_are_refused(entra_idp, entra_config) -> None:
    token = entra_token(entra_idp)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    assert verify_id_token(entra_config, token, now=soon).subject == "oid-alice"
    later = datetime.now(UTC) + timedelta(minutes=15)
    assert refused(entra_config, token, now=later) == "id_token_too_old"
    # The mock issues one-hour tokens.
    after_expiry = datetime.now(UTC) + timedelta(hours=2)
    assert refused(entra_config, token, now=after_expiry) == "id_token_expired"


def test_tampered_payload_fails_the_signature(entra_idp, entra_config) -> None:
    header, payload, signature = entra_token(entra_idp).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["oid"] = "oid-someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(entra_config, f"{header}.{forged}.{signature}") == "id_token_invalid_signature"


def test_google_token_with_allowed_domain_and_platform_nonce_is_accepted(google_idp) -> None:
    token = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce="n-123")
    identity = verify_id_token(google_idp.config(), token, expected_nonce_hash=nonce_hash("n-123"))
    assert identity.key == (google_idp.base, "grace")
    assert identity.hosted_domain == "corp.example"


@pytest.mark.parametrize(
    ("sub", "code"),
    [
        ("gus", "id_token_wrong_domain"),
        ("gmail-user", "id_token_wrong_domain"),
        ("una", "id_token_email_unverified"),
    ],
)
def test_google_account_outside_policy_is_refused(google_idp: GoogleIdp, sub, code) -> None:
    token = mint_id_token(google_idp.base, sub, GOOGLE_CLIENT_ID, nonce="n-1")
    assert refused(google_idp.config(), token, expected_nonce_hash=nonce_hash("n-1")) == code


def test_google_token_for_another_client_is_refused(google_idp) -> None:
    token = mint_id_token(google_idp.base, "grace", "someone-else.apps", nonce="n-1")
    assert refused(google_idp.config(), token, expected_nonce_hash=nonce_hash("n-1")) == (
        "id_token_wrong_audience"
    )


def test_nonce_must_match_and_is_required_for_google(google_idp) -> None:
    token = mint_id_token(google_idp.base, "grace", GOOGLE_CLIENT_ID, nonce="n-issued")
    config = google_idp.config()
    assert refused(config, token, expected_nonce_hash=nonce_hash("n-other")) == (
        "id_token_nonce_mismatch"
    )
    assert refused(config, token) == "id_token_nonce_mismatch"


def test_configs_that_would_accept_anyone_are_rejected() -> None:
    with pytest.raises(ValueError, match="client id"):
        GoogleProviderConfig(client_ids=(), allowed_domains=("corp.example",))
    with pytest.raises(ValueError, match="domain"):
        GoogleProviderConfig(client_ids=("c",), allowed_domains=())
    with pytest.raises(ValueError, match="tenant"):
        EntraProviderConfig(client_ids=("c",), tenant_ids=())


class LocalKeys:
    """A JWKS endpoint on loopback with keys the test signs with directly."""

    def __init__(self, base: str, keys: dict[str, Any]) -> None:
        self.base, self.keys = base, keys

    def config(self, **overrides: Any) -> OidcProviderConfig:
        """A generic OIDC provider configuration trusting these keys."""
        values = {"client_ids": ("app",), "issuer": "https://idp.test", "jwks_endpoint": self.base}
        return OidcProviderConfig(**{**values, **overrides})

    def sign(self, kid: str = "rsa", alg: str = "RS256", **claims: Any) -> str:
        """Sign with key `kid`; `header_kid` (may be None) overrides the kid the header names."""
        header_kid = claims.pop("header_kid", kid)
        headers = {"kid": header_kid} if header_kid is not None else {}
        now = int(time.time())
        body = {"iss": "https://idp.test", "aud": "app", "sub": "u1", "iat": now, "exp": now + 600}
        return jwt.encode({**body, **claims}, self.keys[kid], alg, headers=headers)


@pytest.fixture
def local_keys() -> Iterator[LocalKeys]:
    """An RSA and an EC key, published as a JWKS on loopback."""
    keys = {
        "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1()),
    }
    jwks = {
        "keys": [
            {**json.loads(RSAAlgorithm.to_jwk(keys["rsa"].public_key())), "kid": "rsa"},
            {**json.loads(ECAlgorithm.to_jwk(keys["ec"].public_key())), "kid": "ec"},
        ]
    }

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(jwks).encode()]

    with serve(app) as base:
        yield LocalKeys(base + "/jwks", keys)


def test_es256_is_accepted_and_subject_is_issuer_and_sub(local_keys) -> None:
    identity = verify_id_token(local_keys.config(), local_keys.sign("ec", "ES256"))
    assert identity.key == ("https://idp.test", "u1")


@pytest.mark.parametrize(
    ("make_token", "code"),
    [
        (lambda k: jwt.encode({"sub": "u1"}, None, "none"), "id_token_unsupported_alg"),
        (lambda k: k.sign(alg="RS512"), "id_token_unsupported_alg"),
        (lambda k: jwt.encode({"sub": "u"}, "s" * 32, "HS256"), "id_token_unsupported_alg"),
        (
            lambda k: k.sign(kid="rsa", alg="RS256").rsplit(".", 1)[0] + ".AAAA",
            "id_token_invalid_signature",
        ),
        (lambda k: "not.a.jwt", "id_token_malformed"),
        (lambda k: k.sign(iat=int(time.time()) + 300), "id_token_not_yet_valid"),
        (lambda k: k.sign(aud=["app", "other-app"]), "id_token_wrong_audience"),
        (lambda k: k.sign(iss="https://evil.test"), "id_token_wrong_issuer"),
        (lambda k: k.sign(sub=""), "id_token_malformed"),
        (lambda k: k.sign(exp=10**20), "id_token_malformed"),
        (lambda k: k.sign(header_kid="rotated-away"), "id_token_invalid_signature"),
        (lambda k: k.sign(header_kid=None), "id_token_malformed"),
    ],
    ids=[
        "alg-none",
        "rs512",
        "hs256",
        "bad-sig",
        "garbage",
        "future-iat",
        "extra-aud",
        "iss",
        "no-sub",
        "absurd-exp",
        "unknown-kid",
        "no-kid",
    ],
)
def test_crafted_tokens_are_refused(local_keys, make_token, code) -> None:
    assert refused(local_keys.config(), make_token(local_keys)) == code


def test_key_for_one_algorithm_does_not_verify_another(local_keys) -> None:
    _, payload, signature = local_keys.sign("ec", "ES256").split(".")
    # Same ES256 signature, but the header now points at the RSA key.
    header = json.dumps({"alg": "ES256", "kid": "rsa", "typ": "JWT"}).encode()
    relabelled = f"{base64.urlsafe_b64encode(header).rstrip(b'=').decode()}.{payload}.{signature}"
    assert refused(local_keys.config(), relabelled) == "id_token_invalid_signature"


def test_unreachable_key_endpoint_is_a_retryable_error(local_keys) -> None:
    config = local_keys.config(jwks_endpoint="http://127.0.0.1:9/keys")
    assert refused(config, local_keys.sign()) == "id_token_keys_unavailable"


def test_hashed_nonce_claim_matches_raw_nonce_hash(local_keys) -> None:
    raw = "client-nonce"
    token = local_keys.sign(nonce=nonce_hash(raw))  # MSAL puts sha256(raw) in the token
    assert verify_id_token(local_keys.config(), token, expected_nonce_hash=nonce_hash(raw))
