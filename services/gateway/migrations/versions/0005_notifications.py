"""Merchant notifications: one record per (order, type) and a log row per attempt.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from paymesh.services.common.db import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_record",
        sa.Column("notify_id", sa.String(32), primary_key=True),
        sa.Column("order_id", sa.String(32), nullable=False),
        sa.Column("order_type", sa.SmallInteger, nullable=False),
        sa.Column("mch_no", sa.String(32), nullable=False),
        sa.Column("app_id", sa.String(32), nullable=False),
        sa.Column("mch_order_no", sa.String(64), nullable=False),
        sa.Column("notify_url", sa.String(128), nullable=False),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("state", sa.SmallInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempt_limit", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), index=True),
        sa.Column("last_attempt_at", UtcDateTime()),
        sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint("order_id", "order_type", name="uq_notify_order"),
    )
    op.create_table(
        "notify_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("notify_id", sa.String(32), nullable=False, index=True),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("http_status", sa.SmallInteger, nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("response_excerpt", sa.String(256), nullable=False),
        sa.Column("error", sa.String(256)),
    )


def downgrade() -> None:
    op.drop_table("notify_attempt")
    op.drop_table("notify_record")
