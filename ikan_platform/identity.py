"""Verify an identity provider's ID token before the platform trusts who it names.

The exchange route hands `verify_id_token` the provider's configuration and the raw ID token the
console obtained. The checks run in the order of AUTH-NOTES section 5: token shape and algorithm
allowlist, signature from the provider's JWKS, issuer per provider (and per Entra tenant), exact
audience, expiry and issue time with a leeway and a maximum age, nonce, then provider policy
(Entra tenant allowlist, Google hosted domain and verified email). Nothing here imports FastAPI or
the database: the route maps `IdentityError.code` to a problem+json response.

Error codes (stable; the console and the docs rely on them):

- ``id_token_malformed``: not a JWT, a required claim missing or of the wrong type, no key id.
- ``id_token_wrong_type``: an access token (Graph-style header ``nonce`` or ``typ: at+jwt``)
  was sent where an ID token belongs.
- ``id_token_unsupported_alg``: signed with an algorithm outside the allowlist (RS256, ES256).
- ``id_token_invalid_signature``: the signature does not verify against the provider's keys.
- ``id_token_keys_unavailable``: the provider's JWKS could not be fetched (retry later).
- ``id_token_wrong_issuer``: ``iss`` is not this provider's (or this tenant's) issuer.
- ``id_token_wrong_audience``: ``aud`` is not exactly one of the configured client ids.
- ``id_token_expired``: ``exp`` has passed (beyond the leeway).
- ``id_token_not_yet_valid``: ``iat`` or ``nbf`` lies in the future (beyond the leeway).
- ``id_token_too_old``: issued longer ago than the maximum token age.
- ``id_token_nonce_mismatch``: the nonce is missing, unexpected or different.
- ``id_token_foreign_tenant``: an Entra token from a tenant outside the allowlist.
- ``id_token_wrong_domain``: a Google token without an allowed hosted domain (``hd``).
- ``id_token_email_unverified``: a Google token whose ``email_verified`` is not true.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import jwt

ALLOWED_ALGORITHMS = frozenset({"RS256", "ES256"})
LEEWAY_SECONDS = 60
MAX_TOKEN_AGE_SECONDS = 600
MAX_TOKEN_LENGTH = 16_384
MAX_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z
ENTRA_AUTHORITY_BASE = "https://login.microsoftonline.com"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


class IdentityError(Exception):
    """An ID token was refused; `code` is stable, `detail` is safe to show (never the token)."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class VerifiedIdentity:
    """Who a verified ID token names; `key` is what the platform looks users up by."""

    provider: str
    issuer: str
    subject: str
    tenant_id: str | None
    email: str | None
    name: str | None
    hosted_domain: str | None
    token_hash: str
    expires_at: datetime

    @property
    def key(self) -> tuple[str, str]:
        """Stable identifier: (tid, oid) for Entra, (iss, sub) otherwise; never the email."""
        return (self.tenant_id or self.issuer, self.subject)


@dataclass(frozen=True, kw_only=True)
class ProviderConfig:
    """What the platform accepts from one identity provider; subclassed per provider kind."""

    kind: ClassVar[str] = ""
    client_ids: tuple[str, ...]
    require_nonce: bool = False
    ca_bundle: str | None = None
    leeway_seconds: int = LEEWAY_SECONDS
    max_token_age_seconds: int = MAX_TOKEN_AGE_SECONDS

    def __post_init__(self) -> None:
        """Refuse a configuration that would accept any audience."""
        if not self.client_ids:
            raise ValueError(f"{self.kind} provider needs at least one client id (audience)")

    def jwks_url(self, claims: dict[str, Any]) -> str:
        """Where this provider publishes the keys for a token with these (unverified) claims."""
        raise NotImplementedError

    def check_issuer(self, claims: dict[str, Any]) -> None:
        """Raise unless `iss` is this provider's issuer."""
        raise NotImplementedError

    def check_policy(self, claims: dict[str, Any]) -> None:
        """Provider-specific rules applied after the signature and time checks."""

    def subject(self, claims: dict[str, Any]) -> tuple[str | None, str]:
        """(tenant id, subject) for the identity key."""
        return None, _required_str(claims, "sub")

    def canonical_issuer(self, claims: dict[str, Any]) -> str:
        """The issuer as recorded on the identity (one spelling per provider)."""
        return str(claims["iss"])


