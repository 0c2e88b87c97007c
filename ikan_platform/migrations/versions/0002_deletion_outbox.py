"""Deletion requests: who verified and how, approval and extension times; the letter/email outbox.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("deletion_requests") as batch:
        batch.add_column(sa.Column("verified_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("verification_method", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("verification_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("approved_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("extended_at", sa.DateTime(), nullable=True))

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deletion_request_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deletion_request_id"],
            ["deletion_requests.id"],
            name=op.f("fk_outbox_messages_deletion_request_id_deletion_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(
        op.f("ix_outbox_messages_deletion_request_id"), "outbox_messages", ["deletion_request_id"]
    )
    op.create_index("ix_outbox_status", "outbox_messages", ["status", "id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("outbox_messages")
    with op.batch_alter_table("deletion_requests") as batch:
        batch.drop_column("extended_at")
        batch.drop_column("approved_at")
        batch.drop_column("verification_note")
        batch.drop_column("verification_method")
        batch.drop_column("verified_by_id")
