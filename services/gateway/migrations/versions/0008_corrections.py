"""Reconciliation corrections applied to orders, one row per correction id (ApplyCorrection).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_correction",
        sa.Column("correction_id", sa.String(64), primary_key=True),
        sa.Column("action", sa.SmallInteger, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("pay_order_id", sa.String(32), nullable=False),
        sa.Column("refund_order_id", sa.String(32)),
        sa.Column("previous_amount", sa.BigInteger, nullable=False),
        sa.Column("previous_fee_amount", sa.BigInteger, nullable=False),
        sa.Column("previous_state", sa.SmallInteger, nullable=False),
        sa.Column("previous_channel_fee_amount", sa.BigInteger),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_order_correction_pay_order_id", "order_correction", ["pay_order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_correction_pay_order_id", "order_correction")
    op.drop_table("order_correction")
