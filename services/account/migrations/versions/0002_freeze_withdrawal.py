"""Freeze modes (account.status), their audit, and withdrawals with their audited steps.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATUSES = "'ACTIVE', 'STOP_IN', 'STOP_OUT', 'FROZEN', 'CANCELLED'"
_STATES = "'REQUESTED', 'APPROVED', 'REJECTED', 'PAID', 'FAILED'"


def _utc() -> sa.types.TypeEngine[Any]:
    """UTC datetimes with microseconds on MySQL/MariaDB as on SQLite."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _id() -> sa.types.TypeEngine[Any]:
    """A 64-bit auto-increment key; SQLite only auto-increments INTEGER PRIMARY KEY."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(sa.Column("status", sa.String(16), nullable=False,
                                   server_default="ACTIVE"))
        batch.create_check_constraint("ck_account_status", f"status IN ({_STATUSES})")
    op.create_table(
        "account_status_change",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.BigInteger(), sa.ForeignKey("account.id"), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=False),
        sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_index("ix_account_status_change_account", "account_status_change",
                    ["account_id", "id"])
    op.create_table(
        "withdrawal",
        sa.Column("withdrawal_id", sa.String(48), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("available_account_id", sa.BigInteger(), sa.ForeignKey("account.id"),
                  nullable=False),
        sa.Column("frozen_account_id", sa.BigInteger(), sa.ForeignKey("account.id"),
                  nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_withdrawal_amount_positive"),
        sa.CheckConstraint(f"state IN ({_STATES})", name="ck_withdrawal_state"),
    )
    op.create_table(
        "withdrawal_step",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("withdrawal_id", sa.String(48), sa.ForeignKey("withdrawal.withdrawal_id"),
                  nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
        sa.Column("posting_id", sa.String(64), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.UniqueConstraint("withdrawal_id", "state", name="uq_withdrawal_step"),
    )


def downgrade() -> None:
    op.drop_table("withdrawal_step")
    op.drop_table("withdrawal")
    op.drop_index("ix_account_status_change_account", table_name="account_status_change")
    op.drop_table("account_status_change")
    with op.batch_alter_table("account") as batch:
        batch.drop_constraint("ck_account_status", type_="check")
        batch.drop_column("status")
