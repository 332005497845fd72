"""Channel bills (对账单) in the one vocabulary the platform understands.

An adapter that has bills implements::

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill

It downloads the day's file (a China Standard Time calendar day) to a temporary file and returns
a :class:`Bill` whose ``lines`` are parsed lazily from that file, so memory stays bounded
whatever the bill's size. ``totals()`` gives the totals the bill states about itself (its summary
rows or trailer); it is only meaningful once ``lines`` is exhausted. The servicer's DownloadBill
sums the lines as it streams them and refuses the bill (BILL_MALFORMED) when they disagree.

Amounts are integer fen; fees are positive on payments and negative (given back) on refunds.
Besides the shared types: :func:`check_totals` (the servicer's check), :func:`empty_bill` (a day
without trades), :func:`fee_of` (a rate's fee, half up), :class:`ChannelUnavailable`
(CHANNEL_UNAVAILABLE, UNAVAILABLE: no trustworthy answer, retry) and ``CST`` (UTC+8).
"""

from __future__ import annotations

import datetime
import enum
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

import grpc

from paymesh.services.common.errors import DomainError

#: Bill dates are China Standard Time calendar days.
CST = datetime.timezone(datetime.timedelta(hours=8), "CST")


class BillKind(enum.IntEnum):
    """What a bill row records; values equal the proto's ``BILL_ROW_KIND_*`` numbers."""

    PAY = 1
    REFUND = 2


class BillStatus(enum.IntEnum):
    """Where a bill row's trade stands; values equal the proto's ``BILL_ROW_STATUS_*`` numbers."""

    SUCCESS = 1
    PROCESSING = 2
    FAILED = 3


class BillLine(NamedTuple):
    """One normalized bill row (a NamedTuple: millions of them are made per bill)."""

    kind: BillKind
    channel_order_no: str
    pay_order_id: str
    refund_order_id: str
    channel_refund_no: str
    amount: int
    fee: int
    status: BillStatus
    trade_time: int
    currency: str


@dataclass(frozen=True)
class BillTotals:
    """The totals a bill states about itself. Fen; ``fee`` sums refund fees as negatives."""

    pay_count: int
    pay_amount: int
    refund_count: int
    refund_amount: int
    fee: int


def _nothing() -> None:
    return None


@dataclass
class Bill:
    """A downloaded bill: lazy lines, its own totals (after the lines), and its temp file's end."""

    lines: Iterator[BillLine]
    totals: Callable[[], BillTotals]
    cleanup: Callable[[], None] = field(default=_nothing)


class BillNotReady(DomainError):
    """The channel has not produced the day's bill yet; retry later."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, message: str = "the channel has not produced this day's bill yet") -> None:
        super().__init__("BILL_NOT_READY", message)


class BillMalformed(DomainError):
    """The bill does not parse, fails its hash, or its totals disagree with its rows."""

    code = grpc.StatusCode.DATA_LOSS

    def __init__(self, message: str) -> None:
        super().__init__("BILL_MALFORMED", message)


class ChannelUnavailable(DomainError):
    """The channel could not be asked, or gave no trustworthy answer; retry later."""

    code = grpc.StatusCode.UNAVAILABLE

    def __init__(self, message: str) -> None:
        super().__init__("CHANNEL_UNAVAILABLE", message)


_TOTAL_NAMES = ("pay_count", "pay_amount", "refund_count", "refund_amount", "fee")


def check_totals(summed: BillTotals, stated: BillTotals) -> None:
    """BILL_MALFORMED naming every total where the rows (``summed``) and the bill disagree."""
    differing = [f"{name}: the rows sum to {getattr(summed, name)}, the bill states "
                 f"{getattr(stated, name)}" for name in _TOTAL_NAMES
                 if getattr(summed, name) != getattr(stated, name)]
    if differing:
        raise BillMalformed("the bill's totals disagree with its rows (" + "; ".join(differing)
                            + ")")


def empty_bill() -> Bill:
    """The bill of a day without trades."""
    return Bill(lines=iter(()), totals=lambda: BillTotals(0, 0, 0, 0, 0))


_FEN = Decimal(1)


def yuan_to_fen(text: str) -> int:
    """Yuan as decimal text ("12.34", "-0.00600", "7") to integer fen, half up, sign kept.

    Exact (Decimal, any number of decimals); a tie rounds away from zero on either sign, so a
    refund's fee is the exact negative of the same payment's fee. BILL_MALFORMED when not a number.
    """
    try:
        value = Decimal(text.strip()) * 100
    except (InvalidOperation, AttributeError):
        raise BillMalformed(f"not an amount: {text!r}") from None
    if not value.is_finite():
        raise BillMalformed(f"not an amount: {text!r}")
    return int(value.quantize(_FEN, rounding=ROUND_HALF_UP))


def fee_of(amount: int, rate: Decimal) -> int:
    """The channel fee on ``amount`` fen at ``rate`` (0.006 = 0.6 %), half up to the fen."""
    value = Decimal(abs(amount)) * rate
    fee = int(value.quantize(_FEN, rounding=ROUND_HALF_UP))
    return -fee if amount < 0 else fee


def remove_quietly(path: str) -> Callable[[], None]:
    """A cleanup that deletes ``path`` (a bill's temporary file) and ignores it being gone."""

    def cleanup() -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    return cleanup
