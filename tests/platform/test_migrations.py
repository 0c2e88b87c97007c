"""Alembic migrations: they build the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, inspect, text

from ikan_platform import cli, schema
from ikan_platform.db import Base, make_engine

REPO = Path(__file__).resolve().parents[2]
PLATFORM = REPO / "ikan_platform"
HOW_TO_MIGRATE = (
    "the models changed without a migration; generate one with\n"
    "  alembic -c ikan_platform/migrations/alembic.ini -x url=sqlite:///scratch.db upgrade head\n"
    "  alembic -c ikan_platform/migrations/alembic.ini -x url=sqlite:///scratch.db "
    "revision --autogenerate --rev-id NNNN -m '...'\n"
    "then review it. Differences:\n"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        url = request.getfixturevalue("empty_postgres_url")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_upgrade_on_an_empty_database_creates_every_table_at_head(empty_engine: Engine) -> None:
    schema.migrate(empty_engine)

    assert schema.current_revision(empty_engine) == schema.head_revision()
    assert _tables(empty_engine) == set(Base.metadata.tables) | {"alembic_version"}


def test_models_and_migrations_do_not_drift(empty_engine: Engine) -> None:
    schema.migrate(empty_engine)

    differences = schema.drift(empty_engine)

    assert differences == [], HOW_TO_MIGRATE + "\n".join(map(str, differences))


def test_drift_check_catches_a_model_change_that_has_no_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'drift.db'}")
    schema.migrate(engine)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["bookings"].append_column(Column("loyalty_tier", String(20), nullable=True))
    Table("deletion_outbox", changed, Column("id", Integer, primary_key=True))

    kinds = {diff[0] for diff in schema.drift(engine, changed) if isinstance(diff, tuple)}

    assert {"add_column", "add_table"} <= kinds
    engine.dispose()


def test_migrating_an_up_to_date_database_changes_nothing(empty_engine: Engine) -> None:
    schema.migrate(empty_engine)
    schema.migrate(empty_engine)

    assert schema.current_revision(empty_engine) == schema.head_revision()


def test_downgrade_to_base_and_upgrade_again(empty_engine: Engine) -> None:
    from alembic import command

    schema.migrate(empty_engine)
    with empty_engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "base")
    assert _tables(empty_engine) == {"alembic_version"}

    schema.migrate(empty_engine)
    assert schema.drift(empty_engine) == []


def test_a_sandbox_made_before_alembic_is_adopted_with_its_data(tmp_path: Path) -> None:
    from alembic import command

    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    # What create_all made before Alembic: the baseline tables, without a recorded revision.
    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), schema.BASELINE_REVISION)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(text("INSERT INTO clients (id, name) VALUES (1, 'Kept Ltd')"))

    schema.migrate(engine)

    assert schema.current_revision(engine) == schema.head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM clients")).scalar() == "Kept Ltd"
    engine.dispose()


def test_cli_migrate_brings_an_empty_database_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    assert cli.main(["migrate", "--database-url", url]) == 0

    assert "schema is up to date" in capsys.readouterr().out
    engine = make_engine(url)
    assert schema.current_revision(engine) == schema.head_revision()
    engine.dispose()


def test_every_file_migrate_needs_is_shipped_in_the_package() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["ikan_platform"]
    needed = [
        p.relative_to(PLATFORM).as_posix()
        for p in (PLATFORM / "migrations").rglob("*.py")
        if "__pycache__" not in p.parts
    ]

    missing = [f for f in needed if not any(fnmatch.fnmatch(f, g) for g in globs)]

    assert missing == []


def test_migrations_never_import_the_application() -> None:
    # A migration must build the schema as it was then; today's models may have moved on.
    versions = (PLATFORM / "migrations" / "versions").glob("*.py")
    importing = [p.name for p in versions if "ikan_platform" in p.read_text()]

    assert importing == []


def test_platform_code_never_creates_tables_outside_migrations() -> None:
    offenders = [
        p.relative_to(REPO).as_posix()
        for p in PLATFORM.rglob("*.py")
        if "create_all(" in p.read_text()
    ]

    assert offenders == []


def _migrate_to(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(schema.alembic_config(connection), revision)


def test_0004_fills_in_when_existing_bookings_were_sent_to_their_supplier(
    empty_engine: Engine,
) -> None:
    """Only bookings sent (or confirmed) and not since undone become visible to the supplier."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    _migrate_to(empty_engine, "0003")
    old = MetaData()
    old.reflect(empty_engine, only=["clients", "suppliers", "bookings", "audit_events"])
    t0 = datetime(2026, 11, 20, 8, 0)
    # booking id -> (status, its events as (event id, action, reverts event id))
    history: dict[int, tuple[str, list[tuple[int, str, int | None]]]] = {
        1: ("awaiting_supplier", [(1, "booking.send_to_supplier", None)]),
        2: ("on_hold", [(2, "booking.send_to_supplier", None), (3, "booking.hold", None)]),
        3: ("on_hold", [(4, "booking.hold", None)]),
        4: ("cancelled", [(5, "booking.send_to_supplier", None), (6, "undo", 5)]),
        5: ("needs_attention", [(7, "booking.send_to_supplier", None), (8, "undo", 7)]),
        6: ("confirmed", []),
        7: ("new", [(9, "booking.send_to_supplier", None), (10, "undo", 9)]),
        8: ("confirmed", [(11, "booking.confirm", None)]),
    }
    history[5][1].append((12, "undo", 8))  # the undo of the send was undone: sent again
    with empty_engine.begin() as connection:
        connection.execute(insert(old.tables["clients"]), [{"id": 1, "name": "Kept Ltd"}])
        connection.execute(
            insert(old.tables["suppliers"]), [{"id": 1, "name": "Stays", "kind": "hotel"}]
        )
        for booking_id, (status, events) in history.items():
            connection.execute(
                insert(old.tables["bookings"]),
                {
                    "id": booking_id,
                    "reference": f"BK-{booking_id}",
                    "client_id": 1,
                    "traveller_name": "A Traveller",
                    "traveller_email": f"t{booking_id}@example.org",
                    "home_city": "Berlin",
                    "destination_city": "Paris",
                    "accommodation_type": "Hotel",
                    "property_name": "Old Town",
                    "supplier_id": 1,
                    "check_in": t0.date(),
                    "check_out": t0.date() + timedelta(days=14),
                    "nightly_rate_minor": 10000,
                    "currency": "EUR",
                    "priority": "normal",
                    "status": status,
                    "sla_due_at": t0,
                    "escalated": False,
                    "version": 1 + len(events),
                    "created_at": t0,
                    "updated_at": t0 + timedelta(days=booking_id),
                },
            )
            for event_id, action, reverts in events:
                connection.execute(
                    insert(old.tables["audit_events"]),
                    {
                        "id": event_id,
                        "occurred_at": t0 + timedelta(hours=event_id),
                        "actor_email": "priya.nair@ikan.example",
                        "actor_role": "operations",
                        "action": action,
                        "entity_type": "booking",
                        "entity_id": str(booking_id),
                        "request_id": f"r{event_id}",
                        "reverts_event_id": reverts,
                    },
                )

    schema.migrate(empty_engine)

    from ikan_platform.models import Booking

    with empty_engine.connect() as connection:
        sent = dict(connection.execute(select(Booking.id, Booking.sent_to_supplier_at)).all())
    start = t0.replace(tzinfo=UTC)
    hours = {b: None if at is None else (at - start) / timedelta(hours=1) for b, at in sent.items()}
    assert hours == {1: 1, 2: 2, 3: None, 4: None, 5: 7, 6: 6 * 24, 7: None, 8: 11}


