"""BENCHMARK FIXTURE ONLY: bulk-loads 100,000 bookings and 1,000,000 audit events, fast.

This is not how the platform writes. Rows go straight into the tables (sqlite3 executemany,
PostgreSQL COPY), past the ORM and the audit path, so that a million events load in about a
minute instead of hours. They have the shapes the platform writes (booking snapshots as before and
after, real action names and actors, ids rising with time, some undos) so that pages read and
serialise as they would in production. Never point this at a database that matters.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, text

from ikan_platform import seed_data as data
from ikan_platform.models import AuditEvent, Booking
from ikan_platform.schema import migrate

ANCHOR = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # the tests' frozen "now"
HISTORY = timedelta(days=365)
BATCH = 20_000
MARKER = "benchmark_fixture"
CHANGES = (  # (action, weight, new status or None)
    ("booking.send_to_supplier", 20, "awaiting_supplier"),
    ("booking.claim", 18, None),
    ("booking.confirm", 16, "confirmed"),
    ("booking.release", 6, None),
    ("booking.assign", 8, None),
    ("booking.decline", 6, "needs_attention"),
    ("booking.escalate", 5, "needs_attention"),
    ("booking.hold", 6, "on_hold"),
    ("booking.resume", 5, "awaiting_supplier"),
    ("booking.cancel", 4, "cancelled"),
)
STATUSES = ("new", "awaiting_supplier", "needs_attention", "confirmed", "on_hold", "cancelled")
BOOKING_COLUMNS = [c.name for c in Booking.__table__.columns]
AUDIT_COLUMNS = [c.name for c in AuditEvent.__table__.columns]


def _staff() -> list[dict[str, Any]]:
    return [
        {"id": i + 1, "email": email, "role": role}
        for i, (email, _name, role, _client, _supplier) in enumerate(data.STAFF)
    ]


def _booking(rng: random.Random, n: int) -> dict[str, Any]:
    client = rng.randrange(len(data.CLIENTS))
    supplier = rng.randrange(len(data.SUPPLIERS))
    (home, _, _), (city, currency, base) = rng.sample(data.CITIES, 2)
    first, last = rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES)
    check_in = ANCHOR.date() + timedelta(days=rng.randint(-30, 120))
    created = ANCHOR - timedelta(minutes=rng.randint(60, 60 * 24 * 364))
    return {
        "id": n + 1,
        "reference": f"BK-{200000 + n}",
        "client_id": client + 1,
        "traveller_name": f"{first} {last}",
        "traveller_email": f"{first}.{last}{n}@client{client}.example".lower().replace("'", ""),
        "home_city": home,
        "destination_city": city,
        "accommodation_type": data.SUPPLIERS[supplier][2],
        "property_name": f"{rng.choice(data.PROPERTY_WORDS)} {city}",
        "supplier_id": supplier + 1,
        "check_in": check_in,
        "check_out": check_in + timedelta(days=rng.choice((14, 28, 30, 60, 90))),
        "nightly_rate_minor": base * 100,
        "currency": currency,
        "priority": rng.choices(("low", "normal", "high", "urgent"), (15, 55, 22, 8))[0],
        "status": rng.choices(STATUSES, (20, 25, 11, 33, 6, 5))[0],
        # Minute resolution over two months: ties in (sla_due_at) exist, as in real queues.
        "sla_due_at": ANCHOR + timedelta(minutes=rng.randint(-30 * 1440, 30 * 1440)),
        "assignee_id": rng.choice((None, None, 1, 2, 3, 4)),
        "supplier_reference": None,
        "status_reason": None,
        "escalated": False,
        "sent_to_supplier_at": None,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }


def _snapshot(booking: dict[str, Any]) -> dict[str, Any]:
    state = {k: v for k, v in booking.items() if k not in ("created_at", "updated_at")}
    for key in ("check_in", "check_out", "sla_due_at"):
        state[key] = state[key].isoformat()
    return state


def _events(
    bookings: Sequence[dict[str, Any]], total: int, rng: random.Random
) -> Iterator[tuple[Any, ...]]:
    """Events in id order: round 0 creates every booking, later rounds change them."""
    staff = _staff()
    ops = [u for u in staff if u["role"] in ("operations", "admin")]
    system = {"id": None, "email": "system@ikan.internal", "role": "system"}
    start, step = ANCHOR - HISTORY, HISTORY / total
    actions = [c for c in CHANGES for _ in range(c[1])]
    states = [_snapshot(b) for b in bookings]
    last_json: list[str | None] = [None] * len(bookings)
    for event_id in range(1, total + 1):
        index = (event_id - 1) % len(bookings)
        state = states[index]
        before = last_json[index]
        reverts = None
        if before is None:
            action, actor = "booking.create", system
        elif event_id > 2 * len(bookings) and rng.random() < 0.01:
            action, actor, reverts = "undo", rng.choice(ops), event_id - len(bookings)
        else:
            action, _, status = rng.choice(actions)
            actor = rng.choice(ops)
            if status:
                state["status"] = status
            if action in ("booking.claim", "booking.assign"):
                state["assignee_id"] = actor["id"]
            elif action == "booking.release":
                state["assignee_id"] = None
        state["version"] += before is not None
        after = json.dumps(state, separators=(",", ":"))
        last_json[index] = after
        yield (
            event_id,
            start + step * event_id,
            actor["id"],
            actor["email"],
            actor["role"],
            action,
            "booking",
            str(state["id"]),
            before,
            after,
            f"bench-{event_id:010x}",
            "Supplier asked for new dates" if action in ("booking.hold", "undo") else None,
            reverts,
        )


def _naive(value: Any) -> Any:
    return value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy's SQLite DateTime/Date/Boolean would store, so comparisons match."""
    if isinstance(value, datetime):
        value = _naive(value)
        return f"{value:%Y-%m-%d %H:%M:%S}.{value.microsecond:06d}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _load(engine: Engine, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(tuple(_naive(v) for v in row))
        else:
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            for batch in _batches(rows):
                cursor.executemany(
                    statement, [tuple(_sqlite_value(v) for v in row) for row in batch]
                )
        raw.commit()
    finally:
        raw.close()


