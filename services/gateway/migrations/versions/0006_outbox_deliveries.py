"""Several consumers per outbox topic: one delivery row per (event, consumer).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_delivery",
        sa.Column("event_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                  primary_key=True),
        sa.Column("consumer", sa.String(32), primary_key=True),
        sa.Column("delivered_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("outbox_delivery")
