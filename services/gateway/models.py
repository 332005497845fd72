"""The gateway's tables: pay and refund orders, the outbox, daily passage usage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime
from paymesh.services.common.telemetry import trace_context_default


class Base(DeclarativeBase):
    pass


class PayOrderState:
    """JeePay's wire codes, stored as they are."""

    INIT = 0
    PAYING = 1
    SUCCESS = 2
    FAIL = 3
    CANCEL = 4
    REFUND = 5
    CLOSED = 6

    NAMES = {0: "created", 1: "paying", 2: "paid", 3: "failed", 4: "cancelled",
             5: "refunded", 6: "closed"}


class PayOrder(Base):
    """A pay order (支付订单). Money in fen; times in UTC."""

    __tablename__ = "pay_order"
    __table_args__ = (UniqueConstraint("mch_no", "mch_order_no", name="uq_pay_order_mch_order"),)

    pay_order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mch_no: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32), index=True)
    mch_order_no: Mapped[str] = mapped_column(String(64))
    if_code: Mapped[str] = mapped_column(String(16))
    way_code: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    state: Mapped[int] = mapped_column(SmallInteger, index=True)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(256))
    notify_url: Mapped[str | None] = mapped_column(String(128))
    return_url: Mapped[str | None] = mapped_column(String(128))
    channel_extra: Mapped[str | None] = mapped_column(Text)
    ext_param: Mapped[str | None] = mapped_column(String(512))
    division_mode: Mapped[int] = mapped_column(SmallInteger, default=0)
    expired_seconds: Mapped[int | None] = mapped_column(Integer)
    expire_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fee_rate: Mapped[str] = mapped_column(String(16))
    fee_amount: Mapped[int] = mapped_column(BigInteger)
    # The rest of the passage's fee model, snapshotted with fee_rate (fees.FeeModel).
    fee_fixed: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_floor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_cap: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_rounding: Mapped[int] = mapped_column(SmallInteger, default=1)
    refund_fee_rule: Mapped[int] = mapped_column(SmallInteger, default=1)
    # The channel's own fee rate and the fee it should charge (the platform's cost); NULL when
    # the passage does not say. Reconciliation checks the bill's fee against it.
    channel_cost_rate: Mapped[str | None] = mapped_column(String(16))
    channel_fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    # The channel config (account) that took the order: "<app_id or isv_no>.<if_code>".
    channel_config_key: Mapped[str | None] = mapped_column(String(96))
    channel_order_no: Mapped[str | None] = mapped_column(String(64))
    pay_data_type: Mapped[str | None] = mapped_column(String(16))
    pay_data: Mapped[str | None] = mapped_column(Text)
    err_code: Mapped[str | None] = mapped_column(String(64))
    err_msg: Mapped[str | None] = mapped_column(String(256))
    late_success: Mapped[bool] = mapped_column(Boolean, default=False)
    route_attempts: Mapped[str | None] = mapped_column(Text)
    limit_day: Mapped[str | None] = mapped_column(String(10))
    # Refunds: what succeeded, what an open refund holds, and which refund that is.
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_in_flight: Mapped[str | None] = mapped_column(String(32))
    refund_times: Mapped[int] = mapped_column(Integer, default=0)
    success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # W3C traceparent of the request that created the order, set on insert: later work on the
    # order joins that trace (common.telemetry.order_span). NULL for orders older than it.
    trace_context: Mapped[str | None] = mapped_column(String(64), default=trace_context_default)
    # The pay sweep's memory of a paying order (sweeps.query_backoff): when its channel is next
    # due to be asked about it (NULL: not asked yet), and how many times it has been asked.
    next_query_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    query_count: Mapped[int] = mapped_column(Integer, default=0)


class RefundState:
    """JeePay's refund codes."""

    INIT = 0
    PAYING = 1
    SUCCESS = 2
    FAIL = 3
    CLOSED = 4

    NAMES = {0: "created", 1: "refunding", 2: "refunded", 3: "failed", 4: "closed"}


class RefundOrder(Base):
    """A refund (退款订单) of a paid order. Money in fen; times in UTC."""

    __tablename__ = "refund_order"
    __table_args__ = (UniqueConstraint("mch_no", "mch_refund_no", name="uq_refund_mch_no"),)

    refund_order_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pay_order_id: Mapped[str] = mapped_column(String(32), index=True)
    mch_no: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    mch_refund_no: Mapped[str] = mapped_column(String(64))
    if_code: Mapped[str] = mapped_column(String(16))
    channel_config_key: Mapped[str | None] = mapped_column(String(96))
    pay_amount: Mapped[int] = mapped_column(BigInteger)
    refund_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    state: Mapped[int] = mapped_column(SmallInteger, index=True)
    reason: Mapped[str] = mapped_column(String(256))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    notify_url: Mapped[str | None] = mapped_column(String(128))
    channel_extra: Mapped[str | None] = mapped_column(Text)
    ext_param: Mapped[str | None] = mapped_column(String(512))
    channel_order_no: Mapped[str | None] = mapped_column(String(64))
    channel_refund_no: Mapped[str | None] = mapped_column(String(64))
    err_code: Mapped[str | None] = mapped_column(String(64))
    err_msg: Mapped[str | None] = mapped_column(String(256))
    success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expire_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # As on PayOrder: the creating request's traceparent, for the refund's later work.
    trace_context: Mapped[str | None] = mapped_column(String(64), default=trace_context_default)


class OutboxEvent(Base):
    """Work another part of the platform must do because a state changed (the outbox).

    Written in the same transaction as the change, delivered at least once by the dispatcher;
    consumers are idempotent on (topic, order_id), which is unique.
    """

    __tablename__ = "outbox_event"
    __table_args__ = (UniqueConstraint("topic", "order_id", name="uq_outbox_topic_order"),)

    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OutboxDelivery(Base):
    """One consumer has handled one outbox event: a retry of the event skips that consumer."""

    __tablename__ = "outbox_delivery"

    event_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                          primary_key=True)
    consumer: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PassageDailyUsage(Base):
    """Amount in fen a passage has taken (or holds for open orders) on one day (UTC+8)."""

    __tablename__ = "passage_daily_usage"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    way_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    if_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class OrderCorrection(Base):
    """A reconciliation decision applied to an order (ApplyCorrection), once per correction_id.

    Written in the transaction that changes the order, so a replay finds it and gets the first
    answer back, a crash never applies it twice, and the fingerprint of the request's content
    tells a replay from a reuse of the id for something else. Amounts in fen; times in UTC.
    """

    __tablename__ = "order_correction"

    correction_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    action: Mapped[int] = mapped_column(SmallInteger)
    fingerprint: Mapped[str] = mapped_column(String(64))
    pay_order_id: Mapped[str] = mapped_column(String(32), index=True)
    refund_order_id: Mapped[str | None] = mapped_column(String(32))
    # The corrected record (pay order, or refund for refund actions) before the change.
    previous_amount: Mapped[int] = mapped_column(BigInteger)
    previous_fee_amount: Mapped[int] = mapped_column(BigInteger)
    previous_state: Mapped[int] = mapped_column(SmallInteger)
    previous_channel_fee_amount: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(256))
    # The record after the change as JSON: what every replay answers.
    answer: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
