"""Profiles: which platform the console talks to and how its users sign in.

Read from a TOML file at ``platformdirs.user_config_path("ikan-console")/config.toml`` and from
``IKAN_*`` environment variables (which win; nested keys use ``__``, e.g.
``IKAN_PROFILES__PROD__API_URL``). A built-in ``sandbox`` profile always exists. Example::

    default_profile = "prod"

    [profiles.prod]
    api_url = "https://api.ikan.example"
    colour = "red"

    [profiles.prod.idp]
    kind = "entra"
    tenant_id = "00000000-0000-0000-0000-000000000000"
    client_id = "11111111-1111-1111-1111-111111111111"

No Textual import here: the CLI's ``profiles`` subcommand and the App both read this module.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from rich.color import Color, ColorParseError

APP_NAME = "ikan-console"
SANDBOX_PROFILE = "sandbox"
SANDBOX_API_URL = "http://127.0.0.1:8000"
ENTRA_AUTHORITY_BASE = "https://login.microsoftonline.com"
PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MULTI_TENANT_AUTHORITIES = frozenset({"common", "organizations", "consumers"})


class ConfigError(Exception):
    """The configuration file or environment is invalid; the message is meant for the user."""


def default_config_path() -> Path:
    """Where the TOML file lives on this platform."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback IP literals (v4 127/8 and v6 ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SandboxIdp(BaseModel):
    """The in-process sandbox: pick a seeded user, no identity provider involved."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sandbox"] = "sandbox"
    """Discriminator."""


class EntraIdp(BaseModel):
    """Microsoft Entra ID through a single-tenant public client app registration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["entra"] = "entra"
    """Discriminator."""

    tenant_id: str
    """Directory (tenant) ID, a GUID; never ``common``/``organizations`` for an internal tool."""

    client_id: str
    """Application (client) ID of the console's app registration."""

    authority_base: str = ENTRA_AUTHORITY_BASE
    """Login host; change only for national clouds (or tests)."""

    @field_validator("tenant_id")
    @classmethod
    def _tenant_is_guid(cls, value: str) -> str:
        if value.lower() in MULTI_TENANT_AUTHORITIES:
            raise ValueError(
                f"tenant_id {value!r} would admit other organisations; use your tenant's GUID "
                "(Entra admin centre > Overview > Tenant ID)"
            )
        if not GUID.match(value):
            raise ValueError(f"tenant_id {value!r} must be the tenant's GUID")
        return value.lower()

    @field_validator("authority_base")
    @classmethod
    def _authority_is_https(cls, value: str) -> str:
        if urlsplit(value).scheme != "https":
            raise ValueError(f"{value!r} must be an https:// URL")
        return value.rstrip("/")


class GoogleIdp(BaseModel):
    """Google Workspace through a "Desktop app" OAuth client."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["google"] = "google"
    """Discriminator."""

    client_id: str
    """OAuth client ID (``....apps.googleusercontent.com``)."""

    client_secret: str
    """The desktop client's "secret"; Google documents it as not confidential for installed apps."""

    allowed_domains: tuple[str, ...] = Field(min_length=1)
    """Workspace domains (``hd`` claim) accepted; checked here early and by the platform."""

    @field_validator("allowed_domains")
    @classmethod
    def _lowercase_domains(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(domain.strip().lower() for domain in value)


Idp = Annotated[SandboxIdp | EntraIdp | GoogleIdp, Field(discriminator="kind")]


class Profile(BaseModel):
    """One environment the console can connect to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    """Profile name, shown in the header; lowercase letters, digits, ``-`` and ``_``."""

    api_url: str
    """Base URL of the platform API; https unless it is a loopback address."""

    idp: Idp = Field(default_factory=SandboxIdp)
    """How users of this profile sign in."""

    colour: str = "green"
    """Header colour (a colour name or ``#rrggbb``); make production loud, e.g. ``red``."""

    read_only: bool = False
    """When true the console offers no write actions for this profile."""

    production: bool | None = None
    """Mark as production; when unset it is derived (a non-loopback, non-sandbox profile)."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not PROFILE_NAME.match(value):
            raise ValueError(f"{value!r} must be 1-40 lowercase letters, digits, '-' or '_'")
        return value

    @field_validator("api_url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} must be an http(s) URL with a host")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise ValueError(
                f"{value!r} must use https:// - plain http is allowed only for "
                "loopback addresses (localhost, 127.0.0.1, ::1), because tokens travel over it"
            )
        return value.rstrip("/")

    @field_validator("colour")
    @classmethod
    def _known_colour(cls, value: str) -> str:
        try:
            Color.parse(value)
        except ColorParseError as exc:
            raise ValueError(f"{value!r} is not a colour name or #rrggbb") from exc
        return value

    @property
    def is_production(self) -> bool:
        """Explicit flag, else anything that is neither the sandbox nor on this machine."""
        if self.production is not None:
            return self.production
        host = urlsplit(self.api_url).hostname
        return self.idp.kind != "sandbox" and not is_loopback_host(host)


def sandbox_profile() -> Profile:
    """The built-in profile: the in-process sandbox platform (its URL is nominal)."""
    return Profile(name=SANDBOX_PROFILE, api_url=SANDBOX_API_URL, colour="green", production=False)


class ConsoleSettings(BaseSettings):
    """Everything read from the config file and ``IKAN_*`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="IKAN_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    default_profile: str = SANDBOX_PROFILE
    """Profile used when ``--profile`` is not given."""

    insecure_token_file: bool = False
    """Opt in to keeping tokens in a 0600 file when no usable OS keychain exists (less safe)."""

    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Profiles by name, validated into `Profile` by `load_settings`."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment first, then the TOML data (passed as init values); no .env files."""
        return (env_settings, init_settings)


def load_settings(path: Path | None = None) -> tuple[ConsoleSettings, dict[str, Profile]]:
    """Read the TOML file (missing is fine) and environment; raise `ConfigError` when invalid."""
    path = path or default_config_path()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
            raise ConfigError(f"Cannot read {path}: {exc}") from exc
    try:
        settings = ConsoleSettings(**data)
    except ValidationError as exc:
        raise ConfigError(
            f"Invalid settings in {path} or IKAN_* variables:\n{_plain(exc)}"
        ) from exc

    profiles = {SANDBOX_PROFILE: sandbox_profile()}
    for name, fields in settings.profiles.items():
        try:
            profiles[name] = Profile.model_validate({**fields, "name": name})
        except ValidationError as exc:
            raise ConfigError(f"Profile {name!r} in {path} is invalid:\n{_plain(exc)}") from exc
    if settings.default_profile not in profiles:
        raise ConfigError(
            f"default_profile {settings.default_profile!r} is not defined; "
            f"known profiles: {', '.join(sorted(profiles))}"
        )
    return settings, profiles


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """All profiles by name, the built-in ``sandbox`` included; raise `ConfigError` when invalid."""
    return load_settings(path)[1]


def _plain(exc: ValidationError) -> str:
    """One line per problem, without pydantic's URLs, so the CLI can print it as is."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "profile"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)
