"""Alembic environment for the ikan platform.

Two ways in: `ikan_platform.schema.migrate` passes an open connection (in
`config.attributes["connection"]`); the `alembic` command line (see alembic.ini here) connects to
`-x url=...`, else `sqlalchemy.url`, else IKAN_PLATFORM_DATABASE_URL.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from ikan_platform.schema import migration_options, migration_transaction

config = context.config
if config.config_file_name is not None:  # the command line; migrate() keeps the host's logging
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    url = url or os.environ.get("IKAN_PLATFORM_DATABASE_URL")
    if not url:
        raise SystemExit("give a database: alembic -x url=postgresql+psycopg://... upgrade head")
    return url


def run_offline() -> None:
    """Emit SQL for a DBA to review and run (`alembic upgrade head --sql`)."""
    context.configure(url=_url(), literal_binds=True, **migration_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Migrate through a live connection."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **migration_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    from ikan_platform.db import make_engine

    engine = make_engine(_url())
    try:
        with engine.connect() as own, migration_transaction(own):
            context.configure(connection=own, **migration_options())
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
