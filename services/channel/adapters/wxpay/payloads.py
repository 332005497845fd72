"""APIv3 paths and request bodies per wayCode, for direct merchants and service providers (ISV).

A direct merchant (直连商户) sends ``appid``/``mchid`` to ``/v3/pay/transactions/...``; a service
provider sends ``sp_appid``/``sp_mchid``/``sub_mchid`` (and ``sub_appid`` when configured) to
``/v3/pay/partner/transactions/...`` on behalf of its sub-merchant (reference §1.1, §1.6).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlencode

from paymesh.services.channel.adapters.base import PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.wxpay.config import WxpayConfig
from paymesh.services.common.errors import InvalidArgument

# wayCode → the APIv3 order endpoint (and WeChat's trade_type in answers).
ENDPOINTS = {
    "WX_NATIVE": "native",
    "WX_JSAPI": "jsapi",
    "WX_LITE": "jsapi",
    "WX_H5": "h5",
    "WX_APP": "app",
    "WX_BAR": "codepay",
}
BEIJING = timezone(timedelta(hours=8))
_OUT_NO = re.compile(r"[A-Za-z0-9_\-|*]{6,32}")
_OUT_REFUND_NO = re.compile(r"[A-Za-z0-9_\-|*@]{1,64}")
_AUTH_CODE = re.compile(r"[0-9]{10,32}")
_DESCRIPTION_MAX = 127


def transactions_root(config: WxpayConfig) -> str:
    """The payment API root of the configured mode."""
    return "/v3/pay/partner/transactions" if config.is_isv else "/v3/pay/transactions"


def merchant_ids(config: WxpayConfig, *, with_app: bool) -> dict[str, str]:
    """The merchant (and app) ids a request body carries in the configured mode."""
    if not config.is_isv:
        ids = {"mchid": config.mch_id}
        if with_app:
            ids["appid"] = config.app_id
        return ids
    ids = {"sp_mchid": config.mch_id, "sub_mchid": config.sub_mch_id}
    if with_app:
        ids["sp_appid"] = config.app_id
        if config.sub_app_id:
            ids["sub_appid"] = config.sub_app_id
    return ids


def merchant_query(config: WxpayConfig) -> str:
    """The query string naming the merchant on GET order queries."""
    if config.is_isv:
        return urlencode({"sp_mchid": config.mch_id, "sub_mchid": config.sub_mch_id})
    return urlencode({"mchid": config.mch_id})


def order_path(config: WxpayConfig, out_trade_no: str, action: str = "") -> str:
    """``.../out-trade-no/{no}`` plus an optional action (``close``, ``reverse``)."""
    path = f"{transactions_root(config)}/out-trade-no/{quote(check_out_trade_no(out_trade_no))}"
    return f"{path}/{action}" if action else path


def check_out_trade_no(value: str) -> str:
    """WeChat accepts 6 to 32 letters, digits and ``_-|*`` as ``out_trade_no``."""
    if not _OUT_NO.fullmatch(value):
        raise InvalidArgument("pay_order_id", "WeChat Pay needs an order number of 6 to 32 "
                                              "letters, digits or _-|*")
    return value



def pay_request(config: WxpayConfig, order: PaymentOrder, notify_url: str,
                extra: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The path and body of the order request for ``order.way_code``."""
    endpoint = ENDPOINTS.get(order.way_code)
    if endpoint is None:
        raise InvalidArgument("order.way_code", f"wxpay does not support {order.way_code}; "
                                                f"it supports {', '.join(sorted(ENDPOINTS))}")
    if order.amount < 1:
        raise InvalidArgument("order.amount", "amount must be at least 1 fen")
    if (order.currency or "cny").lower() != "cny":
        raise InvalidArgument("order.currency", "WeChat Pay (domestic) takes only cny")
    body: dict[str, Any] = merchant_ids(config, with_app=True)
    body["description"] = (order.subject or order.body or order.pay_order_id)[:_DESCRIPTION_MAX]
    body["out_trade_no"] = check_out_trade_no(order.pay_order_id)
    body["amount"] = {"total": order.amount, "currency": "CNY"}
    if endpoint != "codepay":
        if not notify_url.startswith(("https://", "http://")) or "?" in notify_url:
            raise InvalidArgument("notify_url", "WeChat Pay needs an http(s) notify_url "
                                                "without a query string")
        body["notify_url"] = notify_url
        if order.expire_at > 0:
            body["time_expire"] = datetime.fromtimestamp(order.expire_at, UTC).astimezone(
                BEIJING).isoformat(timespec="seconds")
    if endpoint == "jsapi":
        body["payer"] = _jsapi_payer(config, extra)
    elif endpoint == "h5":
        if not order.client_ip:
            raise InvalidArgument("order.client_ip", "WX_H5 needs the payer's client IP")
        body["scene_info"] = {"payer_client_ip": order.client_ip, "h5_info": {"type": "Wap"}}
    elif endpoint == "codepay":
        auth_code = extra.get("authCode")
        if not isinstance(auth_code, str) or not _AUTH_CODE.fullmatch(auth_code):
            raise InvalidArgument("channelExtra.authCode", "WX_BAR needs channelExtra.authCode: "
                                                           "the digits of the payer's code")
        body["payer"] = {"auth_code": auth_code}
        store = str(extra.get("storeId") or "paymesh")
        body["scene_info"] = {"store_info": {"out_id": store}}
        if order.client_ip:
            body["scene_info"]["device_ip"] = order.client_ip
    return f"{transactions_root(config)}/{endpoint}", body


