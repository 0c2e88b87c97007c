"""`ikan-console`: open the console on the sandbox or on a running platform."""

from __future__ import annotations

import argparse


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="ikan-console",
        description="ikan console: booking queues, audit undo and deletion requests for ikan "
        "Operations and Admin staff.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--sandbox",
        action="store_true",
        help="run the embedded sandbox platform with demo data (the default)",
    )
    target.add_argument(
        "--api-url",
        metavar="URL",
        help="connect to a running ikan platform (e.g. `ikan-platform serve`)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="sandbox database (default: SQLite under your user data directory)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ikan-console`."""
    args = build_parser().parse_args(argv)
    from ikan_console.api.client import PlatformClient
    from ikan_console.app import Connection, IkanApp

    if args.api_url:
        url = args.api_url
        if not url.startswith(("http://127.", "http://localhost", "https://")):
            print("ikan-console: a non-loopback API URL must use https://")
            return 2
        connection = Connection(
            environment=_env_name(url),
            describe=url,
            open_client=lambda: PlatformClient(url),
            production=url.startswith("https://"),
        )
    else:

        def open_sandbox() -> PlatformClient:
            from ikan_console.sandbox import start_sandbox

            sandbox = start_sandbox(args.database_url)
            return PlatformClient(sandbox.url)

        connection = Connection(
            environment="SANDBOX", describe="embedded, on loopback", open_client=open_sandbox
        )
    IkanApp(connection).run()
    return 0


def _env_name(url: str) -> str:
    return "LOCAL" if url.startswith("http://") else url.split("//", 1)[1].split("/", 1)[0].upper()


if __name__ == "__main__":
    raise SystemExit(main())
