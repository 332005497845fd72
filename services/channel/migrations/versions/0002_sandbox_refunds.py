"""The sandbox's refunds: table sandbox_refund and sandbox_payment.refunded_amount.

refunded_amount is what the conditional UPDATE of a refund raises; the CHECK keeps it within the
payment's amount even if a writer ever forgets the condition.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
_CHECK = "ck_sandbox_payment_refunded_amount"


def upgrade() -> None:
    with op.batch_alter_table("sandbox_payment") as batch:
        batch.add_column(sa.Column("refunded_amount", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.create_check_constraint(_CHECK, "refunded_amount >= 0 AND refunded_amount <= amount")
    op.create_table(
        "sandbox_refund",
        sa.Column("refund_order_id", sa.String(80), primary_key=True),
        sa.Column("pay_order_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel_refund_no", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
    )
    op.create_index("ix_sandbox_refund_pay_order_id", "sandbox_refund", ["pay_order_id"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_refund_pay_order_id", table_name="sandbox_refund")
    op.drop_table("sandbox_refund")
    with op.batch_alter_table("sandbox_payment") as batch:
        batch.drop_constraint(_CHECK, type_="check")
        batch.drop_column("refunded_amount")
