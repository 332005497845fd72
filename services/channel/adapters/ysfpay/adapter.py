"""The ysfpay adapter: paymesh's operations as ACP 5.1.0 transactions (see the package doc)."""

from __future__ import annotations

import datetime
import json
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

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
)
from paymesh.services.channel.adapters.bills import Bill
from paymesh.services.channel.adapters.ysfpay import bill, codes
from paymesh.services.channel.adapters.ysfpay.callbacks import identify, verify_notification
from paymesh.services.channel.adapters.ysfpay.gateway import BACK_TRANS, QUERY_TRANS, AcpGateway
from paymesh.services.channel.adapters.ysfpay.params import ParamsCache, YsfpayParams
from paymesh.services.common.errors import InvalidArgument

BARCODE_WAY_CODES = frozenset({"YSF_BAR", "UP_BAR"})
QR_WAY_CODE = "UP_QR"
# ACP's documented backUrl for transactions whose back notification is not wanted.
NO_NOTIFY_URL = "http://www.specialUrl.com"
_AUTH_CODE = re.compile(r"[0-9]{16,24}")
_QR_BIZ = {"bizType": "000000", "channelType": "08"}


class YsfpayAdapter:
    """UnionPay / 云闪付 through ACP, in ISV (acquirer) mode. Keeps no state between calls."""

    if_code = "ysfpay"

    def __init__(self, http: httpx.AsyncClient, *, clock: Callable[[], float] = time.time,
                 notify_max_age: float = codes.NOTIFY_MAX_AGE_SECONDS) -> None:
        self._gateway = AcpGateway(http, clock)
        self._params = ParamsCache()
        self._clock = clock
        self._notify_max_age = notify_max_age

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        p = self._params.get(params)
        request = {**_QR_BIZ, "txnType": "01", "orderId": order.pay_order_id,
                   "txnTime": codes.txn_time_of(order.pay_order_id, "order.pay_order_id"),
                   "txnAmt": _amount(order.amount, order.currency, "order"),
                   "currencyCode": "156", "backUrl": _back_url(notify_url)}
        if order.way_code in BARCODE_WAY_CODES:
            request.update(txnSubType="06", qrNo=_auth_code(order.channel_extra),
                           termId=p.term_id)
        elif order.way_code == QR_WAY_CODE:
            request["txnSubType"] = "07"
            if order.expire_at > 0:
                request["payTimeout"] = codes.txn_time_at(order.expire_at)
        else:
            raise InvalidArgument("order.way_code", f"ysfpay does not support {order.way_code}; "
                                  "it supports YSF_BAR, UP_BAR and UP_QR")
        answer = await self._gateway.send(p, BACK_TRANS, request)
        if answer.failure is not None:
            return PayResult(answer.failure, err_msg=answer.reason)
        code = answer.resp_code
        if code == codes.DUPLICATE:
            found = await self._query(p, order.pay_order_id)
            if found.state == ChannelState.WAITING and order.way_code == QR_WAY_CODE:
                return PayResult(ChannelState.UNKNOWN, err_code=code,
                                 err_msg="this orderId was already used for another QR request")
            return PayResult(found.state, channel_order_no=found.channel_order_no,
                             pay_data_type="none", err_code=found.err_code,
                             err_msg=found.err_msg)
        state = codes.state_of(code)
        if order.way_code == QR_WAY_CODE and state == ChannelState.CONFIRM_SUCCESS:
            qr_code = answer.fields.get("qrCode", "")
            if not qr_code:
                return PayResult(ChannelState.UNKNOWN, err_msg="the QR answer has no qrCode")
            return PayResult(ChannelState.WAITING, pay_data_type="codeUrl", pay_data=qr_code)
        return PayResult(state, channel_order_no=answer.fields.get("queryId", ""),
                         pay_data_type="none", **_error(state, code, answer.resp_msg))

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        return await self._query(self._params.get(params), pay_order_id)

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        """Closes an unpaid order with the ACP reversal (冲正); a paid one cannot be closed."""
        p = self._params.get(params)
        found = await self._query(p, pay_order_id)
        if found.state == ChannelState.CONFIRM_SUCCESS:
            return CloseResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_PAID",
                               err_msg=f"order {pay_order_id} is paid; refund it instead")
        if found.state == ChannelState.CONFIRM_FAIL and found.err_code != codes.NOT_FOUND:
            return CloseResult(ChannelState.CONFIRM_SUCCESS)
        if found.state in (ChannelState.UNKNOWN, ChannelState.SYS_ERROR):
            return CloseResult(found.state, err_code=found.err_code, err_msg=found.err_msg)
        return await self._reverse(p, pay_order_id)

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        """Undoes a paid barcode consume (消费撤销); reverses (冲正) one still pending."""
        p = self._params.get(params)
        found, paid_amount = await self._lookup(p, pay_order_id)
        if found.state in (ChannelState.UNKNOWN, ChannelState.SYS_ERROR):
            return CloseResult(found.state, err_code=found.err_code, err_msg=found.err_msg)
        if found.state == ChannelState.CONFIRM_FAIL and found.err_code != codes.NOT_FOUND:
            return CloseResult(ChannelState.CONFIRM_SUCCESS)
        if found.state != ChannelState.CONFIRM_SUCCESS:
            return await self._reverse(p, pay_order_id)
        undo_id = codes.acp_order_id(pay_order_id + "C", "pay_order_id")
        answer = await self._gateway.send(p, BACK_TRANS, {
            **_QR_BIZ, "txnType": "31", "txnSubType": "00", "orderId": undo_id,
            "txnTime": codes.txn_time_at(self._clock()), "txnAmt": paid_amount,
            "currencyCode": "156", "origQryId": found.channel_order_no,
            "backUrl": NO_NOTIFY_URL})
        return _close_result(answer.failure, answer.resp_code, answer.resp_msg, answer.reason)

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        p = self._params.get(params)
        txn_time = codes.txn_time_of(refund.refund_order_id, "refund.refund_order_id")
        amount = _amount(refund.refund_amount, refund.currency, "refund")
        if refund.refund_amount > refund.pay_amount:
            raise InvalidArgument("refund.refund_amount", "the refund exceeds the paid amount")
        orig_qry_id = refund.channel_order_no
        if not orig_qry_id:
            found = await self._query(p, refund.pay_order_id)
            if found.state != ChannelState.CONFIRM_SUCCESS:
                unsure = found.state in (ChannelState.UNKNOWN, ChannelState.SYS_ERROR)
                outcome = found.state if unsure else ChannelState.CONFIRM_FAIL
                return RefundResult(outcome, err_code=found.err_code or "ORDER_NOT_PAID",
                                    err_msg=found.err_msg or "the payment is not successful")
            orig_qry_id = found.channel_order_no
        answer = await self._gateway.send(p, BACK_TRANS, {
            **_QR_BIZ, "txnType": "04", "txnSubType": "00", "orderId": refund.refund_order_id,
            "txnTime": txn_time, "txnAmt": amount, "currencyCode": "156",
            "origQryId": orig_qry_id, "backUrl": _back_url(notify_url),
            "reqReserved": refund.pay_order_id})
        if answer.failure is not None:
            return RefundResult(answer.failure, err_msg=answer.reason)
        code = answer.resp_code
        if code == codes.DUPLICATE:
            return await self._query_refund(p, refund.refund_order_id)
        state = codes.state_of(code)
        if state == ChannelState.CONFIRM_SUCCESS:
            state = ChannelState.WAITING  # accepted; the result comes by notification or query
        return RefundResult(state, channel_refund_no=answer.fields.get("queryId", ""),
                            refund_amount=refund.refund_amount,
                            **_error(state, code, answer.resp_msg))

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        return await self._query_refund(self._params.get(params), refund_order_id)

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill:
        """The day's reconciliation (ZM) file by ACP file transfer, parsed lazily (``bill``)."""
        return await bill.download_bill(self._gateway, self._params.get(params), bill_date,
                                        self._clock())

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        return verify_notification(self._params.get(params), callback, self._clock(),
                                   self._notify_max_age)

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        return identify(callback)

    async def _query(self, p: YsfpayParams, pay_order_id: str) -> QueryResult:
        return (await self._lookup(p, pay_order_id))[0]

    async def _lookup(self, p: YsfpayParams, pay_order_id: str) -> tuple[QueryResult, str]:
        """The payment's state and, when found, its txnAmt (which an undo must repeat)."""
        fields = await self._query_trans(p, pay_order_id, "pay_order_id")
        if isinstance(fields, QueryResult):
            return fields, ""
        code = fields.get("origRespCode", "")
        state = codes.state_of(code)
        return QueryResult(state, channel_order_no=fields.get("queryId", ""),
                           **_error(state, code, fields.get("origRespMsg", ""))
                           ), fields.get("txnAmt", "")

    async def _query_refund(self, p: YsfpayParams, refund_order_id: str) -> RefundResult:
        fields = await self._query_trans(p, refund_order_id, "refund_order_id")
        if isinstance(fields, QueryResult):
            return RefundResult(fields.state, err_code=fields.err_code, err_msg=fields.err_msg)
        code = fields.get("origRespCode", "")
        state = codes.state_of(code)
        amount = fields.get("txnAmt", "")
        return RefundResult(state, channel_refund_no=fields.get("queryId", ""),
                            refund_amount=int(amount) if amount.isdigit() else 0,
                            **_error(state, code, fields.get("origRespMsg", "")))

    async def _query_trans(self, p: YsfpayParams, order_id: str,
                           field: str) -> dict[str, str] | QueryResult:
        """The verified query answer of a found transaction, or the QueryResult saying why not."""
        answer = await self._gateway.send(p, QUERY_TRANS, {
            "txnType": "00", "txnSubType": "00", "bizType": "000000", "orderId": order_id,
            "txnTime": codes.txn_time_of(order_id, field)})
        if answer.failure is not None:
            return QueryResult(answer.failure, err_msg=answer.reason)
        if answer.resp_code == codes.NOT_FOUND:
            return QueryResult(ChannelState.CONFIRM_FAIL, err_code=codes.NOT_FOUND,
                               err_msg=answer.resp_msg or "no such transaction")
        if answer.resp_code != "00":  # the query itself failed: the order's state is unknown
            return QueryResult(ChannelState.UNKNOWN, err_code=answer.resp_code,
                               err_msg=answer.resp_msg)
        return answer.fields

    async def _reverse(self, p: YsfpayParams, pay_order_id: str) -> CloseResult:
        """The ACP reversal (冲正) of a pending or lost transaction, by its orderId and txnTime."""
        answer = await self._gateway.send(p, BACK_TRANS, {
            **_QR_BIZ, "txnType": "99", "txnSubType": "01", "orderId": pay_order_id,
            "txnTime": codes.txn_time_of(pay_order_id, "pay_order_id")})
        return _close_result(answer.failure, answer.resp_code, answer.resp_msg, answer.reason)


