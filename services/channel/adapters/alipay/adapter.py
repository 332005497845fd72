"""The Alipay OpenAPI channel (ifCode ``alipay``): wayCodes onto OpenAPI methods, answers onto
the platform's one ChannelState vocabulary.

=================  =====================================  ==========================================
wayCode            method                                 pay data
=================  =====================================  ==========================================
ALI_QR, ALI_OC     alipay.trade.precreate                 codeUrl = qr_code
ALI_BAR            alipay.trade.pay (scene=bar_code)      none; 10000 paid, 10003 waiting for a PIN
ALI_WAP, ALI_PC    wap.pay / page.pay (no server call)    payurl = signed gateway URL, or form
ALI_APP            app.pay (no server call)               aliapp = signed order string
ALI_JSAPI, LITE    alipay.trade.create                    aliapp = trade_no
=================  =====================================  ==========================================

Alipay creates precreate, page, wap and app trades only when the payer scans or opens them, so
until then a query answers ``ACQ.TRADE_NOT_EXIST``: reported as WAITING (not a failure), and a
close of such a trade is a success. ``time_expire`` is sent from the order's expiry so the code
cannot be paid after the platform gives up on it; a later success still arrives by query or
notification. A query answering TRADE_CLOSED (closed unpaid, or fully refunded) is CONFIRM_FAIL:
the caller must not move a successful order back on it.

The adapter is also a :class:`~paymesh.services.channel.adapters.base.PayerIdentification`: the
aggregated-QR cashier learns the payer's Alipay id by web authorisation (see :mod:`.payer`), and
it downloads the daily trade bill (对账单) for reconciliation (see :mod:`.bill`).
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from paymesh.services.channel.adapters.alipay import bill, payer
from paymesh.services.channel.adapters.alipay import gateway as gw
from paymesh.services.channel.adapters.alipay.gateway import AlipayGateway, Answer, Unsettled
from paymesh.services.channel.adapters.alipay.notifications import (
    identify_notification,
    verify_notification,
)
from paymesh.services.channel.adapters.alipay.params import (
    KeyCache,
    fen_to_yuan,
    read_params,
    yuan_to_fen,
)
from paymesh.services.channel.adapters.base import (
    Callback,
    CallbackIdentity,
    CallbackResult,
    ChannelState,
    CloseResult,
    PaymentOrder,
    PayResult,
    QueryResult,
    RefundOrder,
    RefundResult,
    parse_channel_extra,
)
from paymesh.services.channel.adapters.bills import Bill
from paymesh.services.common.errors import InvalidArgument

S = ChannelState
NOT_EXIST = "ACQ.TRADE_NOT_EXIST"
# Refusals that do not say the payment failed: the outcome has to be learnt by query.
_UNSETTLING = frozenset({"ACQ.SYSTEM_ERROR", "ACQ.TRADE_HAS_SUCCESS", "aop.ACQ.SYSTEM_ERROR"})
_PAGE_METHODS = {"ALI_WAP": ("alipay.trade.wap.pay", "QUICK_WAP_WAY"),
                 "ALI_PC": ("alipay.trade.page.pay", "FAST_INSTANT_TRADE_PAY")}
_TRADE_STATES = {"TRADE_SUCCESS": S.CONFIRM_SUCCESS, "TRADE_FINISHED": S.CONFIRM_SUCCESS,
                 "WAIT_BUYER_PAY": S.WAITING, "TRADE_CLOSED": S.CONFIRM_FAIL}
_ALIPAY_USER_ID = re.compile(r"2088[0-9]{12}")


class AlipayAdapter:
    """Alipay OpenAPI with RSA2 keys; every setting comes from the call's params."""

    if_code = "alipay"

    def __init__(self, http: httpx.AsyncClient, *, clock: Callable[[], float] = time.time,
                 notify_window_seconds: float = 300.0) -> None:
        self._http = http
        self._gateway = AlipayGateway(http, clock)
        self._keys = KeyCache()
        self._clock = clock
        self._notify_window = notify_window_seconds

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        cfg = read_params(params, self._keys)
        extra = parse_channel_extra(order.channel_extra)
        biz = _trade_biz(order)
        way = order.way_code
        if way in _PAGE_METHODS:
            method, biz["product_code"] = _PAGE_METHODS[way]
            signed = self._gateway.signed(cfg, method, biz, notify_url=notify_url,
                                          return_url=order.return_url)
            if str(extra.get("payDataType", "")).lower() == "form":
                return PayResult(S.WAITING, pay_data_type="form",
                                 pay_data=gw.page_form(cfg, signed))
            return PayResult(S.WAITING, pay_data_type="payurl", pay_data=gw.page_url(cfg, signed))
        if way == "ALI_APP":
            biz["product_code"] = "QUICK_MSECURITY_PAY"
            signed = self._gateway.signed(cfg, "alipay.trade.app.pay", biz,
                                          notify_url=notify_url)
            return PayResult(S.WAITING, pay_data_type="aliapp", pay_data=gw.order_string(signed))
        if way in ("ALI_QR", "ALI_OC"):
            method = "alipay.trade.precreate"
        elif way == "ALI_BAR":
            method = "alipay.trade.pay"
            biz.update(scene="bar_code", auth_code=_required(extra, "authCode", way),
                       product_code="FACE_TO_FACE_PAYMENT")
        elif way in ("ALI_JSAPI", "ALI_LITE"):
            method = "alipay.trade.create"
            buyer = _required(extra, "buyerUserId", way)
            biz["buyer_id" if _ALIPAY_USER_ID.fullmatch(buyer) else "buyer_open_id"] = buyer
            biz["product_code"] = "JSAPI_PAY"
        else:
            raise InvalidArgument("order.way_code", f"the alipay channel does not serve {way}")
        try:
            answer = await self._gateway.call(cfg, method, biz, notify_url=notify_url)
        except Unsettled as unsettled:
            return PayResult(unsettled.state, err_code=unsettled.err_code,
                             err_msg=unsettled.err_msg)
        trade_no = answer.text("trade_no")
        if answer.code == "10003":
            return PayResult(S.WAITING, channel_order_no=trade_no, pay_data_type="none")
        if not answer.ok:
            return PayResult(_refusal_state(answer), err_code=answer.err_code,
                             err_msg=answer.err_msg)
        if way == "ALI_BAR":
            return PayResult(S.CONFIRM_SUCCESS, channel_order_no=trade_no, pay_data_type="none")
        if method == "alipay.trade.create":
            return PayResult(S.WAITING, channel_order_no=trade_no, pay_data_type="aliapp",
                             pay_data=trade_no)
        return PayResult(S.WAITING, pay_data_type="codeUrl", pay_data=answer.text("qr_code"))

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        cfg = read_params(params, self._keys)
        try:
            answer = await self._gateway.call(cfg, "alipay.trade.query",
                                              {"out_trade_no": _order_id(pay_order_id)})
        except Unsettled as unsettled:
            return QueryResult(unsettled.state, err_code=unsettled.err_code,
                               err_msg=unsettled.err_msg)
        if answer.sub_code == NOT_EXIST:
            return QueryResult(S.WAITING, err_code=NOT_EXIST,
                               err_msg="Alipay has no trade yet (not scanned or opened)")
        if not answer.ok:
            return QueryResult(S.UNKNOWN, err_code=answer.err_code, err_msg=answer.err_msg)
        status = answer.text("trade_status")
        state = _TRADE_STATES.get(status, S.UNKNOWN)
        failed = state is not S.CONFIRM_SUCCESS and state is not S.WAITING
        return QueryResult(state, channel_order_no=answer.text("trade_no"),
                           err_code=status if failed else "",
                           err_msg=f"trade_status {status}" if failed else "")

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        return await self._end(params, "alipay.trade.close", pay_order_id)

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        return await self._end(params, "alipay.trade.cancel", pay_order_id)

    async def _end(self, params: Mapping[str, Any], method: str, pay_order_id: str
                   ) -> CloseResult:
        """Close or cancel: done when Alipay confirms it, or has no such trade at all."""
        cfg = read_params(params, self._keys)
        try:
            answer = await self._gateway.call(cfg, method,
                                              {"out_trade_no": _order_id(pay_order_id)})
        except Unsettled as unsettled:
            return CloseResult(unsettled.state, unsettled.err_code, unsettled.err_msg)
        if answer.ok or answer.sub_code == NOT_EXIST:
            return CloseResult(S.CONFIRM_SUCCESS)
        if answer.text("retry_flag") == "Y" or answer.sub_code in _UNSETTLING:
            return CloseResult(S.UNKNOWN, answer.err_code, answer.err_msg)
        return CloseResult(S.CONFIRM_FAIL, answer.err_code, answer.err_msg)

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        cfg = read_params(params, self._keys)
        if not 1 <= refund.refund_amount <= refund.pay_amount:
            raise InvalidArgument("refund.refund_amount",
                                  "refund_amount must be between 1 fen and the paid amount")
        biz = {"out_trade_no": _order_id(refund.pay_order_id),
               "refund_amount": fen_to_yuan(refund.refund_amount),
               "out_request_no": _order_id(refund.refund_order_id)}
        if refund.reason:
            biz["refund_reason"] = refund.reason[:256]
        try:
            answer = await self._gateway.call(cfg, "alipay.trade.refund", biz)
        except Unsettled as unsettled:
            return RefundResult(unsettled.state, err_code=unsettled.err_code,
                                err_msg=unsettled.err_msg)
        if not answer.ok:
            return RefundResult(_refusal_state(answer), err_code=answer.err_code,
                                err_msg=answer.err_msg)
        if answer.text("fund_change") == "Y":
            return RefundResult(S.CONFIRM_SUCCESS, refund_amount=refund.refund_amount)
        # fund_change N: a repeated request, or not refunded; Alipay says to ask.
        return await self.query_refund(params, refund.pay_order_id, refund.refund_order_id)

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        cfg = read_params(params, self._keys)
        biz = {"out_trade_no": _order_id(pay_order_id),
               "out_request_no": _order_id(refund_order_id)}
        try:
            answer = await self._gateway.call(cfg, "alipay.trade.fastpay.refund.query", biz)
        except Unsettled as unsettled:
            return RefundResult(unsettled.state, err_code=unsettled.err_code,
                                err_msg=unsettled.err_msg)
        if answer.sub_code == NOT_EXIST:
            return RefundResult(S.CONFIRM_FAIL, err_code=NOT_EXIST, err_msg=answer.err_msg)
        if not answer.ok:
            return RefundResult(S.UNKNOWN, err_code=answer.err_code, err_msg=answer.err_msg)
        amount = yuan_to_fen(answer.text("refund_amount"))
        if amount is None:
            return RefundResult(S.CONFIRM_FAIL, err_code="REFUND_NOT_EXIST",
                                err_msg=f"Alipay has no refund {refund_order_id}")
        if answer.text("refund_status") not in ("", "REFUND_SUCCESS"):
            return RefundResult(S.WAITING, refund_amount=amount)
        return RefundResult(S.CONFIRM_SUCCESS, refund_amount=amount)

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        return verify_notification(read_params(params, self._keys), callback, self._clock(),
                                   self._notify_window)

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        return identify_notification(callback)

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill:
        """The day's trade bill (``bill_type=trade``), parsed lazily from a temporary file."""
        return await bill.download_bill(self._gateway, self._http,
                                        read_params(params, self._keys), bill_date)

    async def user_auth_url(self, params: Mapping[str, Any], redirect_url: str,
                            state: str) -> str:
        """Alipay's ``auth_base`` link; Alipay returns to ``redirect_url`` with ``auth_code``."""
        return payer.authorisation_url(read_params(params, self._keys), redirect_url, state)

    async def channel_user(self, params: Mapping[str, Any], code: str) -> str:
        """The payer's ``user_id`` (or ``open_id``) for an ``auth_code``, by oauth.token."""
        return await payer.payer_id(self._gateway, read_params(params, self._keys), code)


