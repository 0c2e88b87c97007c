"""Shared fixtures: a real, seeded platform app on a throwaway database, and a movable clock.

The platform runs on SQLite by default. With IKAN_TEST_DATABASE_URL set (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test) `database_url` and `platform_app` run on
PostgreSQL instead. The run creates its own databases next to the one named in the URL (which is
only used to issue CREATE/DROP DATABASE) and drops them at the end. It seeds one database once
and puts it back to the seeded state before every test by deleting every row and reloading the
seed from a snapshot schema kept inside it. Measured on this 2-core machine while colleagues'
runs were busy: 80-150 ms a test, against 140-600 ms for `CREATE DATABASE ... TEMPLATE` (it
writes all 11 MB, system catalogs included, to the WAL) and 140-450 ms for TRUNCATE and reload.
Tests that need PostgreSQL itself use `postgres` and skip, with the reason in the summary, when
it is not configured.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# The frozen "now" of every test and snapshot: a Tuesday morning in December.
FROZEN_NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
TEST_DATABASE_ENV = "IKAN_TEST_DATABASE_URL"
PG_SKIP_REASON = f"PostgreSQL not configured: set {TEST_DATABASE_ENV} to run this test"
# Databases of runs that crashed before cleaning up are dropped by a later run after this long;
# younger ones may belong to a run still going on in a colleague's shell.
STALE_AFTER = timedelta(hours=12)
_DB_PREFIX = "ikan_t_"
_DB_NAME = re.compile(rf"^{_DB_PREFIX}(\d{{14}})_")


@dataclass
class MovableClock:
    """A server clock tests can move forward."""

    now: datetime = field(default=FROZEN_NOW)

    def __call__(self) -> datetime:
        """The current (frozen) time."""
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)


class PostgresRun:
    """The databases one test run creates on a PostgreSQL server, all dropped at the end."""

    def __init__(self, url: str) -> None:
        """Connect to the maintenance database named in `url`."""
        from sqlalchemy import create_engine, make_url
        from sqlalchemy.pool import NullPool

        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        # pid and a random part keep parallel runs (and xdist workers) apart on a shared server.
        self.prefix = f"{_DB_PREFIX}{stamp}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._count = 0

    def _sql(self, statement: str) -> None:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def url_of(self, name: str) -> str:
        """The SQLAlchemy URL of one of this run's databases."""
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); returns its name."""
        self._count += 1
        name = f"{self.prefix}_{self._count}"
        self._sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop(self, name: str) -> None:
        """Drop a database, ending any connection a test left open."""
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _names(self, like: str) -> list[str]:
        from sqlalchemy import text

        with self.admin.connect() as connection:
            rows = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :like"), {"like": like}
            )
            return [row[0] for row in rows]

    def drop_stale(self) -> None:
        """Drop what crashed runs left behind, once they are surely over."""
        cutoff = datetime.now(UTC) - STALE_AFTER
        for name in self._names(_DB_PREFIX.replace("_", r"\_") + "%"):
            match = _DB_NAME.match(name)
            made = match and datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            if made and made < cutoff:
                self.drop(name)

    def close(self) -> None:
        """Drop every database of this run."""
        for name in self._names(self.prefix.replace("_", r"\_") + r"\_%"):
            self.drop(name)
        self.admin.dispose()


class SeededDatabase:
    """One PostgreSQL database, put back to its seeded state before each test."""

    SNAPSHOT = "ikan_seed_snapshot"

    def __init__(self, run: PostgresRun) -> None:
        """Create, migrate and seed the database, then keep a copy of every table beside it."""
        from sqlalchemy import create_engine, inspect, text

        from ikan_platform.db import Base

        self.url = run.url_of(run.create())
        _seed(self.url)
        self.engine = create_engine(self.url)
        with self.engine.begin() as connection:
            present = set(inspect(connection).get_table_names())
            ordered = [t.name for t in Base.metadata.sorted_tables if t.name in present]
            # Parents before children, so rows reload without breaking a foreign key.
            self.tables = ordered + sorted(present - set(ordered))
            connection.execute(text(f"CREATE SCHEMA {self.SNAPSHOT}"))
            for table in self.tables:
                connection.execute(
                    text(f'CREATE TABLE {self.SNAPSHOT}."{table}" AS TABLE public."{table}"')
                )
            sequences = connection.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'")
            ).scalars()
            self.sequences = {
                name: tuple(
                    connection.execute(text(f'SELECT last_value, is_called FROM "{name}"')).one()
                )
                for name in sequences
            }
        self.dirty = False

    def reset(self) -> None:
        """Delete every row and reload the seed (DELETE beats TRUNCATE for a few thousand rows)."""
        from sqlalchemy import text

        with self.engine.begin() as connection:
            # A connection a test left open would hold locks; it has no business surviving it.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            for table in reversed(self.tables):
                connection.execute(text(f'DELETE FROM public."{table}"'))
            for table in self.tables:
                connection.execute(
                    text(f'INSERT INTO public."{table}" TABLE {self.SNAPSHOT}."{table}"')
                )
            for name, (value, called) in self.sequences.items():
                connection.execute(
                    text("SELECT setval(:name, :value, :called)"),
                    {"name": f'public."{name}"', "value": value, "called": called},
                )


def _seed(url: str) -> None:
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import seed

    engine = make_engine(url)
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        seed(session, now=FROZEN_NOW)
    engine.dispose()


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database the platform tests run on."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if not url:
        return f"platform database: SQLite ({TEST_DATABASE_ENV} not set)"
    from sqlalchemy import make_url

    return f"platform database: {make_url(url).render_as_string(hide_password=True)}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresRun]:
    """This run's PostgreSQL databases; skips when IKAN_TEST_DATABASE_URL is unset."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    from sqlalchemy.exc import OperationalError

    run = PostgresRun(url)
    try:
        run.drop_stale()
    except OperationalError as exc:
        pytest.fail(f"{TEST_DATABASE_ENV} is set but PostgreSQL does not answer: {exc}")
    yield run
    run.close()


