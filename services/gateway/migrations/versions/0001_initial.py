"""Pay orders.

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_order",
        sa.Column("pay_order_id", sa.String(32), primary_key=True),
        sa.Column("mch_no", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False, index=True),
        sa.Column("mch_order_no", sa.String(64), nullable=False),
        sa.Column("if_code", sa.String(16), nullable=False),
        sa.Column("way_code", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False, index=True),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("body", sa.String(256), nullable=False),
        sa.Column("notify_url", sa.String(128)),
        sa.Column("return_url", sa.String(128)),
        sa.Column("channel_extra", sa.Text),
        sa.Column("ext_param", sa.String(512)),
        sa.Column("division_mode", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("expired_seconds", sa.Integer),
        sa.Column("expire_at", UtcDateTime, nullable=False),
        sa.Column("fee_rate", sa.String(16), nullable=False),
        sa.Column("fee_amount", sa.BigInteger, nullable=False),
        sa.Column("channel_order_no", sa.String(64)),
        sa.Column("pay_data_type", sa.String(16)),
        sa.Column("pay_data", sa.Text),
        sa.Column("err_code", sa.String(64)),
        sa.Column("err_msg", sa.String(256)),
        sa.Column("late_success", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("success_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint("mch_no", "mch_order_no", name="uq_pay_order_mch_order"),
    )
    op.create_index("ix_pay_order_state_expire", "pay_order", ["state", "expire_at"])


def downgrade() -> None:
    op.drop_table("pay_order")
