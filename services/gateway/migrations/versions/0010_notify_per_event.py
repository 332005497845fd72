"""One merchant notification per order event, not per order: a payment that reconciliation later
marks failed (or a failed one it marks paid) is notified again with its new state.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_record") as batch:
        batch.add_column(sa.Column("event", sa.String(32), nullable=False, server_default=""))
        batch.drop_constraint("uq_notify_order", type_="unique")
        batch.create_unique_constraint("uq_notify_order_event", ["order_id", "order_type",
                                                                 "event"])


def downgrade() -> None:
    with op.batch_alter_table("notify_record") as batch:
        batch.drop_constraint("uq_notify_order_event", type_="unique")
        batch.create_unique_constraint("uq_notify_order", ["order_id", "order_type"])
        batch.drop_column("event")
