"""Value dates on transfers, merchants' settlement terms (T+N) with their audit, and the indexes
settlement, statements and filtered listings read by.

Existing transfers get the China Standard Time (UTC+8) day of their recording time as value
date. The journal refuses UPDATE through a trigger, so the trigger is dropped for that one
backfill and created again in the same migration.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TRIGGER = "ledger_transfer_no_update"
_REFUSE = "ledger_transfer rows are immutable"
_INDEXES = {
    "ix_ledger_transfer_debit_value_date": ["debit_account_id", "value_date"],
    "ix_ledger_transfer_credit_value_date": ["credit_account_id", "value_date"],
    "ix_ledger_transfer_debit_created": ["debit_account_id", "created_at"],
    "ix_ledger_transfer_credit_created": ["credit_account_id", "created_at"],
}


def _utc() -> sa.types.TypeEngine[Any]:
    """UTC datetimes with microseconds on MySQL/MariaDB as on SQLite."""
    return sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def _id() -> sa.types.TypeEngine[Any]:
    """A 64-bit auto-increment key; SQLite only auto-increments INTEGER PRIMARY KEY."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _refuse(action: str) -> None:
    """(Re)creates the trigger refusing ``action`` (UPDATE or DELETE) on the journal."""
    name = f"ledger_transfer_no_{action.lower()}"
    if _sqlite():
        op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON ledger_transfer "
                   f"BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END")
    else:
        op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON ledger_transfer FOR EACH ROW "
                   f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{_REFUSE}'")


def upgrade() -> None:
    # SQLite cannot add a NOT NULL column without a default; the backfill below sets every row.
    op.add_column("ledger_transfer", sa.Column("value_date", sa.String(10), nullable=False,
                                               server_default=""))
    op.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER}")
    # SQLite's date arithmetic rounds to milliseconds (23:59:59.9999995 would become the next
    # day): it gets the time cut to whole seconds first, which never changes the day.
    day = ("date(substr(created_at, 1, 19), '+8 hours')" if _sqlite()
           else "DATE(created_at + INTERVAL 8 HOUR)")
    op.execute(f"UPDATE ledger_transfer SET value_date = {day}")
    _refuse("UPDATE")
    if not _sqlite():  # SQLite would rebuild the table (and lose its triggers) to drop it
        op.alter_column("ledger_transfer", "value_date", server_default=None,
                        existing_type=sa.String(10), existing_nullable=False)
    for name, columns in _INDEXES.items():
        op.create_index(name, "ledger_transfer", columns)
    op.create_index("ix_withdrawal_owner_created", "withdrawal", ["owner", "created_at"])
    op.create_index("ix_withdrawal_state_created", "withdrawal", ["state", "created_at"])
    op.create_table(
        "settlement_terms",
        sa.Column("owner", sa.String(64), primary_key=True),
        sa.Column("settle_days", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.CheckConstraint("settle_days BETWEEN 0 AND 30", name="ck_settlement_terms_days"),
    )
    op.create_table(
        "settlement_terms_change",
        sa.Column("id", _id(), primary_key=True, autoincrement=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("old_days", sa.Integer(), nullable=True),
        sa.Column("new_days", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("note", sa.String(256), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
    )
    op.create_index("ix_settlement_terms_change_owner", "settlement_terms_change",
                    ["owner", "id"])


def downgrade() -> None:
    op.drop_index("ix_settlement_terms_change_owner", table_name="settlement_terms_change")
    op.drop_table("settlement_terms_change")
    op.drop_table("settlement_terms")
    op.drop_index("ix_withdrawal_state_created", table_name="withdrawal")
    op.drop_index("ix_withdrawal_owner_created", table_name="withdrawal")
    for name in _INDEXES:
        op.drop_index(name, table_name="ledger_transfer")
    if _sqlite():  # the batch rebuild of the table drops its triggers: both come back after
        with op.batch_alter_table("ledger_transfer") as batch:
            batch.drop_column("value_date")
        for action in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_transfer_no_{action.lower()}")
            _refuse(action)
    else:
        op.drop_column("ledger_transfer", "value_date")
