"""The account service's tables: accounts, postings, the journal of ledger transfers, the audit
rows of status changes and withdrawals, and the merchants' settlement terms.

An account's ``balance`` (credits minus debits, fen) is updated in the same transaction that
inserts its transfers, under a row lock, so it always equals the fold of its transfers;
CheckInvariants recomputes that fold to prove it. Transfers are never updated or deleted (the
migration installs triggers that refuse it); a correction is a new posting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime, utc_now

# SQLite only auto-increments an INTEGER PRIMARY KEY; it is 64-bit there anyway.
Id = BigInteger().with_variant(Integer(), "sqlite")

POSTED = "POSTED"
REFUSED = "REFUSED"


class Base(DeclarativeBase):
    """Declarative base of the account database only."""


class LedgerAccount(Base):
    """One balance of one owner in one currency (a merchant's pending, a channel's clearing…)."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("owner", "currency", "kind",
                                       name="uq_account_owner_currency_kind"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(24))
    may_go_negative: Mapped[bool] = mapped_column(Boolean)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Posting(Base):
    """A caller's idempotency id, the digest of what it asked for, and how it ended.

    A refusal that depends on the ledger's state (insufficient funds, unknown account) is
    recorded too: as in TigerBeetle, an id that failed once can never succeed later, so a retry
    after the caller has taken another path cannot move money twice.
    """

    __tablename__ = "posting"

    posting_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(String(256))
    refused_account_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class LedgerTransfer(Base):
    """One immutable movement: debits one account and credits another by ``amount`` fen.

    Both accounts' balances right after the transfer are kept, so an account statement needs
    no running sum.
    """

    __tablename__ = "ledger_transfer"
    __table_args__ = (
        UniqueConstraint("posting_id", "position", name="uq_ledger_transfer_posting_position"),
        CheckConstraint("amount > 0", name="ck_ledger_transfer_amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id",
                        name="ck_ledger_transfer_two_accounts"),
        Index("ix_ledger_transfer_debit", "debit_account_id", "id"),
        Index("ix_ledger_transfer_credit", "credit_account_id", "id"),
        Index("ix_ledger_transfer_debit_value_date", "debit_account_id", "value_date"),
        Index("ix_ledger_transfer_credit_value_date", "credit_account_id", "value_date"),
        Index("ix_ledger_transfer_debit_created", "debit_account_id", "created_at"),
        Index("ix_ledger_transfer_credit_created", "credit_account_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    posting_id: Mapped[str] = mapped_column(String(64), ForeignKey("posting.posting_id"))
    position: Mapped[int] = mapped_column(Integer)
    debit_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id"))
    credit_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(32))
    memo: Mapped[str] = mapped_column(String(256))
    debit_balance_after: Mapped[int] = mapped_column(BigInteger)
    credit_balance_after: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # Business day "YYYY-MM-DD" in UTC+8 the money belongs to; settlement (T+N) counts from it.
    value_date: Mapped[str] = mapped_column(String(10))


class AccountStatusChange(Base):
    """One audited change of an account's freeze mode: who, when, why, from what to what."""

    __tablename__ = "account_status_change"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id"))
    old_status: Mapped[str] = mapped_column(String(16))
    new_status: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Withdrawal(Base):
    """A merchant's withdrawal (提现): its amount sits in FROZEN until paid, rejected or failed.

    ``state`` only moves by a conditional UPDATE from the step's allowed state, in the same
    transaction as the step's posting and its ``WithdrawalStep`` row.
    """

    __tablename__ = "withdrawal"
    __table_args__ = (CheckConstraint("amount > 0", name="ck_withdrawal_amount_positive"),
                      Index("ix_withdrawal_owner_created", "owner", "created_at"),
                      Index("ix_withdrawal_state_created", "state", "created_at"))

    withdrawal_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    available_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id"))
    frozen_account_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class WithdrawalStep(Base):
    """One audited step of a withdrawal, unique per (withdrawal, state reached): done once."""

    __tablename__ = "withdrawal_step"
    __table_args__ = (UniqueConstraint("withdrawal_id", "state", name="uq_withdrawal_step"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    withdrawal_id: Mapped[str] = mapped_column(String(48),
                                               ForeignKey("withdrawal.withdrawal_id"))
    state: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(256))
    posting_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class SettlementTerms(Base):
    """A merchant's T+N: its pending funds of value day D settle once D ≤ today − N.

    Merchants without a row have the configured default (PAYMESH_SETTLEMENT_DAYS).
    """

    __tablename__ = "settlement_terms"
    __table_args__ = (CheckConstraint("settle_days BETWEEN 0 AND 30",
                                      name="ck_settlement_terms_days"),)

    owner: Mapped[str] = mapped_column(String(64), primary_key=True)
    settle_days: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class SettlementTermsChange(Base):
    """One audited change of a merchant's settlement terms (``old_days`` None: was the default)."""

    __tablename__ = "settlement_terms_change"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    old_days: Mapped[int | None] = mapped_column(Integer)
    new_days: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