def _secondary_indexes(engine: Engine, table: str) -> list[tuple[str, str]]:
    """(name, CREATE statement) of a table's indexes other than its primary key and uniques."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT i.indexname, i.indexdef FROM pg_indexes i"
                    " JOIN pg_class c ON c.relname = i.indexname"
                    " JOIN pg_index x ON x.indexrelid = c.oid"
                    " WHERE i.tablename = :t AND NOT x.indisunique"
                ),
                {"t": table},
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT name, sql FROM sqlite_master"
                    " WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
                ),
                {"t": table},
            )
        return [(name, sql) for name, sql in rows]


def is_loaded(engine: Engine, bookings: int, events: int) -> bool:
    """True when the database already holds this fixture at this size."""
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT value FROM server_settings WHERE key = :k"), {"k": MARKER}
        ).scalar()
    return value == f"{bookings}:{events}"


def load(engine: Engine, bookings: int, events: int, seed: int = 11) -> None:
    """Migrate an empty database and fill it with the fixture (indexes built after the load)."""
    migrate(engine)
    with engine.connect() as connection:
        if connection.scalar(select(func.count()).select_from(Booking)):
            raise SystemExit("the database is not empty; give an empty one (or --reuse)")
    rng = random.Random(seed)
    rows = [_booking(rng, n) for n in range(bookings)]
    indexes = {t: _secondary_indexes(engine, t) for t in ("bookings", "audit_events")}
    with engine.begin() as connection:
        for name, _ in indexes["bookings"] + indexes["audit_events"]:
            connection.execute(text(f'DROP INDEX "{name}"'))
        for i, (name, _kind, _offer) in enumerate(data.SUPPLIERS):
            connection.execute(
                text("INSERT INTO suppliers (id, name, kind) VALUES (:i, :n, :k)"),
                {"i": i + 1, "n": name, "k": _kind},
            )
        for i, name in enumerate(data.CLIENTS):
            connection.execute(
                text("INSERT INTO clients (id, name) VALUES (:i, :n)"), {"i": i + 1, "n": name}
            )
        for i, (email, name, role, client, supplier) in enumerate(data.STAFF):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, active, client_id, supplier_id,"
                    " version, created_at) VALUES (:i, :e, :n, :r, :a, :c, :s, 1, :t)"
                ),
                {
                    "i": i + 1,
                    "e": email,
                    "n": name,
                    "r": role,
                    "a": True,
                    "c": None if client is None else client + 1,
                    "s": None if supplier is None else supplier + 1,
                    "t": _sqlite_value(ANCHOR)
                    if engine.dialect.name == "sqlite"
                    else _naive(ANCHOR),
                },
            )
    _load(engine, "bookings", BOOKING_COLUMNS, (tuple(b[c] for c in BOOKING_COLUMNS) for b in rows))
    _load(engine, "audit_events", AUDIT_COLUMNS, _events(rows, events, rng))
    with engine.begin() as connection:
        for _, create in indexes["bookings"] + indexes["audit_events"]:
            connection.execute(text(create))
        if engine.dialect.name == "postgresql":
            for table in ("clients", "suppliers", "users", "bookings", "audit_events"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT max(id) FROM {table}))"
                    )
                )
        connection.execute(
            text("INSERT INTO server_settings (key, value) VALUES (:k, :v)"),
            {"k": MARKER, "v": f"{bookings}:{events}"},
        )
    analyze(engine)


def analyze(engine: Engine) -> None:
    """Fresh planner statistics (and on PostgreSQL a visibility map for index-only scans)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
