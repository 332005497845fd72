"""The OpenAPI methods the simulator answers, on top of its book.

Each handler takes the verified caller and the ``biz_content`` object and returns the fields of
the ``<method>_response`` object, or raises :class:`Refusal`. Payments that change a trade's
state hand the trade to ``notify`` so the notifier tells the merchant's ``notify_url``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paymesh.services.simulators.alipay.book import (
    Book,
    Refusal,
    Trade,
    beijing,
    expired,
    new_trade_no,
    to_fen,
    to_yuan,
)

OK = {"code": "10000", "msg": "Success"}
_AUTH_CODE = re.compile(r"(2[5-9]|30)[0-9]{14,22}")
DEFAULT_BUYER = "2088102146225135"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the signing app, the merchant it acts for, and the request's URLs."""

    app_id: str
    merchant: str
    notify_url: str


class Methods:
    """Handlers by method name; the gateway holds the lock while one runs."""

    def __init__(self, book: Book, clock: Callable[[], float],
                 notify: Callable[[Trade, dict[str, str]], None]) -> None:
        self.book = book
        self.clock = clock
        self.notify = notify
        self.barcode_modes: dict[str, str] = {}
        self.handlers: dict[str, Callable[[Caller, dict[str, Any]], dict[str, Any]]] = {
            "alipay.trade.precreate": self.precreate,
            "alipay.trade.create": self.create,
            "alipay.trade.pay": self.barcode_pay,
            "alipay.trade.query": self.query,
            "alipay.trade.close": self.close,
            "alipay.trade.cancel": self.cancel,
            "alipay.trade.refund": self.refund,
            "alipay.trade.fastpay.refund.query": self.refund_query,
        }

    def new_trade(self, caller: Caller, biz: dict[str, Any], product: str, seen: bool) -> Trade:
        """Validates the common trade fields and books the trade (idempotently)."""
        out_trade_no = biz.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not 0 < len(out_trade_no) <= 64:
            raise Refusal("isv.missing-parameter", "缺少必选参数 out_trade_no", code="40001")
        subject = biz.get("subject")
        if not isinstance(subject, str) or not subject:
            raise Refusal("isv.missing-parameter", "缺少必选参数 subject", code="40001")
        now = self.clock()
        trade = Trade(out_trade_no=out_trade_no, app_id=caller.app_id,
                      auth_app_id=caller.merchant, fen=to_fen(biz.get("total_amount")),
                      subject=subject, body=str(biz.get("body") or ""), product=product,
                      notify_url=caller.notify_url, trade_no=new_trade_no(now),
                      created_at=beijing(now), seen=seen,
                      time_expire=str(biz.get("time_expire") or ""))
        trade = self.book.open(trade)
        if expired(trade, now):
            trade.status = "TRADE_CLOSED"
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
        return trade

    def precreate(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.new_trade(caller, biz, "precreate", seen=False)
        if not trade.qr_code:
            trade.qr_code = "https://qr.alipay.com/bax0" + secrets.token_hex(12)
        return {**OK, "out_trade_no": trade.out_trade_no, "qr_code": trade.qr_code}

    def create(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        buyer_id, open_id = str(biz.get("buyer_id") or ""), str(biz.get("buyer_open_id") or "")
        if not (buyer_id or open_id):
            raise Refusal("ACQ.BUYER_NOT_EXIST", "买家不存在")
        trade = self.new_trade(caller, biz, "create", seen=True)
        trade.buyer_id, trade.buyer_open_id = buyer_id, open_id
        return {**OK, "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no}

    def barcode_pay(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        if biz.get("scene") != "bar_code":
            raise Refusal("isv.invalid-parameter", "scene 只支持 bar_code", code="40002")
        auth_code = str(biz.get("auth_code") or "")
        if not _AUTH_CODE.fullmatch(auth_code):
            raise Refusal("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败")
        mode = self.barcode_modes.get(auth_code, "pay")
        if mode == "insufficient":
            raise Refusal("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")
        trade = self.new_trade(caller, biz, "bar_code", seen=True)
        trade.buyer_id = DEFAULT_BUYER
        fields = {"out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no,
                  "total_amount": to_yuan(trade.fen), "buyer_logon_id": "159****5620"}
        if mode == "password":
            trade.awaiting_password = True
            return {"code": "10003", "msg": "Order success pay inprocess", **fields}
        self.settle(trade, DEFAULT_BUYER)
        return {**OK, **fields, "buyer_user_id": trade.buyer_id, "gmt_payment": trade.paid_at,
                "receipt_amount": to_yuan(trade.fen)}

    def query(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.book.find(caller.merchant, str(biz.get("out_trade_no") or ""))
        if trade.status == "WAIT_BUYER_PAY" and expired(trade, self.clock()):
            self.end(trade, "TRADE_CLOSED")
        fields = {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                  "trade_status": trade.status, "total_amount": to_yuan(trade.fen),
                  "buyer_logon_id": "159****5620" if trade.buyer_id else ""}
        if trade.paid_at:
            fields.update(send_pay_date=trade.paid_at, buyer_user_id=trade.buyer_id)
        return fields

    def close(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.book.find(caller.merchant, str(biz.get("out_trade_no") or ""))
        if trade.status != "WAIT_BUYER_PAY":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status, trade.awaiting_password = "TRADE_CLOSED", False
        return {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def cancel(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        out_trade_no = str(biz.get("out_trade_no") or "")
        try:
            trade = self.book.find(caller.merchant, out_trade_no, unseen=True)
        except Refusal:  # cancel also blocks a payment that has not arrived yet
            self.book.cancelled.add((caller.merchant, out_trade_no))
            return {**OK, "out_trade_no": out_trade_no, "retry_flag": "N", "action": "close"}
        action = "close"
        if trade.status == "TRADE_SUCCESS":
            self.book.refund(trade, out_trade_no, trade.fen - trade.refunded_fen,
                             beijing(self.clock()))
            action = "refund"
        elif trade.status == "TRADE_FINISHED":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", "交易已完结，不能撤销")
        trade.status, trade.awaiting_password = "TRADE_CLOSED", False
        return {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                "retry_flag": "N", "action": action}

    def refund(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.book.find(caller.merchant, str(biz.get("out_trade_no") or ""))
        fen = to_fen(biz.get("refund_amount"))
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        now = beijing(self.clock())
        changed = self.book.refund(trade, request_no, fen, now)
        if changed:
            self.notify(trade, {"refund_fee": to_yuan(trade.refunded_fen), "gmt_refund": now,
                                "out_biz_no": request_no})
        return {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                "buyer_logon_id": "159****5620", "fund_change": "Y" if changed else "N",
                "refund_fee": to_yuan(trade.refunded_fen), "gmt_refund_pay": now}

    def refund_query(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        trade = self.book.find(caller.merchant, str(biz.get("out_trade_no") or ""))
        request_no = str(biz.get("out_request_no") or "")
        fields = {**OK, "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
                  "out_request_no": request_no}
        refund = trade.refunds.get(request_no)
        if refund is not None:
            fields.update(refund_amount=to_yuan(refund.fen), total_amount=to_yuan(trade.fen),
                          refund_status="REFUND_SUCCESS", gmt_refund_pay=refund.at)
        return fields

    def settle(self, trade: Trade, buyer: str) -> None:
        """The payer paid: WAIT_BUYER_PAY → TRADE_SUCCESS, then the notification."""
        if trade.status != "WAIT_BUYER_PAY":
            raise Refusal("ACQ.TRADE_STATUS_ERROR", f"交易状态为 {trade.status}，不能支付")
        if expired(trade, self.clock()):
            self.end(trade, "TRADE_CLOSED")
            raise Refusal("ACQ.TRADE_HAS_CLOSE", "交易已超时关闭")
        wanted = trade.buyer_id or trade.buyer_open_id
        if wanted and buyer and buyer != wanted:
            raise Refusal("ACQ.BUYER_NOT_MATCH", "付款人与下单指定买家不一致")
        trade.seen, trade.awaiting_password = True, False
        trade.buyer_id = trade.buyer_id or (buyer if buyer.startswith("2088") else DEFAULT_BUYER)
        trade.status, trade.paid_at = "TRADE_SUCCESS", beijing(self.clock())
        self.notify(trade, {})

    def end(self, trade: Trade, status: str) -> None:
        """Closes (timeout) or finishes a trade, and tells the merchant."""
        trade.status, trade.awaiting_password = status, False
        self.notify(trade, {})
