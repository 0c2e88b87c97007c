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