@dataclass(frozen=True, kw_only=True)
class EntraProviderConfig(ProviderConfig):
    """Microsoft Entra ID: single-tenant apps in an allowlist of tenants (v2.0 tokens)."""

    kind: ClassVar[str] = "entra"
    tenant_ids: tuple[str, ...]
    authority_base: str = ENTRA_AUTHORITY_BASE

    def __post_init__(self) -> None:
        """Refuse an empty tenant allowlist (it would be an "any tenant" app)."""
        super().__post_init__()
        if not self.tenant_ids:
            raise ValueError("entra provider needs at least one allowed tenant id")

    def _tenant(self, claims: dict[str, Any]) -> str:
        tid = _required_str(claims, "tid")
        # Checked before any URL is built from it: tid is attacker-controlled until verified.
        if tid not in self.tenant_ids:
            raise IdentityError("id_token_foreign_tenant", "This Microsoft tenant is not allowed.")
        return tid

    def jwks_url(self, claims: dict[str, Any]) -> str:
        """Per-tenant JWKS endpoint."""
        return f"{self.authority_base.rstrip('/')}/{self._tenant(claims)}/discovery/v2.0/keys"

    def check_issuer(self, claims: dict[str, Any]) -> None:
        """Issuer must be the v2.0 issuer of the token's own (allowed) tenant."""
        expected = f"{self.authority_base.rstrip('/')}/{self._tenant(claims)}/v2.0"
        if claims.get("iss") != expected:
            raise IdentityError("id_token_wrong_issuer", "Issuer does not match the token tenant.")

    def subject(self, claims: dict[str, Any]) -> tuple[str | None, str]:
        """(tid, oid): oid is the user's immutable object id across apps in the tenant."""
        return self._tenant(claims), _required_str(claims, "oid")


@dataclass(frozen=True, kw_only=True)
class GoogleProviderConfig(ProviderConfig):
    """Google Workspace: a desktop OAuth client restricted to allowed hosted domains."""

    kind: ClassVar[str] = "google"
    allowed_domains: tuple[str, ...]
    issuers: tuple[str, ...] = GOOGLE_ISSUERS
    jwks_endpoint: str = GOOGLE_JWKS_URL
    # The console always obtains a platform-issued nonce for Google, so its absence is suspicious.
    require_nonce: bool = True

    def __post_init__(self) -> None:
        """Refuse an empty domain allowlist (it would admit any Google account)."""
        super().__post_init__()
        if not self.allowed_domains:
            raise ValueError("google provider needs at least one allowed Workspace domain")

    def jwks_url(self, claims: dict[str, Any]) -> str:
        """Google's (or the test IdP's) JWKS endpoint."""
        return self.jwks_endpoint

    def check_issuer(self, claims: dict[str, Any]) -> None:
        """Google issues with and without the scheme."""
        if claims.get("iss") not in self.issuers:
            raise IdentityError("id_token_wrong_issuer", "Issuer is not Google.")

    def check_policy(self, claims: dict[str, Any]) -> None:
        """Hosted domain in the allowlist and a verified email; Google checks neither for us."""
        if claims.get("hd") not in self.allowed_domains:
            raise IdentityError(
                "id_token_wrong_domain", "This Google account is not in an allowed Workspace."
            )
        # Google sends a JSON boolean; some older tokens carried the string "true".
        if claims.get("email_verified") not in (True, "true"):
            raise IdentityError("id_token_email_unverified", "The account's email is unverified.")

    def canonical_issuer(self, claims: dict[str, Any]) -> str:
        """Fold Google's two issuer spellings into one, so (iss, sub) stays one key per user."""
        return self.issuers[0]


@dataclass(frozen=True, kw_only=True)
class OidcProviderConfig(ProviderConfig):
    """Any other OpenID Connect provider with one fixed issuer (tests, other IdPs)."""

    kind: ClassVar[str] = "oidc"
    issuer: str
    jwks_endpoint: str

    def jwks_url(self, claims: dict[str, Any]) -> str:
        """The configured JWKS endpoint."""
        return self.jwks_endpoint

    def check_issuer(self, claims: dict[str, Any]) -> None:
        """Exact issuer match."""
        if claims.get("iss") != self.issuer:
            raise IdentityError("id_token_wrong_issuer", "Issuer is not the configured provider.")


