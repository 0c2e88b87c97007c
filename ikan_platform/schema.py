"""Bringing a database's schema up to date."""

from __future__ import annotations

from sqlalchemy import Engine

from ikan_platform.db import Base


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the current version.

    Issue #3 replaces this with Alembic migrations; until then the tables are created from the
    models, which is safe on an empty or already-current database.
    """
    import ikan_platform.models  # noqa: F401  (registers the tables)

    Base.metadata.create_all(engine)