def uses_sub_openid(extra: dict[str, Any]) -> bool:
    """``isSubOpenId`` = 1: the openid belongs to the sub-merchant's own appid."""
    return str(extra.get("isSubOpenId", "0")) in {"1", "true", "True"}


def _jsapi_payer(config: WxpayConfig, extra: dict[str, Any]) -> dict[str, str]:
    openid = extra.get("openid")
    if not isinstance(openid, str) or not 1 <= len(openid) <= 128:
        raise InvalidArgument("channelExtra.openid", "WX_JSAPI and WX_LITE need "
                                                     "channelExtra.openid (the payer's openid)")
    if not config.is_isv:
        return {"openid": openid}
    if uses_sub_openid(extra):
        if not config.sub_app_id:
            raise InvalidArgument("channelExtra.isSubOpenId", "isSubOpenId=1 needs "
                                                              "sub.subMchAppId in the channel")
        return {"sub_openid": openid}
    return {"sp_openid": openid}


def refund_request(config: WxpayConfig, refund: RefundOrder, notify_url: str) -> dict[str, Any]:
    """The body of ``POST /v3/refund/domestic/refunds``."""
    if not 1 <= refund.refund_amount <= refund.pay_amount:
        raise InvalidArgument("refund.refund_amount", "refund amount must be 1 fen to the "
                                                      "paid amount")
    body: dict[str, Any] = {}
    if config.is_isv:
        body["sub_mchid"] = config.sub_mch_id
    body["out_trade_no"] = check_out_trade_no(refund.pay_order_id)
    body["out_refund_no"] = check_out_refund_no(refund.refund_order_id)
    if refund.reason:
        body["reason"] = refund.reason[:80]
    if notify_url:
        body["notify_url"] = notify_url
    body["amount"] = {"refund": refund.refund_amount, "total": refund.pay_amount,
                      "currency": "CNY"}
    return body


def refund_query_path(config: WxpayConfig, refund_order_id: str) -> str:
    """``GET /v3/refund/domestic/refunds/{out_refund_no}`` (with ``sub_mchid`` for an ISV)."""
    path = f"/v3/refund/domestic/refunds/{quote(check_out_refund_no(refund_order_id))}"
    return f"{path}?{urlencode({'sub_mchid': config.sub_mch_id})}" if config.is_isv else path


def check_out_refund_no(value: str) -> str:
    """WeChat accepts 1 to 64 letters, digits and ``_-|*@`` as ``out_refund_no``."""
    if not _OUT_REFUND_NO.fullmatch(value):
        raise InvalidArgument("refund_order_id", "WeChat Pay needs a refund number of 1 to 64 "
                                                 "letters, digits or _-|*@")
    return value
