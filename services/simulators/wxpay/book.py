"""The simulator's order and refund book, with WeChat's own state names (§6.5).

Trade states: ``NOTPAY → SUCCESS | CLOSED | REVOKED | PAYERROR``, ``USERPAYING`` for a barcode
waiting for the payer's password, ``SUCCESS → REFUND`` once a refund is asked. Refunds:
``PROCESSING → SUCCESS | ABNORMAL | CLOSED``. Orders belong to (mchid, sub_mchid): another
merchant asking about them gets ORDER_NOT_EXIST, as at WeChat.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

BEIJING = timezone(timedelta(hours=8))
TRADE_TYPES = {"native": "NATIVE", "jsapi": "JSAPI", "app": "APP", "h5": "MWEB",
               "codepay": "MICROPAY"}
TRADE_STATE_DESC = {
    "NOTPAY": "订单未支付", "USERPAYING": "需要用户输入支付密码", "SUCCESS": "支付成功",
    "REFUND": "转入退款", "CLOSED": "已关闭", "REVOKED": "已撤销", "PAYERROR": "支付失败",
}


def rfc3339(epoch: float) -> str:
    """WeChat's time format: RFC 3339 in Beijing time."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(BEIJING).isoformat(timespec="seconds")


@dataclass
class SimOrder:
    """One payment as WeChat records it."""

    mch_id: str
    sub_mch_id: str
    app_id: str
    sub_app_id: str
    out_trade_no: str
    trade_type: str
    total: int
    description: str
    notify_url: str
    payer: dict[str, str]
    fingerprint: str
    created_at: float
    prepay_id: str = field(default_factory=lambda: "wx" + secrets.token_hex(16))
    trade_state: str = "NOTPAY"
    transaction_id: str = ""
    success_time: str = ""
    refunded: int = 0

    def move(self, state: str, now: float) -> None:
        """Changes the trade state; the first success gets a transaction id and time."""
        self.trade_state = state
        if state in ("SUCCESS", "USERPAYING", "PAYERROR") and not self.transaction_id:
            self.transaction_id = f"42000{datetime.now(UTC):%Y%m%d}{secrets.randbelow(10**15):015d}"
        if state == "SUCCESS":
            self.success_time = rfc3339(now)

    def transaction(self) -> dict[str, Any]:
        """The transaction object of queries, codepay answers and callbacks."""
        data: dict[str, Any] = self._owner(with_app=True)
        data.update({"out_trade_no": self.out_trade_no, "trade_type": self.trade_type,
                     "trade_state": self.trade_state,
                     "trade_state_desc": TRADE_STATE_DESC[self.trade_state],
                     "attach": ""})
        if self.transaction_id:
            data["transaction_id"] = self.transaction_id
        if self.trade_state in ("SUCCESS", "REFUND"):
            data["bank_type"] = "OTHERS"
            data["success_time"] = self.success_time
            data["payer"] = dict(self.payer) or self._default_payer()
        amount = {"total": self.total, "currency": "CNY"}
        if self.trade_state in ("SUCCESS", "REFUND"):
            amount.update(payer_total=self.total, payer_currency="CNY")
        data["amount"] = amount
        return data

    def _owner(self, *, with_app: bool) -> dict[str, Any]:
        if not self.sub_mch_id:
            return {"appid": self.app_id, "mchid": self.mch_id} if with_app \
                else {"mchid": self.mch_id}
        owner = {"sp_mchid": self.mch_id, "sub_mchid": self.sub_mch_id}
        if with_app:
            owner["sp_appid"] = self.app_id
            if self.sub_app_id:
                owner["sub_appid"] = self.sub_app_id
        return owner

    def _default_payer(self) -> dict[str, str]:
        key = "sp_openid" if self.sub_mch_id else "openid"
        return {key: "oSim" + secrets.token_hex(12)}


@dataclass
class SimRefund:
    """One refund of a payment."""

    order: SimOrder
    out_refund_no: str
    refund: int
    reason: str
    notify_url: str
    created_at: float
    refund_id: str = field(
        default_factory=lambda: "50300" + "".join(secrets.choice("0123456789") for _ in range(24)))
    status: str = "PROCESSING"
    success_time: str = ""

    def finish(self, status: str, now: float) -> None:
        """Moves a PROCESSING refund to its end; a CLOSED refund gives the amount back."""
        self.status = status
        if status == "SUCCESS":
            self.success_time = rfc3339(now)
        if status == "CLOSED":
            self.order.refunded -= self.refund

    def answer(self) -> dict[str, Any]:
        """The refund object of the refund and refund-query answers."""
        data: dict[str, Any] = {
            "refund_id": self.refund_id, "out_refund_no": self.out_refund_no,
            "transaction_id": self.order.transaction_id, "out_trade_no": self.order.out_trade_no,
            "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
            "create_time": rfc3339(self.created_at), "status": self.status,
            "funds_account": "AVAILABLE", "amount": self._amount(full=True)}
        if self.success_time:
            data["success_time"] = self.success_time
        return data

    def resource(self) -> dict[str, Any]:
        """The decrypted resource of a REFUND.* callback (no appid, no trade_state)."""
        data: dict[str, Any] = self.order._owner(with_app=False)
        data.update({"transaction_id": self.order.transaction_id,
                     "out_trade_no": self.order.out_trade_no, "refund_id": self.refund_id,
                     "out_refund_no": self.out_refund_no, "refund_status": self.status,
                     "user_received_account": "支付用户零钱", "amount": self._amount(full=False)})
        if self.success_time:
            data["success_time"] = self.success_time
        return data

    def _amount(self, *, full: bool) -> dict[str, Any]:
        amount: dict[str, Any] = {"total": self.order.total, "refund": self.refund,
                                  "payer_total": self.order.total, "payer_refund": self.refund}
        if full:
            amount.update(settlement_total=self.order.total, settlement_refund=self.refund,
                          discount_refund=0, currency="CNY", refund_fee=0)
        return amount


@dataclass
class Book:
    """All orders and refunds, keyed by their owner and merchant numbers."""

    orders: dict[tuple[str, str, str], SimOrder] = field(default_factory=dict)
    refunds: dict[tuple[str, str, str], SimRefund] = field(default_factory=dict)

    def order(self, mch_id: str, sub_mch_id: str, out_trade_no: str) -> SimOrder | None:
        """The merchant's order, or None (also when it belongs to someone else)."""
        return self.orders.get((mch_id, sub_mch_id, out_trade_no))

    def order_by_transaction(self, mch_id: str, sub_mch_id: str,
                             transaction_id: str) -> SimOrder | None:
        """The merchant's order with this WeChat transaction id."""
        for (mch, sub, _), order in self.orders.items():
            if (mch, sub) == (mch_id, sub_mch_id) and order.transaction_id == transaction_id:
                return order
        return None

    def find_order(self, out_trade_no: str) -> SimOrder | None:
        """Any merchant's order with this number (for test controls)."""
        return next((o for (_, _, no), o in self.orders.items() if no == out_trade_no), None)

    def find_refund(self, out_refund_no: str) -> SimRefund | None:
        """Any merchant's refund with this number (for test controls)."""
        return next((r for (_, _, no), r in self.refunds.items() if no == out_refund_no), None)

    def snapshot(self) -> dict[str, Any]:
        """The whole book as JSON, for ``GET /__sim/book``."""
        return {"orders": [o.transaction() | {"notify_url": o.notify_url, "refunded": o.refunded}
                           for o in self.orders.values()],
                "refunds": [r.answer() for r in self.refunds.values()]}
