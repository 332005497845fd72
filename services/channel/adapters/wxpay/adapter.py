"""The WeChat Pay APIv3 adapter: orders, queries, close, reverse, refunds and callbacks, and the
payer's openid through official-account OAuth (see :mod:`.oauth`)."""

from __future__ import annotations

import datetime
import json
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
    parse_channel_extra,
)
from paymesh.services.channel.adapters.bills import Bill
from paymesh.services.channel.adapters.wxpay import oauth, payloads, signing
from paymesh.services.channel.adapters.wxpay.bill_download import download_trade_bill
from paymesh.services.channel.adapters.wxpay.config import ConfigCache, WxpayConfig
from paymesh.services.channel.adapters.wxpay.notify import verify_notification
from paymesh.services.channel.adapters.wxpay.states import (
    amount_of,
    refund_outcome,
    trade_outcome,
)
from paymesh.services.channel.adapters.wxpay.transport import Answer, AnswerKind, SignedTransport

# Refusals that prove the order exists at WeChat (paid, or sent before): ask, never fail it.
_ORDER_EXISTS_CODES = frozenset({"ORDER_PAID", "ORDERPAID", "OUT_TRADE_NO_USED"})
_NOT_FOUND_CODES = frozenset({"ORDER_NOT_EXIST", "ORDERNOTEXIST", "RESOURCE_NOT_EXISTS"})


class WxpayAdapter:
    """WeChat Pay APIv3 (ifCode ``wxpay``) for direct merchants and service providers.

    Also a ``PayerIdentification``: the cashier learns the payer's openid through WeChat's web
    OAuth before continuing an order as WX_JSAPI.
    ``clock`` (Unix seconds) and ``nonce`` are injectable so tests can pin them.
    """

    if_code = "wxpay"

    def __init__(self, http: httpx.AsyncClient, *, clock: Callable[[], float] = time.time,
                 nonce: Callable[[], str] = signing.new_nonce) -> None:
        self._http = http
        self._transport = SignedTransport(http, clock, nonce)
        self._oauth = oauth.WebOAuth(http)
        self._configs = ConfigCache()
        self._clock = clock
        self._nonce = nonce

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        config = self._configs.load(params)
        extra = parse_channel_extra(order.channel_extra)
        path, body = payloads.pay_request(config, order, notify_url, extra)
        answer = await self._transport.call(config, "POST", path, body)
        if answer.kind is not AnswerKind.OK:
            return _pay_not_ok(answer)
        endpoint = payloads.ENDPOINTS[order.way_code]
        data = answer.data
        if endpoint == "codepay":
            if data.get("out_trade_no") != order.pay_order_id:
                return PayResult(ChannelState.UNKNOWN, err_code="ANSWER_MISMATCH",
                                 err_msg="the answer names another order")
            state, code, message = trade_outcome(data)
            return PayResult(state, channel_order_no=str(data.get("transaction_id") or ""),
                             pay_data_type="none", err_code=code, err_msg=message)
        key = {"native": "code_url", "h5": "h5_url"}.get(endpoint, "prepay_id")
        value = data.get(key)
        if not isinstance(value, str) or not value:
            return PayResult(ChannelState.UNKNOWN, err_code="ANSWER_INCOMPLETE",
                             err_msg=f"the answer has no {key}")
        if endpoint == "native":
            return PayResult(ChannelState.WAITING, pay_data_type="codeUrl", pay_data=value)
        if endpoint == "h5":
            return PayResult(ChannelState.WAITING, pay_data_type="payurl", pay_data=value)
        client = (self._jsapi_data(config, value, extra) if endpoint == "jsapi"
                  else self._app_data(config, value))
        return PayResult(ChannelState.WAITING, pay_data_type="wxapp",
                         pay_data=json.dumps(client, ensure_ascii=False, separators=(",", ":")))

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        config = self._configs.load(params)
        path = f"{payloads.order_path(config, pay_order_id)}?{payloads.merchant_query(config)}"
        answer = await self._transport.call(config, "GET", path)
        if answer.kind is AnswerKind.OK:
            if answer.data.get("out_trade_no") != pay_order_id:
                return QueryResult(ChannelState.UNKNOWN, err_code="ANSWER_MISMATCH",
                                   err_msg="the answer names another order")
            state, code, message = trade_outcome(answer.data)
            return QueryResult(state, str(answer.data.get("transaction_id") or ""), code, message)
        if answer.kind is AnswerKind.REFUSED and answer.code in _NOT_FOUND_CODES:
            return QueryResult(ChannelState.CONFIRM_FAIL, err_code=answer.code,
                               err_msg=answer.message or "WeChat Pay has no such order")
        return QueryResult(_open_state(answer), err_code=answer.code or answer.kind.value,
                           err_msg=answer.message)

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        config = self._configs.load(params)
        body = payloads.merchant_ids(config, with_app=False)
        answer = await self._transport.call(
            config, "POST", payloads.order_path(config, pay_order_id, "close"), body)
        return _closed(answer)

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        """Reverses (撤销) a barcode payment: closes it unpaid, or refunds it if it was paid."""
        config = self._configs.load(params)
        body = payloads.merchant_ids(config, with_app=True)
        answer = await self._transport.call(
            config, "POST", payloads.order_path(config, pay_order_id, "reverse"), body)
        return _closed(answer)

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        config = self._configs.load(params)
        body = payloads.refund_request(config, refund, notify_url)
        answer = await self._transport.call(config, "POST", "/v3/refund/domestic/refunds", body)
        if answer.kind is AnswerKind.OK:
            return _refund_result(answer.data, refund.refund_order_id)
        if answer.kind is AnswerKind.REFUSED:
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code=answer.code,
                                err_msg=answer.message)
        return RefundResult(_open_state(answer), err_code=answer.code or answer.kind.value,
                            err_msg=answer.message)

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        config = self._configs.load(params)
        answer = await self._transport.call(
            config, "GET", payloads.refund_query_path(config, refund_order_id))
        if answer.kind is AnswerKind.OK:
            if answer.data.get("out_trade_no") not in (None, pay_order_id):
                return RefundResult(ChannelState.UNKNOWN, err_code="ANSWER_MISMATCH",
                                    err_msg="the refund belongs to another order")
            return _refund_result(answer.data, refund_order_id)
        if answer.kind is AnswerKind.REFUSED and answer.code in _NOT_FOUND_CODES:
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code=answer.code,
                                err_msg=answer.message or "WeChat Pay has no such refund")
        return RefundResult(_open_state(answer), err_code=answer.code or answer.kind.value,
                            err_msg=answer.message)

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        return verify_notification(self._configs.load(params), callback, self._clock())

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill:
        """The day's ``ALL`` trade bill, SHA-1 checked, read lazily (:mod:`.bill_download`)."""
        return await download_trade_bill(self._http, self._transport, self._configs.load(params),
                                         bill_date, self._clock, self._nonce)

    async def user_auth_url(self, params: Mapping[str, Any], redirect_url: str,
                            state: str) -> str:
        """WeChat's silent (``snsapi_base``) authorize URL for the official account ``appId``."""
        return oauth.authorize_url(oauth.load_app(params), redirect_url, state)

    async def channel_user(self, params: Mapping[str, Any], code: str) -> str:
        """The payer's openid under ``appId`` for the code WeChat returned."""
        return await self._oauth.openid(oauth.load_app(params), code)

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        """Always None: paymesh's WeChat notify_url carries the order id in its path, and the
        body names the order only inside the encrypted resource, which needs the APIv3 key."""
        return None

    def _jsapi_data(self, config: WxpayConfig, prepay_id: str,
                    extra: dict[str, Any]) -> dict[str, str]:
        app_id = (config.sub_app_id if config.is_isv and payloads.uses_sub_openid(extra)
                  else config.app_id)
        timestamp, nonce, package = str(int(self._clock())), self._nonce(), f"prepay_id={prepay_id}"
        return {"appId": app_id, "timeStamp": timestamp, "nonceStr": nonce, "package": package,
                "signType": "RSA",
                "paySign": signing.client_pay_sign(config.private_key, app_id, timestamp, nonce,
                                                   package)}

    def _app_data(self, config: WxpayConfig, prepay_id: str) -> dict[str, str]:
        app_id = config.sub_app_id or config.app_id
        partner_id = config.sub_mch_id or config.mch_id
        timestamp, nonce = str(int(self._clock())), self._nonce()
        return {"appid": app_id, "partnerid": partner_id, "prepayid": prepay_id,
                "package": "Sign=WXPay", "noncestr": nonce, "timestamp": timestamp,
                "sign": signing.client_pay_sign(config.private_key, app_id, timestamp, nonce,
                                                prepay_id)}


