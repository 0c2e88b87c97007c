"""How fast the platform serves a page at scale: 1,000,000 audit events, 100,000 bookings.

Run by hand, never in the test suite (about 3-6 minutes a database on 2 cores):

    .venv/bin/python -m benchmarks.platform_pages --sqlite /tmp/ikan_bench.db
    .venv/bin/python -m benchmarks.platform_pages \
        --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    # add --reuse to keep the loaded data for the next run, --bookings/--events to scale down

It loads the data with `bulk_fixture` (a benchmark fixture, not the platform's write path), then
sends each request through the real ASGI app in-process and times the app itself: routing, the
bearer-token check, the queries and the JSON, not the HTTP client. Each scenario runs a few
warm-up requests, then `--samples` timed ones, in `--rounds` rounds; p50 and p95 are printed as a
Markdown table for docs/benchmarks.md. PostgreSQL runs use their own database (ikan_bench),
dropped afterwards unless --reuse.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, make_url, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from benchmarks import bulk_fixture
from ikan_platform.app import create_app
from ikan_platform.db import make_engine
from ikan_platform.models import AuditEvent, Booking
from ikan_platform.pagination import encode_cursor
from ikan_platform.schema import migrate
from ikan_platform.services import bookings as rules
from ikan_platform.settings import PlatformSettings

GOAL_MS = 10.0
ROUND_BUDGET_S = 4.0
MIN_SAMPLES = 20
OPERATOR = "priya.nair@ikan.example"
BENCH_DATABASE = "ikan_bench"


class Timed:
    """ASGI wrapper that records how long the app takes to answer each request."""

    def __init__(self, app: Any) -> None:
        """Wrap `app`."""
        self.app = app
        self.seconds: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Run the app and record its time."""
        started = time.perf_counter()
        await self.app(scope, receive, send)
        self.seconds.append(time.perf_counter() - started)


