"""Paying orders remember when the pay sweep should ask their channel about them again.

``next_query_at`` is when an order still paying is next due to be asked (NULL: never asked yet)
and ``query_count`` how many times the sweep has asked; the sweep backs off per order
(gateway.sweeps.query_backoff) instead of asking the same oldest orders on every run. The index
on (state, next_query_at) serves the sweep's read of the paying orders that are due.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pay_order") as batch:
        batch.add_column(sa.Column("next_query_at", UtcDateTime()))
        batch.add_column(sa.Column("query_count", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.create_index("ix_pay_order_state_next_query", ["state", "next_query_at"])


def downgrade() -> None:
    with op.batch_alter_table("pay_order") as batch:
        batch.drop_index("ix_pay_order_state_next_query")
        batch.drop_column("query_count")
        batch.drop_column("next_query_at")
