"""The sandbox channel's book: table sandbox_payment.

Revision ID: 0001
Revises:
Create Date: 2024-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "sandbox_payment",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("pay_order_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("way_code", sa.String(32), nullable=False),
        sa.Column("notify_url", sa.String(1024), nullable=False),
        sa.Column("key_sealed", sa.String(512), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel_order_no", sa.String(32), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expire_at", _TIME, nullable=True),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.UniqueConstraint("pay_order_id", name="uq_sandbox_payment_pay_order_id"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_payment")
