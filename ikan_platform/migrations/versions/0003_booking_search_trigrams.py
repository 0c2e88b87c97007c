"""Booking search: a trigram index on PostgreSQL, so `q` finds bookings without a table scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 20:10:00

The search matches `lower(column) LIKE '%text%'` on four columns; a B-tree cannot serve a
leading wildcard, a pg_trgm GIN index can. pg_trgm is a trusted extension (PostgreSQL 13+), so the
database owner may create it without superuser rights. SQLite (the sandbox, hundreds of bookings)
gets nothing: it scans. The index is not in the models' metadata, since SQLAlchemy cannot express
it portably; `schema.PG_ONLY_INDEXES` keeps it out of the drift check.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_bookings_search_trgm ON bookings USING gin ("
        " lower(reference) gin_trgm_ops, lower(traveller_name) gin_trgm_ops,"
        " lower(home_city) gin_trgm_ops, lower(destination_city) gin_trgm_ops)"
    )


def downgrade() -> None:
    """Revert this migration (the extension stays: other schemas may use it)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_bookings_search_trgm")