@pytest.fixture
def empty_postgres_url(postgres: PostgresRun) -> Iterator[str]:
    """A new, empty PostgreSQL database (no schema), dropped after the test."""
    name = postgres.create()
    yield postgres.url_of(name)
    postgres.drop(name)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database seeded once per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "seeded.db"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def seeded_postgres(postgres: PostgresRun) -> Iterator[SeededDatabase]:
    """A PostgreSQL database seeded once per run and reset before each test that uses it."""
    database = SeededDatabase(postgres)
    yield database
    database.engine.dispose()


@pytest.fixture
def clock() -> MovableClock:
    """The platform's clock for this test."""
    return MovableClock()


@pytest.fixture
def new_seeded_database(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Make a database in the seeded state and return its URL; call again for another.

    On SQLite every call copies the template to a new file. On PostgreSQL every call resets the
    run's one seeded database, so a URL is good until the next call: use them one at a time.
    """
    copies = itertools.count(1)

    def make() -> str:
        if os.environ.get(TEST_DATABASE_ENV):
            seeded: SeededDatabase = request.getfixturevalue("seeded_postgres")
            if seeded.dirty:
                seeded.reset()
            seeded.dirty = True
            return seeded.url
        copy = tmp_path / f"platform-{next(copies)}.db"
        shutil.copy(request.getfixturevalue("seeded_template"), copy)
        return f"sqlite:///{copy}"

    return make


@pytest.fixture
def database_url(new_seeded_database: Callable[[], str]) -> str:
    """A database in the seeded state: SQLite, or PostgreSQL with IKAN_TEST_DATABASE_URL."""
    return new_seeded_database()


@pytest.fixture
def platform_app(database_url: str, clock: MovableClock) -> Iterator[object]:
    """The real platform ASGI app in sandbox mode."""
    from ikan_platform.app import create_app
    from ikan_platform.settings import PlatformSettings

    settings = PlatformSettings(
        database_url=database_url,
        sandbox=True,
        clock=clock,
        token_secret="test-secret-not-for-production-use",
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()
