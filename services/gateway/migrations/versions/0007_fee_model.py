"""The whole fee model and the channel config snapshotted on orders; refunds know their config.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pay_order") as batch:
        batch.add_column(sa.Column("channel_config_key", sa.String(96)))
        batch.add_column(sa.Column("fee_fixed", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("fee_floor", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("fee_cap", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("fee_rounding", sa.SmallInteger, nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("refund_fee_rule", sa.SmallInteger, nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("channel_cost_rate", sa.String(16)))
        batch.add_column(sa.Column("channel_fee_amount", sa.BigInteger))
        batch.create_index("ix_pay_order_config_success", ["channel_config_key", "success_at"])
        batch.create_index("ix_pay_order_config_created", ["channel_config_key", "created_at"])
    with op.batch_alter_table("refund_order") as batch:
        batch.add_column(sa.Column("channel_config_key", sa.String(96)))
        batch.create_index("ix_refund_order_config_success", ["channel_config_key", "success_at"])
        batch.create_index("ix_refund_order_config_created", ["channel_config_key", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("refund_order") as batch:
        batch.drop_index("ix_refund_order_config_created")
        batch.drop_index("ix_refund_order_config_success")
        batch.drop_column("channel_config_key")
    with op.batch_alter_table("pay_order") as batch:
        batch.drop_index("ix_pay_order_config_created")
        batch.drop_index("ix_pay_order_config_success")
        for column in ("channel_fee_amount", "channel_cost_rate", "refund_fee_rule",
                       "fee_rounding", "fee_cap", "fee_floor", "fee_fixed", "channel_config_key"):
            batch.drop_column(column)
