"""Accounts, postings and the journal of ledger transfers, with triggers keeping it immutable.

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

IMMUTABLE = ("posting", "ledger_transfer")


def _utc() -> sa.types.TypeEngine[Any]:
    """UTC datetimes with microseconds on MySQL/MariaDB as on SQLite."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _id() -> sa.types.TypeEngine[Any]:
    """A 64-bit auto-increment key; SQLite only auto-increments INTEGER PRIMARY KEY."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("may_go_negative", sa.Boolean(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.UniqueConstraint("owner", "currency", "kind", name="uq_account_owner_currency_kind"),
    )
    op.create_table(
        "posting",
        sa.Column("posting_id", sa.String(64), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("message", sa.String(256), nullable=True),
        sa.Column("refused_account_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_table(
        "ledger_transfer",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("posting_id", sa.String(64), sa.ForeignKey("posting.posting_id"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("debit_account_id", sa.BigInteger(), sa.ForeignKey("account.id"),
                  nullable=False),
        sa.Column("credit_account_id", sa.BigInteger(), sa.ForeignKey("account.id"),
                  nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("memo", sa.String(256), nullable=False),
        sa.Column("debit_balance_after", sa.BigInteger(), nullable=False),
        sa.Column("credit_balance_after", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.UniqueConstraint("posting_id", "position", name="uq_ledger_transfer_posting_position"),
        sa.CheckConstraint("amount > 0", name="ck_ledger_transfer_amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id",
                           name="ck_ledger_transfer_two_accounts"),
    )
    op.create_index("ix_ledger_transfer_debit", "ledger_transfer", ["debit_account_id", "id"])
    op.create_index("ix_ledger_transfer_credit", "ledger_transfer", ["credit_account_id", "id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in IMMUTABLE:
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_no_{action.lower()}"
            refuse = f"{table} rows are immutable"
            if sqlite:
                op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{refuse}'); END")
            else:
                op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} FOR EACH ROW "
                           f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{refuse}'")


def downgrade() -> None:
    for table in IMMUTABLE:
        for action in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    op.drop_index("ix_ledger_transfer_credit", table_name="ledger_transfer")
    op.drop_index("ix_ledger_transfer_debit", table_name="ledger_transfer")
    op.drop_table("ledger_transfer")
    op.drop_table("posting")
    op.drop_table("account")
