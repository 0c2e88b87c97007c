"""`ikan-console`: the console on a profile, plus `profiles`, `login`, `logout` and `whoami`.

Without a config file the only profile is the built-in ``sandbox`` (the embedded platform), so
`ikan-console` alone still opens the sandbox. `login` runs the same sign-in as the TUI in the
terminal: the browser URL or the device code is printed, Ctrl-C cancels.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
AD_HOC_PROFILE = "api-url"  # the profile `--api-url URL` makes up; the header names its host


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: on a subcommand the options override the top-level ones only when given.
    common.add_argument(
        "--profile", metavar="NAME", default=argparse.SUPPRESS, help="profile to use"
    )
    common.add_argument(
        "--config",
        metavar="PATH",
        type=Path,
        default=argparse.SUPPRESS,
        help="config file (default: config.toml in your user config directory)",
    )
    parser = argparse.ArgumentParser(
        prog="ikan-console",
        parents=[common],
        description="ikan console: booking queues, audit undo and deletion requests for ikan "
        "Operations and Admin staff.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--sandbox",
        action="store_true",
        help="run the embedded sandbox platform with demo data (the default without a config)",
    )
    target.add_argument(
        "--api-url",
        metavar="URL",
        help="connect to a running sandbox platform (e.g. `ikan-platform serve --sandbox`)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        help="look without changing anything: no write is offered or sent (any profile)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="sandbox database (default: SQLite under your user data directory)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("profiles", parents=[common], help="list the profiles and the default one")
    login = sub.add_parser("login", parents=[common], help="sign in and keep the session")
    how = login.add_mutually_exclusive_group()
    how.add_argument("--device-code", dest="method", action="store_const", const="device_code")
    how.add_argument("--browser", dest="method", action="store_const", const="browser")
    sub.add_parser("logout", parents=[common], help="revoke the session and delete its tokens")
    sub.add_parser("whoami", parents=[common], help="who is signed in on the profile")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ikan-console`."""
    from ikan_console.auth.redaction import configure_logging
    from ikan_console.config import ConfigError

    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings, profiles = _load(args)
        if args.command == "profiles":
            return _print_profiles(args, settings, profiles)
        profile = _profile(args, settings, profiles)
    except ConfigError as error:
        print(f"ikan-console: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.command is None:
        return _run_tui(args, settings, profile, profiles)
    from ikan_console import session_cli

    if profile.idp.kind == "sandbox":
        print(
            f"Profile {profile.name} uses the sandbox: it has no stored sign-in. Run "
            "`ikan-console` and pick a user.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    run = {
        "login": session_cli.login,
        "logout": session_cli.logout,
        "whoami": session_cli.whoami,
    }[args.command]
    try:
        return asyncio.run(run(profile, settings, getattr(args, "method", None) or "auto"))
    except KeyboardInterrupt:
        print("\nCancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED


def _load(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from ikan_console.config import load_settings

    return load_settings(getattr(args, "config", None))


def _profile(args: argparse.Namespace, settings: Any, profiles: dict[str, Any]) -> Any:
    """The profile named on the command line, an ad-hoc one for --api-url, or the default."""
    from pydantic import ValidationError

    from ikan_console.config import SANDBOX_PROFILE, ConfigError, Profile

    if args.sandbox:
        return profiles[SANDBOX_PROFILE]
    if args.api_url:
        try:
            return Profile(name=AD_HOC_PROFILE, api_url=args.api_url, colour="yellow")
        except ValidationError as error:
            raise ConfigError(error.errors()[0]["msg"].removeprefix("Value error, ")) from None
    name = getattr(args, "profile", None) or settings.default_profile
    if name not in profiles:
        raise ConfigError(f"No profile {name!r}; known profiles: {', '.join(sorted(profiles))}")
    return profiles[name]


def _print_profiles(args: argparse.Namespace, settings: Any, profiles: dict[str, Any]) -> int:
    from ikan_console.config import default_config_path

    path = getattr(args, "config", None) or default_config_path()
    note = "" if path.exists() else "  (not found: only the built-in sandbox)"
    print(f"config: {path}{note}")
    for name, profile in sorted(profiles.items()):
        default = "*" if name == settings.default_profile else " "
        idp = profile.idp
        if idp.kind == "entra":
            how = f"Entra ID, tenant {idp.tenant_id}"
        elif idp.kind == "google":
            how = f"Google Workspace ({', '.join(idp.allowed_domains)})"
        else:
            how = "sandbox users"
        flags = [f for f, on in (("PRODUCTION", profile.is_production),) if on]
        flags += ["read-only"] if profile.read_only else []
        shown = "embedded" if name == "sandbox" else profile.api_url
        print(f"{default} {name:<14} {shown:<32} {how}  {' '.join(flags)}".rstrip())
    return EXIT_OK


def _run_tui(
    args: argparse.Namespace, settings: Any, profile: Any, profiles: dict[str, Any]
) -> int:
    from ikan_console.app import IkanApp

    connection = connection_for(args, settings, profile, profiles)
    IkanApp(connection).run()
    if connection.keeper is not None:
        connection.keeper.close()
    return EXIT_OK


def connection_for(
    args: argparse.Namespace, settings: Any, profile: Any, profiles: dict[str, Any]
) -> Any:
    """Where the TUI connects for this profile, and how (nothing is opened yet)."""
    from ikan_console.api.client import PlatformClient
    from ikan_console.app import Connection
    from ikan_console.config import SANDBOX_PROFILE

    if profile.name == SANDBOX_PROFILE:

        def open_sandbox() -> PlatformClient:
            from ikan_console.sandbox import start_sandbox

            sandbox = start_sandbox(args.database_url)
            return PlatformClient(sandbox.url)

        connection = Connection(
            environment="SANDBOX", describe="embedded, on loopback", open_client=open_sandbox
        )
    elif profile.idp.kind == "sandbox":
        url = profile.api_url
        ad_hoc = profile.name == AD_HOC_PROFILE
        connection = Connection(
            # A named profile is called what its config calls it, like the signed-in ones.
            environment=_env_name(url) if ad_hoc else profile.name.upper(),
            describe=url,
            open_client=lambda: PlatformClient(url),
            # An ad-hoc https URL is treated as production: better loud than wrong.
            production=profile.is_production or url.startswith("https://"),
            colour=None if ad_hoc else profile.colour,
        )
    else:
        from ikan_console.session import SessionKeeper

        keeper = SessionKeeper(
            profile,
            allow_insecure_file=settings.insecure_token_file,
            other_profiles=tuple(sorted(profiles)),
        )
        connection = Connection(
            environment=profile.name.upper(),
            describe=profile.api_url,
            open_client=lambda: keeper.connect(profile.api_url),
            production=profile.is_production,
            colour=profile.colour,
            keeper=keeper,
        )
    connection.read_only = profile.read_only or args.read_only
    return connection


def _env_name(url: str) -> str:
    return "LOCAL" if url.startswith("http://") else url.split("//", 1)[1].split("/", 1)[0].upper()


if __name__ == "__main__":
    raise SystemExit(main())
