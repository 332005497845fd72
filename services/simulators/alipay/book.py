"""The simulator's ledger of trades and refunds, with Alipay's real state names.

``WAIT_BUYER_PAY → TRADE_SUCCESS → TRADE_CLOSED`` (fully refunded) or ``TRADE_FINISHED``, and
``WAIT_BUYER_PAY → TRADE_CLOSED`` for a trade closed unpaid. Precreate, page, wap and app trades
start *unseen*: like the real gateway, queries answer ``ACQ.TRADE_NOT_EXIST`` until the payer
scans the code or opens the cashier. Amounts are kept in fen; yuan only on the wire.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8))
_YUAN = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?")
MAX_FEN = 100_000_000_00


class Refusal(Exception):
    """A business refusal the gateway answers as ``code`` + ``sub_code``."""

    def __init__(self, sub_code: str, sub_msg: str, code: str = "40004") -> None:
        super().__init__(sub_msg)
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg


@dataclass
class Refund:
    """One refund request, keyed by its ``out_request_no``."""

    out_request_no: str
    fen: int
    at: str


@dataclass
class Trade:
    """One trade as the simulator's Alipay holds it."""

    out_trade_no: str
    app_id: str
    auth_app_id: str
    fen: int
    subject: str
    body: str
    product: str
    notify_url: str
    trade_no: str
    created_at: str
    seen: bool
    time_expire: str = ""
    status: str = "WAIT_BUYER_PAY"
    buyer_id: str = ""
    buyer_open_id: str = ""
    qr_code: str = ""
    awaiting_password: bool = False
    paid_at: str = ""
    refunds: dict[str, Refund] = field(default_factory=dict)

    @property
    def refunded_fen(self) -> int:
        """Cumulative refunded amount."""
        return sum(refund.fen for refund in self.refunds.values())

    def as_json(self) -> dict[str, Any]:
        """The trade for the ``/__sim/book`` control."""
        data = asdict(self)
        data["refunded_fen"] = self.refunded_fen
        return data


def to_fen(yuan: object) -> int:
    """Fen from a wire yuan string; ACQ.INVALID_PARAMETER when it is not one Alipay accepts."""
    match = _YUAN.fullmatch(yuan) if isinstance(yuan, str) else None
    if match is None:
        raise Refusal("ACQ.INVALID_PARAMETER", f"金额格式错误: {yuan!r}")
    fen = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if not 1 <= fen <= MAX_FEN:
        raise Refusal("ACQ.INVALID_PARAMETER", "金额超出范围 [0.01, 100000000]")
    return fen


def to_yuan(fen: int) -> str:
    """The wire form of an amount in fen."""
    yuan, cents = divmod(fen, 100)
    return f"{yuan}.{cents:02d}"


def beijing(epoch: float) -> str:
    """Alipay's ``yyyy-MM-dd HH:mm:ss`` Beijing time."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def new_trade_no(epoch: float) -> str:
    """A 28-digit trade number shaped like Alipay's."""
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y%m%d") + "2200" + "".join(
        secrets.choice("0123456789") for _ in range(16))


def expired(trade: Trade, epoch: float) -> bool:
    """Whether a waiting trade is past its ``time_expire``."""
    return bool(trade.time_expire) and beijing(epoch) > trade.time_expire


class Book:
    """Trades by (merchant app, out_trade_no); not thread-safe, the gateway holds its lock."""

    def __init__(self) -> None:
        self.trades: dict[tuple[str, str], Trade] = {}
        self.cancelled: set[tuple[str, str]] = set()

    def find(self, merchant: str, out_trade_no: str, *, unseen: bool = False) -> Trade:
        """The trade, or ACQ.TRADE_NOT_EXIST (unseen trades count only when asked)."""
        trade = self.trades.get((merchant, out_trade_no))
        if trade is None or not (trade.seen or unseen):
            raise Refusal("ACQ.TRADE_NOT_EXIST", "交易不存在")
        return trade

    def open(self, trade: Trade) -> Trade:
        """Books a new trade, or returns the same one again; refuses a changed or ended one."""
        key = (trade.auth_app_id, trade.out_trade_no)
        if key in self.cancelled:
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        old = self.trades.get(key)
        if old is None:
            self.trades[key] = trade
            return trade
        if old.status in ("TRADE_SUCCESS", "TRADE_FINISHED"):
            raise Refusal("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
        if old.status == "TRADE_CLOSED":
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        if (old.fen, old.subject, old.product) != (trade.fen, trade.subject, trade.product):
            raise Refusal("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        old.seen = old.seen or trade.seen
        return old

    def refund(self, trade: Trade, out_request_no: str, fen: int, now: str) -> bool:
        """Books a refund; False when the same request was already booked (no fund change)."""
        if trade.status == "TRADE_FINISHED":
            raise Refusal("ACQ.TRADE_NOT_ALLOW_REFUND", "当前交易不允许退款")
        earlier = trade.refunds.get(out_request_no)
        if earlier is not None:
            if earlier.fen != fen:
                raise Refusal("ACQ.CONTEXT_INCONSISTENT", "同一退款请求号的退款金额不一致")
            return False
        if trade.status != "TRADE_SUCCESS":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if trade.refunded_fen + fen > trade.fen:
            raise Refusal("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        trade.refunds[out_request_no] = Refund(out_request_no, fen, now)
        if trade.refunded_fen == trade.fen:
            trade.status = "TRADE_CLOSED"
        return True
