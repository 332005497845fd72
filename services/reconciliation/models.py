"""The reconciliation database: batches, mistakes, the carry-over pool, rows matched ahead.

Bill rows are not stored here: a run spills them (and the platform's records) into partition files
of a temporary directory, matches them there, and keeps only what it found. Money in fen; times
in UTC; bill dates are "YYYY-MM-DD" strings of China Standard Time (UTC+8) days.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; it is 64-bit there anyway.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base of the reconciliation database only."""


class BatchState:
    """A batch's states (the proto's BatchState names)."""

    RUNNING = "RUNNING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    ERROR = "ERROR"
    NOBILL = "NOBILL"
    FINISHED = (SUCCESS, NOBILL)


class MistakeState:
    """A mistake's handling states (the proto's MistakeState names)."""

    NOHANDLE = "NOHANDLE"
    HANDLING = "HANDLING"
    HANDLED = "HANDLED"
    OPEN = (NOHANDLE, HANDLING)


class PoolState:
    """A carry-over pool entry: waiting for a later bill, cleared by one, or expired."""

    WAITING = "WAITING"
    CLEARED = "CLEARED"
    EXPIRED = "EXPIRED"


class ReconBatch(Base):
    """One batch per (channel config, bill date), run under a lease."""

    __tablename__ = "recon_batch"
    __table_args__ = (UniqueConstraint("channel_config_key", "bill_date",
                                       name="uq_recon_batch_config_date"),
                      Index("ix_recon_batch_date", "bill_date"))

    batch_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_config_key: Mapped[str] = mapped_column(String(96))
    if_code: Mapped[str] = mapped_column(String(16))
    mch_no: Mapped[str] = mapped_column(String(32), default="")
    bill_date: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error_reason: Mapped[str] = mapped_column(String(64), default="")
    error_message: Mapped[str] = mapped_column(String(512), default="")
    platform_pay_count: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_pay_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_refund_count: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_pay_count: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_pay_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_refund_count: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    matched_count: Mapped[int] = mapped_column(BigInteger, default=0)
    mistake_count: Mapped[int] = mapped_column(BigInteger, default=0)
    bill_row_count: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_record_count: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_added: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_cleared: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_expired: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReconMistake(Base):
    """One difference found by a batch; unique per (batch, kind, record, type), so a batch run
    again never records it twice. Handling steps: NOHANDLE → HANDLING(decision) → HANDLED."""

    __tablename__ = "recon_mistake"
    __table_args__ = (UniqueConstraint("batch_id", "kind", "record_key", "mistake_type",
                                       name="uq_recon_mistake_record_type"),
                      Index("ix_recon_mistake_state_mch", "handle_state", "mch_no"))

    mistake_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    bill_date: Mapped[str] = mapped_column(String(10))
    channel_config_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[int] = mapped_column(SmallInteger)  # 1 pay, 2 refund (the proto's TradeKind)
    mistake_type: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    pay_order_id: Mapped[str] = mapped_column(String(64))
    refund_order_id: Mapped[str] = mapped_column(String(64), default="")
    mch_no: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(8), default="")
    platform_found: Mapped[bool] = mapped_column(Boolean)
    platform_state: Mapped[int] = mapped_column(SmallInteger, default=-1)
    platform_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    platform_channel_fee: Mapped[int | None] = mapped_column(BigInteger)
    platform_success_time: Mapped[int] = mapped_column(BigInteger, default=0)  # epoch s, 0 none
    platform_channel_config_key: Mapped[str] = mapped_column(String(96), default="")
    channel_found: Mapped[bool] = mapped_column(Boolean)
    channel_status: Mapped[int] = mapped_column(SmallInteger, default=0)  # proto BillRowStatus
    channel_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_fee: Mapped[int] = mapped_column(BigInteger, default=0)
    channel_order_no: Mapped[str] = mapped_column(String(64), default="")
    channel_trade_time: Mapped[int] = mapped_column(BigInteger, default=0)  # epoch s, 0 none
    handle_state: Mapped[str] = mapped_column(String(8))
    decision: Mapped[str] = mapped_column(String(24), default="")
    operator: Mapped[str] = mapped_column(String(64), default="")
    remark: Mapped[str] = mapped_column(String(256), default="")
    correction_action: Mapped[str] = mapped_column(String(48), default="")
    posting_id: Mapped[str] = mapped_column(String(64), default="")
    # The merchant account a debit comes from (PENDING or AVAILABLE), chosen once before posting
    # so a retried handling posts exactly the same transfers.
    posting_source: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PoolEntry(Base):
    """A platform success the day's bill did not have (缓冲池): it waits for the bills of the next
    3 days; a row in one of them clears it, otherwise it becomes BANK_MISS.

    ``closed_batch_id`` is the batch that cleared or expired it, so that batch run again can
    reopen and redo exactly what it did."""

    __tablename__ = "recon_pool"
    __table_args__ = (UniqueConstraint("channel_config_key", "kind", "record_key",
                                       name="uq_recon_pool_record"),
                      Index("ix_recon_pool_open", "channel_config_key", "state", "origin_date"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel_config_key: Mapped[str] = mapped_column(String(96))
    kind: Mapped[int] = mapped_column(SmallInteger)
    record_key: Mapped[str] = mapped_column(String(64))
    origin_date: Mapped[str] = mapped_column(String(10))
    origin_batch_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(8))
    closed_batch_id: Mapped[str | None] = mapped_column(String(32), index=True)
    pay_order_id: Mapped[str] = mapped_column(String(64))
    refund_order_id: Mapped[str] = mapped_column(String(64), default="")
    mch_no: Mapped[str] = mapped_column(String(32), default="")
    currency: Mapped[str] = mapped_column(String(8), default="")
    platform_state: Mapped[int] = mapped_column(SmallInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    fee_amount: Mapped[int] = mapped_column(BigInteger)
    channel_fee: Mapped[int | None] = mapped_column(BigInteger)
    success_time: Mapped[int] = mapped_column(BigInteger)
    record_config_key: Mapped[str] = mapped_column(String(96), default="")
    channel_order_no: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MatchedAhead(Base):
    """A bill row matched to a platform record whose success the platform dates to a later day
    (a payment at the channel just before midnight, notified just after): that later day's
    batch must not wait for it in the pool."""

    __tablename__ = "recon_matched_ahead"

    channel_config_key: Mapped[str] = mapped_column(String(96), primary_key=True)
    kind: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    record_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
