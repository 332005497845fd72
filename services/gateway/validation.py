"""Field rules of the merchant API: one limit per field, each refusal naming the field."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from paymesh.services.common.signing import SIGN_TYPES
from paymesh.services.common.waycodes import (
    BARCODE_WAY_CODES,
    STRIPE_WAY_CODES,
    WAY_CODES,
    classify_barcode,
)
from paymesh.services.gateway.notify_targets import literal_private_host
from paymesh.services.gateway.protocol import param_error

Params = Mapping[str, str | None]
MAX_AMOUNT = 99_999_999_999  # fen
DEFAULT_EXPIRY_SECONDS = 7200
_ORDER_NO = re.compile(r"[\x21-\x7e]{1,30}")
_DIGITS = re.compile(r"[0-9]+")
_AUTH_CODE = re.compile(r"[0-9]{10,32}")
# Card payments may be taken in these currencies (amounts in each one's minor unit).
CARD_CURRENCIES = frozenset({"usd", "eur", "gbp", "hkd", "jpy", "sgd", "aud", "cad", "cny"})


def text(params: Params, name: str, *, required: bool = False, max_len: int = 0) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise param_error(f"{name} is required")
        return None
    if max_len and len(value) > max_len:
        raise param_error(f"{name} is longer than {max_len} characters")
    return value


def integer(params: Params, name: str, *, required: bool = False, low: int, high: int,
            unit: str = "") -> int | None:
    value = text(params, name, required=required)
    if value is None:
        return None
    suffix = f" ({unit})" if unit else ""
    if not _DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise param_error(f"{name} must be an integer from {low} to {high}{suffix}, "
                          f"got {value!r}")
    return int(value)


@dataclass(frozen=True)
class CommonFields:
    """The fields every signed request carries."""

    mch_no: str
    app_id: str
    sign: str
    sign_type: str
    req_time_ms: int
    nonce: str | None


def common_fields(params: Params) -> CommonFields:
    mch_no = text(params, "mchNo", required=True, max_len=32)
    app_id = text(params, "appId", required=True, max_len=32)
    sign = text(params, "sign", required=True, max_len=128)
    version = text(params, "version", required=True)
    if version != "1.0":
        raise param_error(f"version must be 1.0, got {version!r}")
    sign_type = text(params, "signType", required=True)
    if sign_type not in SIGN_TYPES:
        raise param_error(f"signType must be MD5 or HMAC-SHA256, got {sign_type!r}")
    req_time = integer(params, "reqTime", required=True, low=0, high=10**14,
                       unit="Unix time in milliseconds")
    nonce = text(params, "nonce", max_len=64)
    assert mch_no and app_id and sign and req_time is not None
    return CommonFields(mch_no, app_id, sign, sign_type, req_time, nonce)


def _client_ip(params: Params) -> str | None:
    value = text(params, "clientIp", max_len=64)
    if value is not None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise param_error(f"clientIp {value!r} is not an IP address") from None
    return value


def _url(params: Params, name: str) -> str | None:
    value = text(params, name, max_len=128)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise param_error(f"{name} must be an http:// or https:// URL")
    return value


def check_notify_target(notify_url: str | None, allow_private: bool) -> None:
    """Refuses a notifyUrl at a loopback or private address unless the app may use one.

    Only what needs no DNS lookup is refused here; names are checked again at delivery.
    """
    if notify_url and not allow_private and literal_private_host(notify_url):
        raise param_error("notifyUrl must not point at a loopback, private or reserved address; "
                          "use a public URL, or ask the operator to allow private notify URLs "
                          "for this app")


def _json_object(params: Params, name: str, max_len: int) -> dict[str, object] | None:
    value = text(params, name, max_len=max_len)
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        raise param_error(f"{name} must be JSON object text, e.g. {{\"authCode\":\"...\"}}") \
            from None
    if not isinstance(parsed, dict):
        raise param_error(f"{name} must be a JSON object")
    return parsed


@dataclass(frozen=True)
class UnifiedOrderFields:
    """A unified order's business fields after validation."""

    mch_order_no: str
    way_code: str
    amount: int
    currency: str
    subject: str
    body: str
    client_ip: str | None
    notify_url: str | None
    return_url: str | None
    expired_seconds: int | None
    channel_extra: str | None
    division_mode: int
    ext_param: str | None


