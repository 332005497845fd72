"""Field rules of the merchant API: one limit per field, each refusal naming the field.

The limits are declared once, as ``Param`` tables; the checks below read them, and
scripts/gen_openapi.py documents the merchant API from the same tables.
"""

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


@dataclass(frozen=True)
class Param:
    """One merchant API parameter: its wire name and the limits the gateway checks.

    ``low``/``high`` (inclusive) make it an integer, sent as a JSON number or its digits;
    ``pattern`` is a full-match regular expression; ``choices`` are the values accepted for some
    request (a check may narrow them by another field, e.g. currency by wayCode).
    """

    name: str
    doc: str
    required: bool = False
    max_len: int = 0
    low: int | None = None
    high: int | None = None
    unit: str = ""
    pattern: str = ""
    choices: tuple[str, ...] = ()


MCH_NO = Param("mchNo", "Merchant number.", required=True, max_len=32)
APP_ID = Param("appId", "App id.", required=True, max_len=32)
REQ_TIME = Param("reqTime", "The client's clock; must be within ±300 s of the server's.",
                 required=True, low=0, high=10**14, unit="Unix time in milliseconds")
VERSION = Param("version", "Protocol version.", required=True, choices=("1.0",))
SIGN_TYPE = Param("signType", "Signature algorithm.", required=True, choices=SIGN_TYPES)
SIGN = Param("sign", "Upper-case hex signature of every other non-empty parameter with the app "
             "secret (JeePay's recipe).", required=True, max_len=128)
NONCE = Param("nonce", "Optional one-time value: a repeat within the replay window is refused.",
              max_len=64)
COMMON_PARAMS = (MCH_NO, APP_ID, REQ_TIME, VERSION, SIGN_TYPE, SIGN, NONCE)

ORDER_NO_DOC = "1 to 30 printable ASCII characters without spaces, unique per merchant."
CLIENT_IP = Param("clientIp", "The payer's IP address; defaults to the caller's.", max_len=64)
NOTIFY_URL = Param("notifyUrl", "http(s) URL notified of the outcome.", max_len=128)
CHANNEL_EXTRA = Param("channelExtra", "Per-wayCode extras as JSON object text, e.g. "
                      '{"authCode":"..."} for barcode wayCodes.', max_len=2048)
EXT_PARAM = Param("extParam", "Opaque merchant data echoed in queries and notifications.",
                  max_len=512)
UNIFIED_ORDER_PARAMS = (
    Param("mchOrderNo", "The merchant's order number: " + ORDER_NO_DOC, required=True,
          pattern=_ORDER_NO.pattern),
    Param("wayCode", "Payment method (JeePay wayCode).", required=True,
          choices=tuple(sorted(WAY_CODES))),
    Param("amount", "Amount in fen.", required=True, low=1, high=MAX_AMOUNT, unit="fen"),
    Param("currency", "cny; card wayCodes also take the other listed currencies.", required=True,
          choices=tuple(sorted(CARD_CURRENCIES))),
    Param("subject", "Order title.", required=True, max_len=64),
    Param("body", "Order description.", required=True, max_len=256),
    CLIENT_IP, CHANNEL_EXTRA,
    Param("divisionMode", "Profit sharing: 0 none, 1 automatic, 2 by the merchant.", low=0,
          high=2),
    NOTIFY_URL,
    Param("returnUrl", "http(s) URL the payer's browser returns to.", max_len=128),
    Param("expiredTime", "Order lifetime in seconds (default 7200).", low=60, high=30 * 86400,
          unit="seconds"),
    EXT_PARAM,
)
ORDER_REFERENCE_PARAMS = (
    Param("payOrderId", "Platform order id (this or mchOrderNo).", max_len=32),
    Param("mchOrderNo", "The merchant's order number (this or payOrderId).", max_len=64),
)
REFUND_PARAMS = (
    *ORDER_REFERENCE_PARAMS,
    Param("mchRefundNo", "The merchant's refund number: " + ORDER_NO_DOC, required=True,
          pattern=_ORDER_NO.pattern),
    Param("refundAmount", "Amount to refund in fen.", required=True, low=1, high=MAX_AMOUNT,
          unit="fen"),
    Param("currency", "The order's currency.", required=True, max_len=8),
    Param("refundReason", "Why the refund is made.", required=True, max_len=256),
    CLIENT_IP, CHANNEL_EXTRA, NOTIFY_URL, EXT_PARAM,
)
REFUND_REFERENCE_PARAMS = (
    Param("refundOrderId", "Platform refund id (this or mchRefundNo).", max_len=32),
    Param("mchRefundNo", "The merchant's refund number (this or refundOrderId).", max_len=64),
)
# Each MerchantApiService RPC's parameters, common fields first.
MERCHANT_API_PARAMS: dict[str, tuple[Param, ...]] = {
    "UnifiedOrder": COMMON_PARAMS + UNIFIED_ORDER_PARAMS,
    "QueryOrder": COMMON_PARAMS + ORDER_REFERENCE_PARAMS,
    "CloseOrder": COMMON_PARAMS + ORDER_REFERENCE_PARAMS,
    "RefundOrder": COMMON_PARAMS + REFUND_PARAMS,
    "QueryRefund": COMMON_PARAMS + REFUND_REFERENCE_PARAMS,
}
_ORDER = {p.name: p for p in UNIFIED_ORDER_PARAMS}
_REFERENCE = {p.name: p for p in ORDER_REFERENCE_PARAMS}
_REFUND = {p.name: p for p in REFUND_PARAMS}
_REFUND_REFERENCE = {p.name: p for p in REFUND_REFERENCE_PARAMS}


