"""Routing: the passages an order tried, and daily amounts per passage.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pay_order") as batch:
        batch.add_column(sa.Column("route_attempts", sa.Text))
        batch.add_column(sa.Column("limit_day", sa.String(10)))
    op.create_table(
        "passage_daily_usage",
        sa.Column("app_id", sa.String(32), primary_key=True),
        sa.Column("way_code", sa.String(16), primary_key=True),
        sa.Column("if_code", sa.String(16), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("passage_daily_usage")
    with op.batch_alter_table("pay_order") as batch:
        batch.drop_column("limit_day")
        batch.drop_column("route_attempts")