def _close_result(failure: ChannelState | None, code: str, message: str,
                  reason: str) -> CloseResult:
    if failure is not None:
        return CloseResult(failure, err_msg=reason)
    state = codes.state_of(code)
    if state == ChannelState.WAITING:
        state = ChannelState.UNKNOWN
    return CloseResult(state, **_error(state, code, message))


def _error(state: ChannelState, code: str, message: str) -> dict[str, str]:
    """err_code and err_msg for a refusal or an unsure outcome; nothing for success or waiting."""
    if state not in (ChannelState.CONFIRM_FAIL, ChannelState.UNKNOWN):
        return {}
    return {"err_code": code, "err_msg": message}


def _amount(fen: int, currency: str, field: str) -> str:
    if fen < 1:
        raise InvalidArgument(f"{field}.amount", "the amount must be at least 1 fen")
    if currency and currency.lower() != "cny":
        raise InvalidArgument(f"{field}.currency", "ysfpay takes CNY only")
    return str(fen)


def _back_url(notify_url: str) -> str:
    if not notify_url.startswith(("http://", "https://")):
        raise InvalidArgument("notify_url", "ysfpay needs an http(s) notify URL (ACP backUrl)")
    return notify_url


def _auth_code(channel_extra: str) -> str:
    try:
        extra = json.loads(channel_extra) if channel_extra.strip() else {}
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        raise InvalidArgument("channelExtra", "channelExtra must be a JSON object")
    auth_code = extra.get("authCode")
    if not isinstance(auth_code, str) or not _AUTH_CODE.fullmatch(auth_code):
        raise InvalidArgument("channelExtra.authCode",
                              "the barcode wayCodes need channelExtra.authCode: the 16-24 digits "
                              "of the payer's UnionPay payment code")
    return auth_code
