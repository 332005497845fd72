"""The sandbox channel's own book: the payments and refunds it took, as a channel keeps them.

The channel service owns no platform data; this table is the simulated channel's side of a
payment, so the sandbox can answer queries and callbacks the way a real channel would.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime


class Base(DeclarativeBase):
    """Declarative base of the channel service's tables."""


class SandboxState(enum.StrEnum):
    """The sandbox's own payment states; the adapter maps them onto ChannelState."""

    WAITING = "WAITING"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"
    CLOSED = "CLOSED"


class SandboxPayment(Base):
    """One payment the sandbox took, found by its page token or by the platform order id.

    Times are naive UTC. ``key_sealed`` is the app's sandbox signing key, encrypted under the
    master key, kept so the payer's page can sign the callback without the platform's channel
    parameters.
    """

    __tablename__ = "sandbox_payment"
    __table_args__ = (
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount",
                        name="ck_sandbox_payment_refunded_amount"),
    )

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    pay_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(256))
    way_code: Mapped[str] = mapped_column(String(32))
    notify_url: Mapped[str] = mapped_column(String(1024))
    key_sealed: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(16))
    channel_order_no: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expire_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Fen refunded or being refunded (PROCESSING refunds hold their amount); ≤ amount.
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # When the payment succeeded (its bill day); None until then.
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)


class SandboxRefundState(enum.StrEnum):
    """The sandbox's own refund states; the adapter maps them onto ChannelState."""

    PROCESSING = "PROCESSING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class SandboxRefund(Base):
    """One refund the sandbox took, keyed by the platform's refund id. Amount in fen, ≥ 1.

    A barcode payment reversed by CancelPayment after it succeeded is refunded in full under the
    id ``cancel:{pay_order_id}`` (a colon never appears in a platform refund id).
    """

    __tablename__ = "sandbox_refund"

    refund_order_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    pay_order_id: Mapped[str] = mapped_column(String(64), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    channel_refund_no: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the refund last changed: for a SUCCESS refund, when it succeeded (its bill day).
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class SandboxBillMistakeKind(enum.StrEnum):
    """How a planted mistake makes the sandbox's bill disagree with the platform."""

    AMOUNT = "AMOUNT"
    FEE = "FEE"
    STATUS = "STATUS"
    OMIT = "OMIT"
    EXTRA = "EXTRA"


class SandboxBillMistake(Base):
    """A test's planted disagreement in the sandbox's bills, about one order or refund id.

    ``ref`` is a pay order id (payment rows, EXTRA) or a refund order id (refund rows). AMOUNT and
    FEE give the fen the bill reports, STATUS the status it reports (SUCCESS, PROCESSING,
    FAILED), OMIT leaves the row out, EXTRA adds a payment the platform never made on
    ``bill_date`` (amount, and fee or the feeRate's).
    """

    __tablename__ = "sandbox_bill_mistake"

    ref: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fee: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="", server_default="")
    bill_date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
