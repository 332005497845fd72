"""Service providers (服务商, ISV), their channel accounts, and sub-merchants.

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
    op.create_table(
        "isv",
        sa.Column("isv_no", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "isv_channel_config",
        sa.Column("isv_no", sa.String(32), sa.ForeignKey("isv.isv_no"), primary_key=True),
        sa.Column("if_code", sa.String(16), primary_key=True),
        sa.Column("params_sealed", sa.Text(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    with op.batch_alter_table("merchant") as batch:
        batch.add_column(sa.Column("type", sa.SmallInteger(), nullable=False,
                                   server_default="1"))
        batch.add_column(sa.Column("isv_no", sa.String(32), sa.ForeignKey(
            "isv.isv_no", name="fk_merchant_isv"), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("merchant") as batch:
        batch.drop_constraint("fk_merchant_isv", type_="foreignkey")
        batch.drop_column("isv_no")
        batch.drop_column("type")
    op.drop_table("isv_channel_config")
    op.drop_table("isv")
