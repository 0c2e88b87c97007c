"""Exchange for identity-provider ID tokens (Entra ID, Google Workspace, generic OIDC).

`user_for_id_token` runs inside `POST /v1/auth/exchange`, in the request's one transaction:

1. `verify_id_token` (signature, issuer, audience, times, nonce, tenant/domain policy); its
   refusals become problem+json with the same stable code (`id_token_*`).
2. Replay: the token's hash goes into `used_tokens` until it expires (plus the leeway); a second
   exchange of the same token hits the unique index and is refused with `id_token_replayed`.
3. Providers that need a platform-issued nonce (Google, and `oidc` when configured) burn it:
   `GET /v1/auth/nonce` stores its hash as an unspent `used_tokens` row with a short expiry, and
   the exchange deletes that row; a delete that finds nothing (unknown, expired, already spent)
   is `nonce_invalid`. Deleting is atomic in the database, so two processes can never both
   spend one nonce, and no state lives in process memory.
4. The user is found by the provider's stable subject (Entra tid+oid as issuer+subject, Google
   and OIDC iss+sub), never by email: a matching email with another subject is not provisioned.

Nothing is committed here: the caller issues the session and commits, or any refusal rolls the
whole transaction back (the nonce stays unspent until it expires; the token stays unrecorded).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ikan_platform.errors import ERROR_CODES, Problem
from ikan_platform.identity import (
    IdentityError,
    ProviderConfig,
    VerifiedIdentity,
    nonce_hash,
    verify_id_token,
)
from ikan_platform.models import Identity, UsedToken, User
from ikan_platform.schemas import ExchangeIn

NONCE_KIND = "nonce"
ID_TOKEN_KIND = "id_token"
PROVIDER_NAMES = {"entra": "Microsoft", "google": "Google", "oidc": "your identity provider"}
TITLES = {401: "Sign-in refused", 403: "Account not allowed", 503: "Identity provider unavailable"}
# What a person should read for the refusals people actually meet; the rest use the verifier's
# own sentence. The console shows `detail` as is, so these are written for Ops staff.
DETAILS = {
    "id_token_foreign_tenant": "This Microsoft account belongs to another organisation. Sign in "
    "with your ikan work account; if that is what you used, ask an ikan admin.",
    "id_token_wrong_domain": "This Google account is not in an allowed Google Workspace. Sign in "
    "with your ikan work account.",
    "id_token_email_unverified": "This Google account's email address is not verified, so it "
    "cannot be used to sign in.",
    "id_token_wrong_audience": "The sign-in was made for another application. Check the "
    "console's client id in your profile.",
    "id_token_expired": "The sign-in took too long and has expired; sign in again.",
    "id_token_too_old": "The sign-in is too old to use; sign in again.",
    "id_token_not_yet_valid": "The sign-in is dated in the future: check this computer's clock.",
    "id_token_keys_unavailable": "The identity provider's signing keys could not be fetched; "
    "try again in a minute.",
}


def providers(request: Request) -> dict[str, ProviderConfig]:
    """The enabled providers, built once per app from its (already validated) settings."""
    state = request.app.state
    built = getattr(state, "identity_providers", None)
    if built is None:
        built = state.identity_providers = state.settings.identity_providers()
    return built


def issue_nonce(session: Session, request: Request) -> dict[str, Any]:
    """Store the hash of a fresh one-time nonce with its expiry; return the raw nonce once."""
    settings = request.app.state.settings
    now: datetime = settings.clock()
    ttl = settings.nonce_ttl_seconds
    # Anyone may ask for nonces, so spent-by-time rows are swept here to keep the table small.
    session.execute(delete(UsedToken).where(UsedToken.expires_at < now))
    raw = secrets.token_urlsafe(32)
    session.add(
        UsedToken(
            kind=NONCE_KIND, value_hash=nonce_hash(raw), expires_at=now + timedelta(seconds=ttl)
        )
    )
    session.commit()
    return {"nonce": raw, "expires_in": ttl}


def user_for_id_token(session: Session, request: Request, body: ExchangeIn) -> User:
    """The provisioned user behind a verified ID token (uncommitted: the caller commits)."""
    config = providers(request).get(body.provider)
    if config is None:
        raise Problem(
            400,
            "provider_not_enabled",
            "Provider not enabled",
            detail=f"This platform has no '{body.provider}' sign-in configured.",
        )
    now: datetime = request.app.state.settings.clock()
    expected = nonce_hash(body.nonce) if body.nonce else None
    try:
        identity = verify_id_token(config, body.id_token, expected_nonce_hash=expected, now=now)
    except IdentityError as exc:
        raise refusal(exc) from None
    _record_use(session, identity, config)
    if config.require_nonce:
        _spend_nonce(session, body.nonce or "", now)
    user_id = session.scalar(
        select(Identity.user_id).where(
            Identity.provider == identity.provider,
            Identity.issuer == identity.issuer,
            Identity.subject == identity.subject,
        )
    )
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        who = identity.email or "This account"
        raise Problem(
            403,
            "user_not_provisioned",
            "Not provisioned",
            detail=f"{who} signed in with {PROVIDER_NAMES[identity.provider]}, but no ikan "
            "account is linked to it. Ask an ikan admin to provision you with issuer "
            f"{identity.issuer} and subject {identity.subject}.",
            issuer=identity.issuer,
            subject=identity.subject,
        )
    return user


def refusal(error: IdentityError) -> Problem:
    """The problem+json for a refused ID token: the verifier's code, a sentence for people."""
    status = ERROR_CODES.get(error.code, (401, ""))[0]
    return Problem(
        status,
        error.code,
        TITLES.get(status, "Sign-in refused"),
        detail=DETAILS.get(error.code, error.detail),
    )


def _record_use(session: Session, identity: VerifiedIdentity, config: ProviderConfig) -> None:
    """Remember the token until it could no longer pass the expiry check, or refuse a replay."""
    leeway = timedelta(seconds=config.leeway_seconds)
    session.add(
        UsedToken(
            kind=ID_TOKEN_KIND,
            value_hash=identity.token_hash,
            expires_at=identity.expires_at + leeway,
        )
    )
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Problem(
            401,
            "id_token_replayed",
            "Sign-in refused",
            detail="This sign-in was already used; sign in again.",
        ) from None


def _spend_nonce(session: Session, raw: str, now: datetime) -> None:
    """Delete the unspent nonce row; finding none means unknown, expired or already spent."""
    result = session.execute(
        delete(UsedToken).where(
            UsedToken.kind == NONCE_KIND,
            UsedToken.value_hash == nonce_hash(raw),
            UsedToken.expires_at > now,
        )
    )
    if result.rowcount != 1:
        raise Problem(
            401,
            "nonce_invalid",
            "Sign-in refused",
            detail="This sign-in's nonce is unknown, expired or already used; sign in again.",
        )
