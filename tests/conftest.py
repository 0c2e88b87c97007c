"""Shared fixtures: a real, seeded platform app on a throwaway database, and a movable clock.

The platform runs on SQLite by default. With IKAN_TEST_DATABASE_URL set (for example
postgresql+psycopg://postgres@127.0.0.1:5432/test) `database_url` and `platform_app` run on
PostgreSQL instead: the run creates its own databases next to the one named in the URL (which is
only used to issue CREATE/DROP DATABASE), seeds a template once, gives every test a fresh copy
(`CREATE DATABASE ... TEMPLATE`, ~60 ms here, about twice as fast as TRUNCATE and reload), and
drops them all at the end. Tests that need PostgreSQL itself use `postgres` and skip, with the
reason in the summary, when it is not configured.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
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
def seeded_postgres_template(postgres: PostgresRun) -> str:
    """A PostgreSQL database seeded once per run (its name); tests get copies of it."""
    name = postgres.create()
    _seed(postgres.url_of(name))
    return name


@pytest.fixture
def clock() -> MovableClock:
    """The platform's clock for this test."""
    return MovableClock()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the seeded database: SQLite, or PostgreSQL with IKAN_TEST_DATABASE_URL."""
    if os.environ.get(TEST_DATABASE_ENV):
        run: PostgresRun = request.getfixturevalue("postgres")
        name = run.create(template=request.getfixturevalue("seeded_postgres_template"))
        yield run.url_of(name)
        run.drop(name)
        return
    copy = tmp_path / "platform.db"
    shutil.copy(request.getfixturevalue("seeded_template"), copy)
    yield f"sqlite:///{copy}"


@pytest.fixture
def platform_app(database_url: str, clock: MovableClock) -> Iterator[object]:
    """The real platform ASGI app in sandbox mode."""
    from ikan_platform.app import create_app
    from ikan_platform.settings import PlatformSettings

    settings = PlatformSettings(
        database_url=database_url,
        sandbox=True,
        clock=clock,
        token_secret="test-secret-not-for-production",
    )
    app = create_app(settings)
    yield app
    app.state.engine.dispose()