def _deep_key(engine: Engine, query: Any, depth: int) -> Any:
    """The sort key `depth` rows into a list (half-way in, for a list shorter than that)."""
    with engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(query.subquery()))
        return connection.execute(query.offset(min(depth, count // 2)).limit(1)).first()


def scenarios(engine: Engine, secret: str, events: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, path, query parameters) of every measured page; deep cursors are built here."""
    now = bulk_fixture.ANCHOR
    day = now - timedelta(days=200)
    window = {"since": day.isoformat(), "until": (day + timedelta(days=1)).isoformat()}
    deep = events // 2

    def audit_cursor(depth: int, *conditions: Any, **filters: Any) -> str:
        row = _deep_key(
            engine,
            select(AuditEvent.id).where(*conditions).order_by(AuditEvent.id.desc()),
            depth,
        )
        values = [filters.get(k) for k in ("entity_type", "entity_id", "actor_id", "action")]
        values += [None, filters.get("since"), filters.get("until")]
        return encode_cursor(secret, "audit:" + "|".join(str(v) for v in values), [row.id])

    def booking_cursor(depth: int, queue: str | None, q: str | None) -> str:
        conditions = []
        if queue:
            conditions.append(rules.QUEUES_BY_ID[queue].condition(now))
        if q:
            with Session(engine) as session:
                conditions.append(rules.search_condition(q, rules.suppliers_matching(session, q)))
        row = _deep_key(
            engine,
            select(Booking.sla_due_at, Booking.id)
            .where(*conditions)
            .order_by(Booking.sla_due_at, Booking.id),
            depth,
        )
        return encode_cursor(secret, f"bookings:{queue}:{q}", [row[0].isoformat(), row[1]])

    since, until = day, day + timedelta(days=1)
    in_window = (AuditEvent.occurred_at >= since, AuditEvent.occurred_at < until)
    return [
        ("floor: GET /v1/me (auth only)", "/v1/me", {}),
        ("audit: first page", "/v1/audit-events", {}),
        ("audit: deep page (500,000 in)", "/v1/audit-events", {"cursor": audit_cursor(deep)}),
        (
            "audit: entity (one booking)",
            "/v1/audit-events",
            {"entity_type": "booking", "entity_id": "4242"},
        ),
        ("audit: actor, first page", "/v1/audit-events", {"actor_id": 2}),
        (
            "audit: actor, deep page",
            "/v1/audit-events",
            {
                "actor_id": 2,
                "cursor": audit_cursor(deep // 8, AuditEvent.actor_id == 2, actor_id=2),
            },
        ),
        ("audit: action, first page", "/v1/audit-events", {"action": "booking.cancel"}),
        (
            "audit: action, deep page",
            "/v1/audit-events",
            {
                "action": "booking.cancel",
                "cursor": audit_cursor(
                    deep // 25, AuditEvent.action == "booking.cancel", action="booking.cancel"
                ),
            },
        ),
        ("audit: one day, first page", "/v1/audit-events", window),
        (
            "audit: one day, deep page",
            "/v1/audit-events",
            {**window, "cursor": audit_cursor(2000, *in_window, since=since, until=until)},
        ),
        ("audit: actor + action", "/v1/audit-events", {"actor_id": 2, "action": "booking.hold"}),
        ("audit: actor + one day", "/v1/audit-events", {"actor_id": 2, **window}),
        ("bookings: first page", "/v1/bookings", {}),
        (
            "bookings: deep page (50,000 in)",
            "/v1/bookings",
            {"cursor": booking_cursor(50_000, None, None)},
        ),
        ("bookings: queue new", "/v1/bookings", {"queue": "new"}),
        (
            "bookings: queue new, deep page",
            "/v1/bookings",
            {"queue": "new", "cursor": booking_cursor(10_000, "new", None)},
        ),
        ("bookings: search 'berlin'", "/v1/bookings", {"q": "berlin"}),
        (
            "bookings: search 'berlin', deep page",
            "/v1/bookings",
            {"q": "berlin", "cursor": booking_cursor(5_000, None, "berlin")},
        ),
        ("bookings: search 'BK-2471'", "/v1/bookings", {"q": "BK-2471"}),
        ("bookings: search a surname", "/v1/bookings", {"q": "okonkwo"}),
        ("queues with counts", "/v1/queues", {}),
    ]


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in seconds)
    return statistics.median(ms), ms[max(0, round(0.95 * len(ms)) - 1)]


async def measure(
    database_url: str, events: int, samples: int, warmup: int, rounds: int
) -> list[dict]:
    """Time every scenario against the app on `database_url`, in `rounds` interleaved rounds.

    The machine is shared: a colleague's test run can slow one round. Each scenario reports the
    round with the lowest p50 (its p50 and p95), and the p95 over all rounds for comparison.
    """
    settings = PlatformSettings(
        database_url=database_url, sandbox=True, clock=lambda: bulk_fixture.ANCHOR
    )
    app = create_app(settings)
    timed = Timed(app)
    transport = httpx.ASGITransport(app=timed)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        signed_in = await client.post(
            "/v1/auth/exchange", json={"provider": "sandbox", "id_token": OPERATOR}
        )
        auth = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        plan = scenarios(app.state.engine, app.state.secret, events)
        timings: dict[str, list[list[float]]] = {name: [] for name, _, _ in plan}
        for _ in range(rounds):
            for name, path, params in plan:
                timed.seconds.clear()
                deadline = time.perf_counter() + ROUND_BUDGET_S
                # A slow page gets fewer samples, so a whole run stays within minutes.
                while len(timed.seconds) < warmup + samples and (
                    len(timed.seconds) < warmup + MIN_SAMPLES or time.perf_counter() < deadline
                ):
                    response = await client.get(path, params=params, headers=auth)
                    if response.status_code != 200:
                        raise SystemExit(f"{name}: {response.status_code} {response.text[:300]}")
                timings[name].append(timed.seconds[warmup:])
    app.state.engine.dispose()
    results = []
    for name, per_round in timings.items():
        p50, p95 = min((_percentiles(r) for r in per_round), key=lambda pair: pair[0])
        _, overall = _percentiles([s for r in per_round for s in r])
        results.append({"name": name, "p50": p50, "p95": p95, "p95_all": overall})
        print(f"  {name:<40} p50 {p50:7.1f}  p95 {p95:7.1f}  p95 all rounds {overall:7.1f} ms")
    return results


def _postgres_database(admin_url: str, reuse: bool) -> tuple[str, Callable[[], None]]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": BENCH_DATABASE}
        ).scalar()
        if exists and not reuse:
            connection.execute(text(f"DROP DATABASE {BENCH_DATABASE} WITH (FORCE)"))
        if not exists or not reuse:
            connection.execute(text(f"CREATE DATABASE {BENCH_DATABASE}"))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)"))
        admin.dispose()

    url = make_url(admin_url).set(database=BENCH_DATABASE)
    return url.render_as_string(hide_password=False), drop


def machine(engine: Engine) -> str:
    """The facts a reader needs to compare these numbers with their own."""
    import os

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            database = connection.execute(text("SHOW server_version")).scalar()
            database = f"PostgreSQL {database}"
        else:
            database = f"SQLite {sqlite3.sqlite_version}"
    return (
        f"{os.cpu_count()} cores ({cpu}), {int(memory) // 1024 // 1024} GiB,"
        f" Python {platform.python_version()}, {database}"
    )


def main(argv: list[str] | None = None) -> int:
    """Load (or reuse) the data, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--sqlite", type=Path, help="SQLite file to create (or reuse)")
    where.add_argument("--postgres", help="URL of a PostgreSQL maintenance database")
    parser.add_argument("--bookings", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep and reuse the loaded data")
    args = parser.parse_args(argv)

    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if args.postgres:
        url, drop = _postgres_database(args.postgres, args.reuse)
        cleanup = (lambda: None) if args.reuse else drop
    else:
        if args.sqlite.exists() and not args.reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{args.sqlite}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{args.sqlite}"
    engine = make_engine(url)
    try:
        print(machine(engine))
        migrate(engine)
        if args.reuse and bulk_fixture.is_loaded(engine, args.bookings, args.events):
            print("reusing the loaded data")
        else:
            started = time.perf_counter()
            bulk_fixture.load(engine, args.bookings, args.events)
            print(f"loaded in {time.perf_counter() - started:.0f} s")
        engine.dispose()
        results = asyncio.run(measure(url, args.events, args.samples, args.warmup, args.rounds))
    finally:
        engine.dispose()
        cleanup()
    print("\n| page | p50 ms | p95 ms | p95 all rounds | goal |")
    print("| --- | ---: | ---: | ---: | --- |")
    for r in results:
        verdict = "met" if r["p95"] <= GOAL_MS else "**missed**"
        print(f"| {r['name']} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p95_all']:.1f} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
