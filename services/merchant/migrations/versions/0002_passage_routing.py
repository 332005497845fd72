"""Several passages per wayCode (one per channel) with priority, weight and amount limits.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pay_passage_v2",
        sa.Column("app_id", sa.String(32), sa.ForeignKey("app.app_id"), primary_key=True),
        sa.Column("way_code", sa.String(32), primary_key=True),
        sa.Column("if_code", sa.String(16), primary_key=True),
        sa.Column("fee_rate", sa.String(16), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("weight", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("max_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("daily_limit", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.execute("INSERT INTO pay_passage_v2 (app_id, way_code, if_code, fee_rate, state, "
               "updated_at) SELECT app_id, way_code, if_code, fee_rate, state, updated_at "
               "FROM pay_passage")
    op.drop_table("pay_passage")
    op.rename_table("pay_passage_v2", "pay_passage")


def downgrade() -> None:
    """Back to one passage per wayCode: the one routing would try first is kept."""
    op.create_table(
        "pay_passage_v1",
        sa.Column("app_id", sa.String(32), sa.ForeignKey("app.app_id"), primary_key=True),
        sa.Column("way_code", sa.String(32), primary_key=True),
        sa.Column("if_code", sa.String(16), nullable=False),
        sa.Column("fee_rate", sa.String(16), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.execute(
        "INSERT INTO pay_passage_v1 (app_id, way_code, if_code, fee_rate, state, updated_at) "
        "SELECT p.app_id, p.way_code, p.if_code, p.fee_rate, p.state, p.updated_at "
        "FROM pay_passage p WHERE p.if_code = (SELECT MIN(q.if_code) FROM pay_passage q "
        "WHERE q.app_id = p.app_id AND q.way_code = p.way_code AND q.priority = "
        "(SELECT MAX(r.priority) FROM pay_passage r "
        "WHERE r.app_id = p.app_id AND r.way_code = p.way_code))")
    op.drop_table("pay_passage")
    op.rename_table("pay_passage_v1", "pay_passage")
