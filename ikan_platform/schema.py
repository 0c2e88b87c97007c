"""Bringing a database's schema up to date with the Alembic migrations in `migrations/`.

`migrate(engine)` runs `alembic upgrade head` programmatically: no alembic.ini is needed on disk,
so `ikan-platform migrate` works from an installed package. `drift(engine)` compares the models
with a migrated database, which is what the test suite uses to catch a model change that has no
migration.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, inspect, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE_REVISION = "0001"
# Any constant works; it only has to be the same in every platform process.
_PG_MIGRATION_LOCK = 0x1CA4_0001


# Indexes only PostgreSQL migrations create (expression/GIN indexes the models cannot express
# portably); the drift check leaves them out instead of asking to drop them.
PG_ONLY_INDEXES = frozenset({"ix_bookings_search_trgm"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare everything except the PostgreSQL-only indexes."""
    return not (type_ == "index" and name in PG_ONLY_INDEXES)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render UTCDateTime as a plain DateTime, so migrations never import application types."""
    from ikan_platform.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def migration_options() -> dict[str, Any]:
    """The options env.py and the drift check share, so they compare the same way."""
    import ikan_platform.models  # noqa: F401  (registers the tables)
    from ikan_platform.db import Base

    return {
        "target_metadata": Base.metadata,
        "compare_type": True,
        "render_as_batch": True,  # SQLite can only ALTER through table copies
        "render_item": render_item,
        "include_object": include_object,
    }


def alembic_config(connection: Connection | None = None, url: str | None = None):  # type: ignore[no-untyped-def]
    """An Alembic Config pointing at the packaged migrations, bound to a connection or URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


class ForeignKeyViolation(RuntimeError):
    """A migration left rows that point at nothing (SQLite, checked before commit)."""


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    # Only takes effect outside a transaction, hence the commit (pysqlite opens none for it).
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    connection.commit()


@contextmanager
def migration_transaction(connection: Connection) -> Iterator[None]:
    """The transaction migrations run in; on SQLite, with foreign keys off until it ends.

    SQLite changes a table by building a copy, dropping the original and renaming the copy
    (Alembic's batch mode); with foreign keys on, dropping a table other rows point at fails.
    SQLite's own procedure for this is followed: keys off outside the transaction, a
    `foreign_key_check` before committing when a migration ran (a dangling row rolls it back),
    keys on again for whoever uses the connection next.
    """
    from alembic.migration import MigrationContext

    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, on=False)
    try:
        with connection.begin():
            revision = MigrationContext.configure(connection).get_current_revision()
            yield
            moved = MigrationContext.configure(connection).get_current_revision() != revision
            if sqlite and moved:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if dangling:
                    raise ForeignKeyViolation(f"rows pointing at nothing: {dangling[:5]}")
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration (`alembic upgrade head`)."""
    from alembic import command

    with engine.connect() as connection, migration_transaction(connection):
        if connection.dialect.name == "postgresql":
            # Several platform processes may start at once; only one migrates, the rest wait.
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        config = alembic_config(connection)
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables and "users" in tables:
            # A sandbox made by the pre-Alembic create_all holds exactly the baseline schema.
            command.stamp(config, BASELINE_REVISION)
        command.upgrade(config, "head")


def drift(engine: Engine, metadata: MetaData | None = None) -> list[Any]:
    """Differences between the models (or `metadata`) and a migrated database; empty when equal."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    options = migration_options()
    models = options.pop("target_metadata")
    metadata = models if metadata is None else metadata
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=options)
        return list(compare_metadata(context, metadata))


def current_revision(engine: Engine) -> str | None:
    """The revision a database is at, or None if it was never migrated."""
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration shipped with this package."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
