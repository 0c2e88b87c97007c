"""Shared fixtures: a real, seeded platform app on a throwaway database, and a movable clock."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

# The frozen "now" of every test and snapshot: a Tuesday morning in December.
FROZEN_NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


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


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database seeded once per run; each test gets its own copy."""
    from ikan_platform.db import make_engine, make_sessionmaker
    from ikan_platform.schema import migrate
    from ikan_platform.seed import seed

    path = tmp_path_factory.mktemp("template") / "seeded.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with make_sessionmaker(engine)() as session:
        seed(session, now=FROZEN_NOW)
    engine.dispose()
    return path


@pytest.fixture
def clock() -> MovableClock:
    """The platform's clock for this test."""
    return MovableClock()


@pytest.fixture
def database_url(seeded_template: Path, tmp_path: Path) -> str:
    """A fresh copy of the seeded database."""
    copy = tmp_path / "platform.db"
    shutil.copy(seeded_template, copy)
    return f"sqlite:///{copy}"


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
