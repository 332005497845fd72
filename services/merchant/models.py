"""The merchant service's tables.

States are stored as JeePay's codes (1 active, 0 disabled); times are UTC with microseconds on
both backends, so the newest-first cursor of the merchant list is stable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from paymesh.services.common.db import UtcDateTime, utc_now

STATE_ACTIVE = 1
STATE_DISABLED = 0
STATES = (STATE_ACTIVE, STATE_DISABLED)
# JeePay merchant types.
MERCHANT_NORMAL = 1
MERCHANT_ISV_SUB = 2
# Fee rounding and refund-fee rules, stored with the codes of their proto enums; the gateway's
# pay_order snapshot uses the same codes.
ROUNDING_HALF_UP = 1
ROUNDING_CEILING = 2
REFUND_RETURN_PRO_RATA = 1
REFUND_KEEP = 2


class Base(DeclarativeBase):
    """Declarative base of the merchant database only."""


class Merchant(Base):
    """A merchant (商户)."""

    __tablename__ = "merchant"

    mch_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, index=True)
    type: Mapped[int] = mapped_column(SmallInteger, default=MERCHANT_NORMAL)
    isv_no: Mapped[str | None] = mapped_column(String(32), ForeignKey("isv.isv_no"))


class App(Base):
    """An app (应用) of a merchant; its secret is sealed with the master key."""

    __tablename__ = "app"

    app_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    mch_no: Mapped[str] = mapped_column(String(32), ForeignKey("merchant.mch_no"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    secret_sealed: Mapped[str] = mapped_column(String(512))
    allow_private_notify_url: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


def config_key(owner: str, if_code: str) -> str:
    """The stable key of a channel config: "<app_id or isv_no>.<if_code>"."""
    return f"{owner}.{if_code}"


class ChannelConfig(Base):
    """An app's credentials for one channel interface, sealed as one JSON object."""

    __tablename__ = "channel_config"

    app_id: Mapped[str] = mapped_column(String(32), ForeignKey("app.app_id"), primary_key=True)
    if_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    params_sealed: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PayPassage(Base):
    """Which channel interface serves an app's wayCode, with the merchant fee model."""

    __tablename__ = "pay_passage"

    app_id: Mapped[str] = mapped_column(String(32), ForeignKey("app.app_id"), primary_key=True)
    way_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    if_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    fee_rate: Mapped[str] = mapped_column(String(16), default="0")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    max_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    daily_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    # The rest of the fee model (fen; 0 floor or cap: none) and the channel's own rate.
    fee_fixed: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_floor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_cap: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_rounding: Mapped[int] = mapped_column(SmallInteger, default=ROUNDING_HALF_UP)
    refund_fee_rule: Mapped[int] = mapped_column(SmallInteger, default=REFUND_RETURN_PRO_RATA)
    channel_cost_rate: Mapped[str | None] = mapped_column(String(16))


class Isv(Base):
    """A service provider (服务商) whose channel accounts serve its sub-merchants."""

    __tablename__ = "isv"

    isv_no: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class IsvChannelConfig(Base):
    """An ISV's credentials for one channel interface, sealed as one JSON object."""

    __tablename__ = "isv_channel_config"

    isv_no: Mapped[str] = mapped_column(String(32), ForeignKey("isv.isv_no"), primary_key=True)
    if_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    params_sealed: Mapped[str] = mapped_column(Text)
    state: Mapped[int] = mapped_column(SmallInteger, default=STATE_ACTIVE)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
