"""The whole merchant fee model on pay passages: fixed part, floor, cap, rounding, refund rule,
and the channel's own cost rate.

Existing passages keep their rate and get the defaults: no fixed part, floor or cap, HALF_UP,
fee returned pro rata on refunds, channel cost unknown (NULL).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ("channel_cost_rate", "refund_fee_rule", "fee_rounding", "fee_cap", "fee_floor",
            "fee_fixed")


def upgrade() -> None:
    with op.batch_alter_table("pay_passage") as batch:
        batch.add_column(sa.Column("fee_fixed", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("fee_floor", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("fee_cap", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("fee_rounding", sa.SmallInteger(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("refund_fee_rule", sa.SmallInteger(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("channel_cost_rate", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pay_passage") as batch:
        for column in _COLUMNS:
            batch.drop_column(column)
