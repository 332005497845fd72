"""Batches, mistakes, the carry-over pool and the rows matched ahead.

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


def _id() -> sa.types.TypeEngine[Any]:
    """A 64-bit auto-increment key; SQLite only auto-increments INTEGER PRIMARY KEY."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _money(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "recon_batch",
        sa.Column("batch_id", sa.String(32), primary_key=True),
        sa.Column("channel_config_key", sa.String(96), nullable=False),
        sa.Column("if_code", sa.String(16), nullable=False),
        sa.Column("mch_no", sa.String(32), nullable=False, server_default=""),
        sa.Column("bill_date", sa.String(10), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("lease_until", _utc()),
        sa.Column("error_reason", sa.String(64), nullable=False, server_default=""),
        sa.Column("error_message", sa.String(512), nullable=False, server_default=""),
        *(_money(name) for name in (
            "platform_pay_count", "platform_pay_amount", "platform_refund_count",
            "platform_refund_amount", "platform_fee", "channel_pay_count", "channel_pay_amount",
            "channel_refund_count", "channel_refund_amount", "channel_fee", "matched_count",
            "mistake_count", "bill_row_count", "platform_record_count", "pool_added",
            "pool_cleared", "pool_expired")),
        sa.Column("started_at", _utc()),
        sa.Column("finished_at", _utc()),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.UniqueConstraint("channel_config_key", "bill_date", name="uq_recon_batch_config_date"),
    )
    op.create_index("ix_recon_batch_date", "recon_batch", ["bill_date"])
    op.create_table(
        "recon_mistake",
        sa.Column("mistake_id", sa.String(32), primary_key=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
        sa.Column("bill_date", sa.String(10), nullable=False),
        sa.Column("channel_config_key", sa.String(96), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("mistake_type", sa.String(40), nullable=False),
        sa.Column("record_key", sa.String(64), nullable=False),
        sa.Column("pay_order_id", sa.String(64), nullable=False),
        sa.Column("refund_order_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("mch_no", sa.String(32), nullable=False, server_default=""),
        sa.Column("currency", sa.String(8), nullable=False, server_default=""),
        sa.Column("platform_found", sa.Boolean(), nullable=False),
        sa.Column("platform_state", sa.SmallInteger(), nullable=False, server_default="-1"),
        _money("platform_amount"),
        _money("platform_fee"),
        sa.Column("platform_channel_fee", sa.BigInteger()),
        _money("platform_success_time"),
        sa.Column("platform_channel_config_key", sa.String(96), nullable=False,
                  server_default=""),
        sa.Column("channel_found", sa.Boolean(), nullable=False),
        sa.Column("channel_status", sa.SmallInteger(), nullable=False, server_default="0"),
        _money("channel_amount"),
        _money("channel_fee"),
        sa.Column("channel_order_no", sa.String(64), nullable=False, server_default=""),
        _money("channel_trade_time"),
        sa.Column("handle_state", sa.String(8), nullable=False),
        sa.Column("decision", sa.String(24), nullable=False, server_default=""),
        sa.Column("operator", sa.String(64), nullable=False, server_default=""),
        sa.Column("remark", sa.String(256), nullable=False, server_default=""),
        sa.Column("correction_action", sa.String(48), nullable=False, server_default=""),
        sa.Column("posting_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("posting_source", sa.String(16), nullable=False, server_default=""),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("handled_at", _utc()),
        sa.UniqueConstraint("batch_id", "kind", "record_key", "mistake_type",
                            name="uq_recon_mistake_record_type"),
    )
    op.create_index("ix_recon_mistake_batch_id", "recon_mistake", ["batch_id"])
    op.create_index("ix_recon_mistake_state_mch", "recon_mistake", ["handle_state", "mch_no"])
    op.create_table(
        "recon_pool",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("channel_config_key", sa.String(96), nullable=False),
        sa.Column("kind", sa.SmallInteger(), nullable=False),
        sa.Column("record_key", sa.String(64), nullable=False),
        sa.Column("origin_date", sa.String(10), nullable=False),
        sa.Column("origin_batch_id", sa.String(32), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("closed_batch_id", sa.String(32)),
        sa.Column("pay_order_id", sa.String(64), nullable=False),
        sa.Column("refund_order_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("mch_no", sa.String(32), nullable=False, server_default=""),
        sa.Column("currency", sa.String(8), nullable=False, server_default=""),
        sa.Column("platform_state", sa.SmallInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_amount", sa.BigInteger(), nullable=False),
        sa.Column("channel_fee", sa.BigInteger()),
        sa.Column("success_time", sa.BigInteger(), nullable=False),
        sa.Column("record_config_key", sa.String(96), nullable=False, server_default=""),
        sa.Column("channel_order_no", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", _utc(), nullable=False),
        sa.UniqueConstraint("channel_config_key", "kind", "record_key",
                            name="uq_recon_pool_record"),
    )
    op.create_index("ix_recon_pool_open", "recon_pool",
                    ["channel_config_key", "state", "origin_date"])
    op.create_index("ix_recon_pool_closed_batch_id", "recon_pool", ["closed_batch_id"])
    op.create_table(
        "recon_matched_ahead",
        sa.Column("channel_config_key", sa.String(96), primary_key=True),
        sa.Column("kind", sa.SmallInteger(), primary_key=True),
        sa.Column("record_key", sa.String(64), primary_key=True),
        sa.Column("batch_id", sa.String(32), nullable=False),
    )
    op.create_index("ix_recon_matched_ahead_batch_id", "recon_matched_ahead", ["batch_id"])


def downgrade() -> None:
    for table in ("recon_matched_ahead", "recon_pool", "recon_mistake", "recon_batch"):
        op.drop_table(table)
