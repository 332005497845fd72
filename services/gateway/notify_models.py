"""The gateway's tables of merchant notifications (商户通知): records and their attempt log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime
from paymesh.services.gateway.models import Base


class NotifyOrderType:
    """What a notification is about (JeePay's codes)."""

    PAY = 1
    REFUND = 2


class NotifyState:
    """JeePay's record states."""

    SENDING = 1
    SUCCESS = 2
    FAILED = 3

    NAMES = {1: "sending", 2: "success", 3: "failed"}


class NotifyRecord(Base):
    """One notification of one order (or refund) event to its merchant, with its delivery state.

    ``params_json`` holds the signed form fields, frozen when the record is created, so every
    attempt sends the same ``reqTime`` and ``sign`` (as JeePay does). ``next_attempt_at`` is
    also the claim: an attempt starts by moving it forward with a conditional UPDATE.
    """

    __tablename__ = "notify_record"
    __table_args__ = (UniqueConstraint("order_id", "order_type", "event",
                                       name="uq_notify_order_event"),)

    notify_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(32))
    order_type: Mapped[int] = mapped_column(SmallInteger)
    # The outbox topic that created it (pay.succeeded, ...): one record per order and event,
    # so a state a correction changes later is notified too. Empty for records made before.
    event: Mapped[str] = mapped_column(String(32), default="")
    mch_no: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(32))
    mch_order_no: Mapped[str] = mapped_column(String(64))
    notify_url: Mapped[str] = mapped_column(String(128))
    params_json: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(SmallInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    attempt_limit: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class NotifyAttempt(Base):
    """One delivery attempt of a notification: what the merchant answered, and how fast."""

    __tablename__ = "notify_attempt"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    notify_id: Mapped[str] = mapped_column(String(32), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    http_status: Mapped[int] = mapped_column(SmallInteger)  # 0 when no answer came
    latency_ms: Mapped[int] = mapped_column(Integer)
    response_excerpt: Mapped[str] = mapped_column(String(256))
    error: Mapped[str | None] = mapped_column(String(256))