def _refusal_state(answer: Answer) -> ChannelState:
    return S.UNKNOWN if answer.sub_code in _UNSETTLING else S.CONFIRM_FAIL


def _trade_biz(order: PaymentOrder) -> dict[str, Any]:
    """The fields every pay method shares; INVALID_ARGUMENT for what Alipay would refuse."""
    if (order.currency or "cny").lower() != "cny":
        raise InvalidArgument("order.currency", "Alipay OpenAPI takes CNY only")
    if not order.subject.strip():
        raise InvalidArgument("order.subject", "Alipay needs a subject")
    biz: dict[str, Any] = {"out_trade_no": _order_id(order.pay_order_id),
                           "total_amount": fen_to_yuan(order.amount),
                           "subject": order.subject[:256]}
    if order.body:
        biz["body"] = order.body[:128]
    if order.expire_at > 0:
        biz["time_expire"] = gw.beijing_time(order.expire_at)
    return biz


def _order_id(value: str) -> str:
    if not 0 < len(value) <= 64:
        raise InvalidArgument("pay_order_id", "an Alipay order number has 1 to 64 characters")
    return value



def _required(extra: Mapping[str, Any], name: str, way: str) -> str:
    value = extra.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"channelExtra.{name}", f"{way} needs channelExtra.{name}")
    return value.strip()