def unified_order_fields(params: Params) -> UnifiedOrderFields:
    mch_order_no = text(params, "mchOrderNo", required=True)
    assert mch_order_no is not None
    if not _ORDER_NO.fullmatch(mch_order_no):
        raise param_error("mchOrderNo must be 1 to 30 printable ASCII characters without spaces")
    way_code = text(params, "wayCode", required=True)
    if way_code not in WAY_CODES:
        raise param_error(f"wayCode {way_code!r} is not supported")
    amount = integer(params, "amount", required=True, low=1, high=MAX_AMOUNT, unit="fen")
    currency = text(params, "currency", required=True)
    if way_code in STRIPE_WAY_CODES:
        if currency not in CARD_CURRENCIES:
            raise param_error(f"currency must be one of {', '.join(sorted(CARD_CURRENCIES))} for "
                              f"{way_code}, got {currency!r}")
    elif currency != "cny":
        raise param_error(f"currency must be cny, got {currency!r}")
    subject = text(params, "subject", required=True, max_len=64)
    body = text(params, "body", required=True, max_len=256)
    client_ip = _client_ip(params)
    extra = _json_object(params, "channelExtra", 2048)
    if way_code in BARCODE_WAY_CODES:
        auth_code = (extra or {}).get("authCode")
        if not isinstance(auth_code, str) or not _AUTH_CODE.fullmatch(auth_code):
            raise param_error(f"channelExtra.authCode (10 to 32 digits scanned from the payer's "
                              f"code) is required for {way_code}")
        if way_code == "AUTO_BAR":
            resolved = classify_barcode(auth_code)
            if resolved is None:
                raise param_error(f"unsupported barcode {auth_code[:4]}...: not a WeChat, Alipay "
                                  "or UnionPay payment code (不支持的条码)")
            way_code = resolved
    division = integer(params, "divisionMode", low=0, high=2)
    assert amount is not None and subject is not None and body is not None
    return UnifiedOrderFields(
        mch_order_no=mch_order_no, way_code=way_code, amount=amount, currency=currency,
        subject=subject, body=body, client_ip=client_ip,
        notify_url=_url(params, "notifyUrl"), return_url=_url(params, "returnUrl"),
        expired_seconds=integer(params, "expiredTime", low=60, high=30 * 86400, unit="seconds"),
        channel_extra=text(params, "channelExtra"), division_mode=division or 0,
        ext_param=text(params, "extParam", max_len=512))


def order_reference(params: Params) -> tuple[str | None, str | None]:
    """payOrderId or mchOrderNo, at least one."""
    pay_order_id = text(params, "payOrderId", max_len=32)
    mch_order_no = text(params, "mchOrderNo", max_len=64)
    if pay_order_id is None and mch_order_no is None:
        raise param_error("payOrderId or mchOrderNo is required")
    return pay_order_id, mch_order_no


@dataclass(frozen=True)
class RefundFields:
    """A refund request's business fields after validation."""

    pay_order_id: str | None
    mch_order_no: str | None
    mch_refund_no: str
    refund_amount: int
    currency: str
    reason: str
    client_ip: str | None
    notify_url: str | None
    channel_extra: str | None
    ext_param: str | None


def refund_fields(params: Params) -> RefundFields:
    pay_order_id, mch_order_no = order_reference(params)
    mch_refund_no = text(params, "mchRefundNo", required=True)
    assert mch_refund_no is not None
    if not _ORDER_NO.fullmatch(mch_refund_no):
        raise param_error("mchRefundNo must be 1 to 30 printable ASCII characters without spaces")
    amount = integer(params, "refundAmount", required=True, low=1, high=MAX_AMOUNT, unit="fen")
    currency = text(params, "currency", required=True, max_len=8)
    reason = text(params, "refundReason", required=True, max_len=256)
    client_ip = _client_ip(params)
    _json_object(params, "channelExtra", 2048)
    assert amount is not None and currency is not None and reason is not None
    return RefundFields(pay_order_id, mch_order_no, mch_refund_no, amount, currency, reason,
                        client_ip, _url(params, "notifyUrl"), text(params, "channelExtra"),
                        text(params, "extParam", max_len=512))


def refund_reference(params: Params) -> tuple[str | None, str | None]:
    """refundOrderId or mchRefundNo, at least one."""
    refund_order_id = text(params, "refundOrderId", max_len=32)
    mch_refund_no = text(params, "mchRefundNo", max_len=64)
    if refund_order_id is None and mch_refund_no is None:
        raise param_error("refundOrderId or mchRefundNo is required")
    return refund_order_id, mch_refund_no
