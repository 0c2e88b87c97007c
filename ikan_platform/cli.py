"""`ikan-platform`: serve the API, migrate the schema, seed demo data."""

from __future__ import annotations

import argparse
import sys

from ikan_platform.seed import DEFAULT_BOOKINGS, DEFAULT_SEED


def _settings(args: argparse.Namespace, **extra: object):  # type: ignore[no-untyped-def]
    from ikan_platform.settings import PlatformSettings

    overrides = {
        k: v for k, v in {"database_url": args.database_url, **extra}.items() if v is not None
    }
    return PlatformSettings(**overrides)


def prepare(settings, *, seed_if_empty: bool) -> None:  # type: ignore[no-untyped-def]
    """Migrate the schema and, for a sandbox, seed an empty database."""
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import is_seeded, seed

    engine = make_engine(settings.database_url)
    migrate(engine)
    if seed_if_empty:
        with make_sessionmaker(engine)() as session:
            if not is_seeded(session):
                seed(session)
    engine.dispose()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the API with uvicorn."""
    import uvicorn

    from ikan_platform.app import create_app

    settings = _settings(args, sandbox=args.sandbox or None)
    prepare(settings, seed_if_empty=settings.sandbox)
    mode = "sandbox" if settings.sandbox else "production"
    print(f"ikan platform ({mode}) on http://{args.host}:{args.port}", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema up to date."""
    prepare(_settings(args), seed_if_empty=False)
    print("schema is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Fill an empty database with deterministic demo data."""
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import is_seeded, seed

    settings = _settings(args)
    engine = make_engine(settings.database_url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        if is_seeded(session):
            print("the database already holds data; seed only an empty one", file=sys.stderr)
            return 1
        counts = seed(session, bookings=args.bookings, seed_value=args.seed)
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="ikan-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the API server")
    serve.add_argument(
        "--sandbox", action="store_true", help="sandbox mode: seeded demo data, sandbox sign-in"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.set_defaults(func=cmd_serve)
    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(func=cmd_migrate)
    seed = sub.add_parser("seed", help="fill an empty database with demo data")
    seed.add_argument("--bookings", type=int, default=DEFAULT_BOOKINGS)
    seed.add_argument("--seed", type=int, default=DEFAULT_SEED)
    seed.set_defaults(func=cmd_seed)
    for p in (serve, migrate, seed):
        p.add_argument(
            "--database-url", help="SQLAlchemy URL (default: SQLite under the user data directory)"
        )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of `ikan-platform`."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
