"""Merchants, apps, channel configs and pay passages.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _utc() -> sa.types.TypeEngine[Any]:
    """UTC datetimes with microseconds on MySQL/MariaDB as on SQLite."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "merchant",
        sa.Column("mch_no", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("contact", sa.String(128), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_index("ix_merchant_created_at", "merchant", ["created_at"])
    op.create_table(
        "app",
        sa.Column("app_id", sa.String(32), primary_key=True),
        sa.Column("mch_no", sa.String(32), sa.ForeignKey("merchant.mch_no"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("secret_sealed", sa.String(512), nullable=False),
        sa.Column("allow_private_notify_url", sa.Boolean(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_index("ix_app_mch_no", "app", ["mch_no"])
    op.create_table(
        "channel_config",
        sa.Column("app_id", sa.String(32), sa.ForeignKey("app.app_id"), primary_key=True),
        sa.Column("if_code", sa.String(16), primary_key=True),
        sa.Column("params_sealed", sa.Text(), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
    )
    op.create_table(
        "pay_passage",
        sa.Column("app_id", sa.String(32), sa.ForeignKey("app.app_id"), primary_key=True),
        sa.Column("way_code", sa.String(32), primary_key=True),
        sa.Column("if_code", sa.String(16), nullable=False),
        sa.Column("fee_rate", sa.String(16), nullable=False),
        sa.Column("state", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pay_passage")
    op.drop_table("channel_config")
    op.drop_index("ix_app_mch_no", table_name="app")
    op.drop_table("app")
    op.drop_index("ix_merchant_created_at", table_name="merchant")
    op.drop_table("merchant")
