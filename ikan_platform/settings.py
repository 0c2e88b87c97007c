"""Typed settings for the reference platform, read from IKAN_PLATFORM_* environment variables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