def _open_state(answer: Answer) -> ChannelState:
    """Nothing sent → SYS_ERROR; anything else not conclusive → UNKNOWN."""
    return ChannelState.SYS_ERROR if answer.kind is AnswerKind.UNREACHABLE else ChannelState.UNKNOWN


def _pay_not_ok(answer: Answer) -> PayResult:
    if answer.kind is AnswerKind.REFUSED:
        if answer.code == "USERPAYING":
            return PayResult(ChannelState.WAITING, pay_data_type="none")
        if answer.code not in _ORDER_EXISTS_CODES:
            return PayResult(ChannelState.CONFIRM_FAIL, err_code=answer.code,
                             err_msg=answer.message)
    return PayResult(_open_state(answer), err_code=answer.code or answer.kind.value,
                     err_msg=answer.message)


def _closed(answer: Answer) -> CloseResult:
    if answer.kind is AnswerKind.OK:
        return CloseResult(ChannelState.CONFIRM_SUCCESS)
    if answer.kind is AnswerKind.REFUSED:
        if answer.code in _NOT_FOUND_CODES:
            return CloseResult(ChannelState.CONFIRM_SUCCESS)
        return CloseResult(ChannelState.CONFIRM_FAIL, answer.code, answer.message)
    return CloseResult(_open_state(answer), answer.code or answer.kind.value, answer.message)


def _refund_result(data: Mapping[str, Any], refund_order_id: str) -> RefundResult:
    if data.get("out_refund_no") != refund_order_id:
        return RefundResult(ChannelState.UNKNOWN, err_code="ANSWER_MISMATCH",
                            err_msg="the answer names another refund")
    state, code, message = refund_outcome(str(data.get("status") or ""))
    return RefundResult(state, channel_refund_no=str(data.get("refund_id") or ""),
                        refund_amount=amount_of(data, "refund"), err_code=code, err_msg=message)
