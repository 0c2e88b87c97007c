"""Bookings record when they were sent to the supplier: the supplier's row scope reads it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 09:00:00

Until now a supplier saw every booking of theirs that was not `new`, so one Ops held, escalated
or cancelled before ever sending it showed up on the supplier's side, internal reason included.
`sent_to_supplier_at` is set by send-to-supplier and by confirm and kept afterwards; suppliers
see exactly the bookings where it is set.

Existing bookings are filled in from what is known: the time of the latest send-to-supplier
event in the audit trail that is in effect (not undone, or undone and that undo undone in turn),
else of the latest such confirm event, else, for a booking awaiting its supplier or confirmed
(which it cannot be without being sent), its last update time. A `new` booking stays unsent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _latest_in_effect(action: str) -> str:
    return (
        "(SELECT max(e.occurred_at) FROM audit_events e"
        " WHERE e.entity_type = 'booking'"
        " AND e.entity_id = CAST(bookings.id AS VARCHAR(60))"
        f" AND e.action = '{action}'"
        " AND NOT EXISTS (SELECT 1 FROM audit_events u WHERE u.reverts_event_id = e.id"
        " AND NOT EXISTS (SELECT 1 FROM audit_events uu WHERE uu.reverts_event_id = u.id)))"
    )


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("sent_to_supplier_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE bookings SET sent_to_supplier_at = COALESCE("
        f"{_latest_in_effect('booking.send_to_supplier')},"
        f" {_latest_in_effect('booking.confirm')},"
        " CASE WHEN status IN ('awaiting_supplier', 'confirmed') THEN updated_at END)"
        " WHERE status <> 'new'"
    )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("sent_to_supplier_at")
