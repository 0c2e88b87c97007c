"""Typed settings for the reference platform, read from IKAN_PLATFORM_* environment variables.

Identity providers are enabled by their settings: Entra ID when both `entra_client_ids` and
`entra_tenant_ids` are set, Google Workspace when `google_client_ids` and `google_allowed_domains`
are, a generic OpenID Connect provider when `oidc_issuer`, `oidc_jwks_url` and `oidc_client_ids`
are. List settings accept a comma-separated string in the environment, e.g.
``IKAN_PLATFORM_ENTRA_TENANT_IDS=7c1e4f2a-...,9d2f5a3b-...``. A half-configured provider is an
error at start-up, never a provider that quietly accepts anyone (docs/auth.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from ikan_platform.identity import ProviderConfig

ENTRA_AUTHORITY_BASE = "https://login.microsoftonline.com"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
# Comma-separated in the environment; pydantic-settings would otherwise expect JSON.
Names = Annotated[tuple[str, ...], NoDecode]


def default_database_url() -> str:
    """SQLite file under the user data directory: the sandbox's home when no URL is given."""
    import platformdirs

    path = Path(platformdirs.user_data_dir("ikan-platform")) / "sandbox.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def utc_now() -> datetime:
    """The server clock: timezone-aware UTC."""
    return datetime.now(UTC)


class PlatformSettings(BaseSettings):
    """How one platform process runs."""

    model_config = SettingsConfigDict(env_prefix="IKAN_PLATFORM_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    """SQLAlchemy URL; SQLite for the sandbox, postgresql+psycopg://... in production."""

    sandbox: bool = False
    """Sandbox mode: enables `GET /v1/sandbox/users` and the `sandbox` sign-in provider."""

    token_secret: str | None = None
    """HMAC key for access tokens and cursors; when unset, one is generated and kept in the database
    so that every process on the same database agrees."""

    access_token_ttl_seconds: int = 900
    """Lifetime of a platform access token (15 minutes)."""

    refresh_token_ttl_seconds: int = 8 * 3600
    """Lifetime of a platform refresh token (one working day)."""

    undo_window_seconds: int = 24 * 3600
    """How long a destructive write stays reversible."""

    clock: Callable[[], datetime] = Field(default=utc_now, exclude=True)
    """The server clock; tests inject a fixed or movable one."""

    entra_client_ids: Names = ()
    """Application (client) IDs of the console's Entra app registration: the accepted `aud`."""

    entra_tenant_ids: Names = ()
    """Directory (tenant) IDs whose users may sign in; tokens from any other tenant are refused."""

    entra_authority_base: str = ENTRA_AUTHORITY_BASE
    """Entra login host (national clouds differ); issuer and keys are `<base>/<tenant>/...`."""

    google_client_ids: Names = ()
    """OAuth client IDs of the console's Google "Desktop app" client: the accepted `aud`."""

    google_allowed_domains: Names = ()
    """Google Workspace domains (`hd` claim) whose users may sign in."""

    google_issuers: Names = GOOGLE_ISSUERS
    """Accepted Google issuers; change only to point at a test provider."""

    google_jwks_url: str = GOOGLE_JWKS_URL
    """Where Google publishes its signing keys; change only to point at a test provider."""

    oidc_issuer: str | None = None
    """Issuer of a generic OpenID Connect provider (provider `oidc`), matched exactly."""

    oidc_jwks_url: str | None = None
    """JWKS URL of the generic OpenID Connect provider."""

    oidc_client_ids: Names = ()
    """Accepted audiences for the generic OpenID Connect provider."""

    oidc_require_nonce: bool = False
    """Require a platform-issued nonce (`GET /v1/auth/nonce`) for the generic provider too."""

    idp_ca_bundle: str | None = None
    """CA file for reaching identity providers behind a private CA (a TLS proxy, or tests)."""

    nonce_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    """How long a sign-in nonce from `GET /v1/auth/nonce` stays usable (once)."""

    @field_validator(
        "entra_client_ids",
        "entra_tenant_ids",
        "google_client_ids",
        "google_allowed_domains",
        "google_issuers",
        "oidc_client_ids",
        mode="before",
    )
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _providers_are_complete(self) -> PlatformSettings:
        """Fail at start-up on a half-configured provider (it would refuse or admit everyone)."""
        self.identity_providers()
        return self

    def identity_providers(self) -> dict[str, ProviderConfig]:
        """The enabled providers by exchange `provider` name, built from these settings."""
        from ikan_platform.identity import (
            EntraProviderConfig,
            GoogleProviderConfig,
            OidcProviderConfig,
        )

        providers: dict[str, ProviderConfig] = {}
        ca = self.idp_ca_bundle
        if self.entra_client_ids or self.entra_tenant_ids:
            if not (self.entra_client_ids and self.entra_tenant_ids):
                raise ValueError("Entra ID needs both entra_client_ids and entra_tenant_ids")
            providers["entra"] = EntraProviderConfig(
                client_ids=self.entra_client_ids,
                tenant_ids=tuple(t.lower() for t in self.entra_tenant_ids),
                authority_base=self.entra_authority_base,
                ca_bundle=ca,
            )
        if self.google_client_ids or self.google_allowed_domains:
            if not (self.google_client_ids and self.google_allowed_domains):
                raise ValueError("Google needs both google_client_ids and google_allowed_domains")
            providers["google"] = GoogleProviderConfig(
                client_ids=self.google_client_ids,
                allowed_domains=tuple(d.lower() for d in self.google_allowed_domains),
                issuers=self.google_issuers,
                jwks_endpoint=self.google_jwks_url,
                ca_bundle=ca,
            )
        if self.oidc_issuer or self.oidc_jwks_url or self.oidc_client_ids:
            if not (self.oidc_issuer and self.oidc_jwks_url and self.oidc_client_ids):
                raise ValueError("OIDC needs oidc_issuer, oidc_jwks_url and oidc_client_ids")
            providers["oidc"] = OidcProviderConfig(
                client_ids=self.oidc_client_ids,
                issuer=self.oidc_issuer,
                jwks_endpoint=self.oidc_jwks_url,
                require_nonce=self.oidc_require_nonce,
                ca_bundle=ca,
            )
        return providers