def test_0005_rebuilds_an_existing_sqlite_sandbox_so_no_id_is_handed_out_again(
    tmp_path: Path,
) -> None:
    """A seeded sandbox at 0004, where an undo had removed the newest note, migrates cleanly."""
    from ikan_platform.db import make_sessionmaker
    from ikan_platform.seed import seed
    from tests.conftest import FROZEN_NOW

    engine = make_engine(f"sqlite:///{tmp_path / 'sandbox.db'}")
    _migrate_to(engine, "0004")
    with make_sessionmaker(engine)() as session:
        seed(session, bookings=40, now=FROZEN_NOW)
    tables = ("users", "bookings", "booking_notes")
    with engine.begin() as connection:
        # Note 7 was added and removed by an undo: only the audit trail still names it.
        connection.execute(
            text(
                "INSERT INTO audit_events (occurred_at, actor_email, actor_role, action,"
                " entity_type, entity_id, request_id) VALUES ('2026-12-01 09:00:00.000000',"
                " 'priya.nair@ikan.example', 'operations', 'booking_note.create',"
                " 'booking_note', '7', 'r-note-7')"
            )
        )
        counts = {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}

    schema.migrate(engine)

    with engine.begin() as connection:
        for table in tables:
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table}
            ).scalar()
            assert "AUTOINCREMENT" in sql, table
            assert (
                connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                == (counts[table])
            )
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        note = connection.execute(
            text(
                "INSERT INTO booking_notes (booking_id, author_id, body, version, created_at)"
                " VALUES (1, 1, 'After the upgrade', 1, '2026-12-01 10:00:00.000000')"
                " RETURNING id"
            )
        ).scalar()
        user = connection.execute(
            text(
                "INSERT INTO users (email, name, role, active, version, created_at) VALUES"
                " ('new@ikan.example', 'New', 'operations', 1, 1, '2026-12-01 10:00:00.000000')"
                " RETURNING id"
            )
        ).scalar()
    assert note == 8
    assert user == counts["users"] + 1
    assert schema.drift(engine) == []
    engine.dispose()


def test_a_sqlite_migration_that_leaves_a_dangling_row_is_rolled_back(tmp_path: Path) -> None:
    """Foreign keys are off while tables are rebuilt, so migrate checks them before it commits."""
    engine = make_engine(f"sqlite:///{tmp_path / 'dangling.db'}")
    _migrate_to(engine, "0004")
    with engine.connect() as connection:  # as a sandbox written without foreign keys might be
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql(
            "INSERT INTO identities (user_id, provider, issuer, subject)"
            " VALUES (999, 'entra', 'https://issuer', 'nobody')"
        )
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")

    with pytest.raises(schema.ForeignKeyViolation):
        schema.migrate(engine)

    assert schema.current_revision(engine) == "0004"
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM identities WHERE user_id = 999"))
    schema.migrate(engine)  # SQLite kept the half-built copy it made outside the transaction
    assert schema.current_revision(engine) == schema.head_revision()
    assert schema.drift(engine) == []
    engine.dispose()
