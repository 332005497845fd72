"""The outbox: events written with the state change that causes them.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_event",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("delivered_at", UtcDateTime(), index=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("topic", "order_id", name="uq_outbox_topic_order"),
    )


def downgrade() -> None:
    op.drop_table("outbox_event")