def _text_of(params: Params, declared: Param) -> str | None:
    """A parameter's text, checked against its declared required flag and length."""
    return text(params, declared.name, required=declared.required, max_len=declared.max_len)


def _integer_of(params: Params, declared: Param) -> int | None:
    """A parameter's integer, checked against its declared range."""
    assert declared.low is not None and declared.high is not None
    return integer(params, declared.name, required=declared.required, low=declared.low,
                   high=declared.high, unit=declared.unit)


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
    mch_no = _text_of(params, MCH_NO)
    app_id = _text_of(params, APP_ID)
    sign = _text_of(params, SIGN)
    version = _text_of(params, VERSION)
    if version not in VERSION.choices:
        raise param_error(f"version must be 1.0, got {version!r}")
    sign_type = _text_of(params, SIGN_TYPE)
    if sign_type not in SIGN_TYPE.choices:
        raise param_error(f"signType must be MD5 or HMAC-SHA256, got {sign_type!r}")
    req_time = _integer_of(params, REQ_TIME)
    nonce = _text_of(params, NONCE)
    assert mch_no and app_id and sign and req_time is not None
    return CommonFields(mch_no, app_id, sign, sign_type, req_time, nonce)


def _client_ip(params: Params) -> str | None:
    value = text(params, "clientIp", max_len=CLIENT_IP.max_len)
    if value is not None:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise param_error(f"clientIp {value!r} is not an IP address") from None
    return value


def _url(params: Params, name: str) -> str | None:
    value = _text_of(params, _ORDER[name])
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
    mch_order_no = _text_of(params, _ORDER["mchOrderNo"])
    assert mch_order_no is not None
    if not _ORDER_NO.fullmatch(mch_order_no):
        raise param_error("mchOrderNo must be 1 to 30 printable ASCII characters without spaces")
    way_code = _text_of(params, _ORDER["wayCode"])
    if way_code not in WAY_CODES:
        raise param_error(f"wayCode {way_code!r} is not supported")
    amount = _integer_of(params, _ORDER["amount"])
    currency = _text_of(params, _ORDER["currency"])
    if way_code in STRIPE_WAY_CODES:
        if currency not in CARD_CURRENCIES:
            raise param_error(f"currency must be one of {', '.join(sorted(CARD_CURRENCIES))} for "
                              f"{way_code}, got {currency!r}")
    elif currency != "cny":
        raise param_error(f"currency must be cny, got {currency!r}")
    subject = _text_of(params, _ORDER["subject"])
    body = _text_of(params, _ORDER["body"])
    client_ip = _client_ip(params)
    extra = _json_object(params, "channelExtra", CHANNEL_EXTRA.max_len)
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
    division = _integer_of(params, _ORDER["divisionMode"])
    assert amount is not None and subject is not None and body is not None
    return UnifiedOrderFields(
        mch_order_no=mch_order_no, way_code=way_code, amount=amount, currency=currency,
        subject=subject, body=body, client_ip=client_ip,
        notify_url=_url(params, "notifyUrl"), return_url=_url(params, "returnUrl"),
        expired_seconds=_integer_of(params, _ORDER["expiredTime"]),
        channel_extra=text(params, "channelExtra"), division_mode=division or 0,
        ext_param=_text_of(params, _ORDER["extParam"]))


def order_reference(params: Params) -> tuple[str | None, str | None]:
    """payOrderId or mchOrderNo, at least one."""
    pay_order_id = _text_of(params, _REFERENCE["payOrderId"])
    mch_order_no = _text_of(params, _REFERENCE["mchOrderNo"])
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
    mch_refund_no = _text_of(params, _REFUND["mchRefundNo"])
    assert mch_refund_no is not None
    if not _ORDER_NO.fullmatch(mch_refund_no):
        raise param_error("mchRefundNo must be 1 to 30 printable ASCII characters without spaces")
    amount = _integer_of(params, _REFUND["refundAmount"])
    currency = _text_of(params, _REFUND["currency"])
    reason = _text_of(params, _REFUND["refundReason"])
    client_ip = _client_ip(params)
    _json_object(params, "channelExtra", CHANNEL_EXTRA.max_len)
    assert amount is not None and currency is not None and reason is not None
    return RefundFields(pay_order_id, mch_order_no, mch_refund_no, amount, currency, reason,
                        client_ip, _url(params, "notifyUrl"), text(params, "channelExtra"),
                        _text_of(params, _REFUND["extParam"]))


def refund_reference(params: Params) -> tuple[str | None, str | None]:
    """refundOrderId or mchRefundNo, at least one."""
    refund_order_id = _text_of(params, _REFUND_REFERENCE["refundOrderId"])
    mch_refund_no = _text_of(params, _REFUND_REFERENCE["mchRefundNo"])
    if refund_order_id is None and mch_refund_no is None:
        raise param_error("refundOrderId or mchRefundNo is required")
    return refund_order_id, mch_refund_no
