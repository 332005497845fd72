"""The sandbox's bill: sandbox_payment.paid_at, refund times indexed, planted bill mistakes.

paid_at dates a payment in its bill (updated_at moves again on every refund); existing successful
payments take their updated_at, the best record there is of when they succeeded.

Revision ID: 0003
Revises: 0002
Create Date: 2024-06-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    with op.batch_alter_table("sandbox_payment") as batch:
        batch.add_column(sa.Column("paid_at", _TIME, nullable=True))
    op.execute("UPDATE sandbox_payment SET paid_at = updated_at WHERE state = 'SUCCESS'")
    op.create_index("ix_sandbox_payment_paid_at", "sandbox_payment", ["paid_at"])
    op.create_index("ix_sandbox_refund_updated_at", "sandbox_refund", ["updated_at"])
    op.create_table(
        "sandbox_bill_mistake",
        sa.Column("ref", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default=""),
        sa.Column("bill_date", sa.Date(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
    )
    op.create_index("ix_sandbox_bill_mistake_bill_date", "sandbox_bill_mistake", ["bill_date"])


def downgrade() -> None:
    op.drop_index("ix_sandbox_bill_mistake_bill_date", table_name="sandbox_bill_mistake")
    op.drop_table("sandbox_bill_mistake")
    op.drop_index("ix_sandbox_refund_updated_at", table_name="sandbox_refund")
    op.drop_index("ix_sandbox_payment_paid_at", table_name="sandbox_payment")
    with op.batch_alter_table("sandbox_payment") as batch:
        batch.drop_column("paid_at")
