"""Refunds: refund orders, and the refunded, reserved and in-flight amounts of a pay order.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pay_order") as batch:
        batch.add_column(sa.Column("refunded_amount", sa.BigInteger, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("refund_reserved", sa.BigInteger, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("refund_in_flight", sa.String(32)))
        batch.add_column(sa.Column("refund_times", sa.Integer, nullable=False,
                                   server_default="0"))
    op.create_table(
        "refund_order",
        sa.Column("refund_order_id", sa.String(32), primary_key=True),
        sa.Column("pay_order_id", sa.String(32), nullable=False, index=True),
        sa.Column("mch_no", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("mch_refund_no", sa.String(64), nullable=False),
        sa.Column("if_code", sa.String(16), nullable=False),
        sa.Column("pay_amount", sa.BigInteger, nullable=False),
        sa.Column("refund_amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False, index=True),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("notify_url", sa.String(128)),
        sa.Column("channel_extra", sa.Text),
        sa.Column("ext_param", sa.String(512)),
        sa.Column("channel_order_no", sa.String(64)),
        sa.Column("channel_refund_no", sa.String(64)),
        sa.Column("err_code", sa.String(64)),
        sa.Column("err_msg", sa.String(256)),
        sa.Column("success_at", UtcDateTime()),
        sa.Column("expire_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("mch_no", "mch_refund_no", name="uq_refund_mch_no"),
    )


def downgrade() -> None:
    op.drop_table("refund_order")
    with op.batch_alter_table("pay_order") as batch:
        for column in ("refund_times", "refund_in_flight", "refund_reserved",
                       "refunded_amount"):
            batch.drop_column(column)