def verify_id_token(
    provider_config: ProviderConfig,
    token: str,
    *,
    expected_nonce_hash: str | None = None,
    now: datetime | None = None,
) -> VerifiedIdentity:
    """Verify `token` for `provider_config` or raise `IdentityError`.

    `expected_nonce_hash` is the SHA-256 hex of the raw nonce: the token's `nonce` claim may be
    that hash (MSAL sends sha256(raw)) or the raw value (Google echoes what it was given).
    """
    config = provider_config
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise IdentityError("id_token_malformed", "Not a JSON Web Token.")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise IdentityError("id_token_malformed", "Not a JSON Web Token.") from exc
    # Graph access tokens carry a header nonce and are not meant to be verified by anyone else.
    if "nonce" in header or str(header.get("typ", "")).lower() in ACCESS_TOKEN_TYPES:
        raise IdentityError("id_token_wrong_type", "An access token was sent, not an ID token.")
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise IdentityError("id_token_unsupported_alg", f"Algorithm {alg!r} is not accepted.")
    if not isinstance(header.get("kid"), str):
        raise IdentityError("id_token_malformed", "The token names no signing key.")

    key = _signing_key(config.jwks_url(unverified), config.ca_bundle, token, alg)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            # Time and audience are checked below against an injectable clock and exactly.
            options={
                "verify_aud": False,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise IdentityError("id_token_invalid_signature", "The signature does not verify.") from exc
    except jwt.PyJWTError as exc:
        raise IdentityError("id_token_malformed", "The token could not be decoded.") from exc

    config.check_issuer(claims)
    _check_audience(claims, config.client_ids)
    _check_times(claims, config, now)
    _check_nonce(claims, expected_nonce_hash, config.require_nonce)
    config.check_policy(claims)
    tenant_id, subject = config.subject(claims)
    return VerifiedIdentity(
        provider=config.kind,
        issuer=config.canonical_issuer(claims),
        subject=subject,
        tenant_id=tenant_id,
        email=_optional_str(claims, "email"),
        name=_optional_str(claims, "name"),
        hosted_domain=_optional_str(claims, "hd"),
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )


def nonce_hash(raw_nonce: str) -> str:
    """SHA-256 hex of a raw nonce: what the platform stores and passes as `expected_nonce_hash`."""
    return hashlib.sha256(raw_nonce.encode()).hexdigest()


_JWKS_CLIENTS: dict[tuple[str, str | None], jwt.PyJWKClient] = {}
_JWKS_LOCK = threading.Lock()


def _jwks_client(url: str, ca_bundle: str | None) -> jwt.PyJWKClient:
    """One cached client per JWKS URL, so keys are fetched once per lifespan, not per sign-in."""
    with _JWKS_LOCK:
        client = _JWKS_CLIENTS.get((url, ca_bundle))
        if client is None:
            context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
            client = jwt.PyJWKClient(url, lifespan=3600, timeout=10, ssl_context=context)
            _JWKS_CLIENTS[(url, ca_bundle)] = client
        return client


def _signing_key(url: str, ca_bundle: str | None, token: str, alg: str) -> Any:
    """The public key named by the token's kid; PyJWKClient refetches once on an unknown kid."""
    try:
        jwk = _jwks_client(url, ca_bundle).get_signing_key_from_jwt(token)
    except jwt.PyJWKClientConnectionError as exc:
        raise IdentityError(
            "id_token_keys_unavailable", "The provider's signing keys are unavailable."
        ) from exc
    except jwt.PyJWTError as exc:
        raise IdentityError(
            "id_token_invalid_signature", "No provider key matches this token."
        ) from exc
    # A key published for one algorithm must not verify another (RSA key, "ES256" header, ...).
    if jwk.algorithm_name != alg:
        raise IdentityError("id_token_invalid_signature", "Key and algorithm do not match.")
    return jwk.key


def _check_audience(claims: dict[str, Any], client_ids: tuple[str, ...]) -> None:
    """Every audience must be ours: a token also addressed to another app is not for us."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if (
        not isinstance(audiences, list)
        or not audiences
        or not all(isinstance(a, str) and a in client_ids for a in audiences)
    ):
        raise IdentityError("id_token_wrong_audience", "The token was issued to another app.")


def _check_times(claims: dict[str, Any], config: ProviderConfig, now: datetime | None) -> None:
    """exp, iat (and nbf) against the clock with a leeway, plus a maximum age since issue."""
    current = now.timestamp() if now is not None else time.time()
    leeway = config.leeway_seconds
    exp, iat = claims.get("exp"), claims.get("iat")
    # The upper bound keeps datetime.fromtimestamp(exp) from overflowing on absurd values.
    if not _is_number(exp) or not _is_number(iat) or not 0 < exp < MAX_TIMESTAMP:
        raise IdentityError("id_token_malformed", "The token lacks a valid exp or iat.")
    if current > exp + leeway:
        raise IdentityError("id_token_expired", "The token has expired; sign in again.")
    nbf = claims.get("nbf", iat)
    if not _is_number(nbf) or iat > current + leeway or nbf > current + leeway:
        raise IdentityError(
            "id_token_not_yet_valid", "The token is not valid yet; check the clock."
        )
    if current - iat > config.max_token_age_seconds + leeway:
        raise IdentityError("id_token_too_old", "The token was issued too long ago; sign in again.")


def _check_nonce(claims: dict[str, Any], expected_hash: str | None, required: bool) -> None:
    """Compare the nonce claim, raw or hashed, in constant time."""
    claim = claims.get("nonce")
    if expected_hash is None:
        if required:
            raise IdentityError("id_token_nonce_mismatch", "A sign-in nonce is required.")
        return
    if not isinstance(claim, str) or not claim:
        raise IdentityError("id_token_nonce_mismatch", "The token carries no nonce.")
    as_hash = hmac.compare_digest(claim.encode(), expected_hash.encode())
    as_raw = hmac.compare_digest(nonce_hash(claim).encode(), expected_hash.encode())
    if not (as_hash or as_raw):
        raise IdentityError("id_token_nonce_mismatch", "The nonce does not match this sign-in.")


def _required_str(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise IdentityError("id_token_malformed", f"The token lacks the {name!r} claim.")
    return value


def _optional_str(claims: dict[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
