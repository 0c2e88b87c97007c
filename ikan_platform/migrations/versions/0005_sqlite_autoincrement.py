"""SQLite never reuses the id of a deleted user, booking or note (AUTOINCREMENT).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00

Undoing a creation deletes the row, and undoing that undo brings it back under the same id. On
SQLite a plain INTEGER PRIMARY KEY hands the highest id out again once its row is gone, so a new
note could take the id of one an undo removed: restoring the old one then failed, and two notes
shared one audit history. AUTOINCREMENT ids only grow. SQLite cannot add it to a table in place,
so the three tables are rebuilt (batch mode, recreate="always"); `schema.migrate` runs migrations
with foreign keys off on SQLite, as SQLite's own procedure for rebuilding a table requires, and
checks them before committing.

Each table's counter starts past every id its audit trail has ever named, so an id that was
already handed out twice before this migration is not handed out a third time.

PostgreSQL is left alone: its sequences never go back.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# table -> the entity type its rows have in the audit trail
TABLES = {"users": "user", "bookings": "booking", "booking_notes": "booking_note"}


def _rebuild(autoincrement: bool) -> None:
    for table in TABLES:
        # Left behind by a rebuild that failed half-way (SQLite commits DDL as it goes).
        op.execute(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    """Apply this migration."""
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(True)
    for table, entity_type in TABLES.items():
        op.execute(f"DELETE FROM sqlite_sequence WHERE name = '{table}'")
        op.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT"
            f" '{table}', max(coalesce((SELECT max(id) FROM {table}), 0),"
            " coalesce((SELECT max(CAST(entity_id AS INTEGER)) FROM audit_events"
            f" WHERE entity_type = '{entity_type}'), 0))"
        )


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name != "sqlite":
        return
    _rebuild(False)
