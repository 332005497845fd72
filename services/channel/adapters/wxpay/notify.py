"""Verifying and reading WeChat Pay callbacks (reference §1.3–§1.5).

A callback is believed only when, in this order: it is not a ``WECHATPAY/SIGNTEST/`` probe, each
signature header appears exactly once, its timestamp is within 5 minutes of our clock, its serial
names a configured key (a WeChat Pay public key id or a platform certificate still valid), the
RSA signature over ``timestamp\\nnonce\\nbody\\n`` verifies, the resource decrypts with the APIv3
key, and the decrypted merchant (and app) ids are ours. The caller then cross-checks the order
number and amount against its own order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from paymesh.services.channel.adapters.base import (
    AckReply,
    Callback,
    CallbackKind,
    CallbackResult,
)
from paymesh.services.channel.adapters.wxpay import signing
from paymesh.services.channel.adapters.wxpay.config import WxpayConfig
from paymesh.services.channel.adapters.wxpay.states import (
    amount_of,
    refund_outcome,
    trade_outcome,
)

ACK_OK = AckReply(204, "application/json", b"")
ACK_RETRY = AckReply(500, "application/json",
                     json.dumps({"code": "FAIL", "message": "失败"}, ensure_ascii=False)
                     .encode("utf-8"))
TIMESTAMP_WINDOW_SECONDS = 300
SIGNTEST_PREFIX = "WECHATPAY/SIGNTEST/"
REFUND_EVENTS = frozenset({"REFUND.SUCCESS", "REFUND.ABNORMAL", "REFUND.CLOSED"})
_HEADERS = ("wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial")


def verify_notification(config: WxpayConfig, callback: Callback, now: float) -> CallbackResult:
    """What an authentic callback reports, or why this one is refused. Never raises."""
    problem = _authenticity_problem(config, callback, now)
    if problem:
        return _rejected(problem)
    envelope = _json_object(callback.body)
    if envelope is None:
        return _rejected("the body is not a JSON object")
    event_type = str(envelope.get("event_type") or "")
    resource = envelope.get("resource")
    if not isinstance(resource, Mapping) or envelope.get("resource_type") != "encrypt-resource":
        return _rejected("the body has no encrypted resource")
    if resource.get("algorithm") != signing.AEAD_ALGORITHM:
        return _rejected(f"unsupported resource algorithm {resource.get('algorithm')!r}")
    try:
        plain = signing.decrypt_resource(
            config.api_v3_key, str(resource.get("nonce") or ""),
            str(resource.get("associated_data") or ""), str(resource.get("ciphertext") or ""))
    except ValueError:
        return _rejected("the resource does not decrypt with the APIv3 key")
    data = _json_object(plain)
    if data is None:
        return _rejected("the decrypted resource is not a JSON object")
    owner = _owner_problem(config, data, with_app=event_type not in REFUND_EVENTS)
    if owner:
        return _rejected(owner)
    if event_type.startswith("TRANSACTION."):
        return _payment(data)
    if event_type in REFUND_EVENTS:
        return _refund(data)
    return _rejected(f"unsupported event_type {event_type!r}")


def _authenticity_problem(config: WxpayConfig, callback: Callback, now: float) -> str:
    values: dict[str, str] = {}
    for name in _HEADERS:
        value = callback.headers.get(name, "")
        # A gateway joins repeated headers with ", "; none of these values holds a comma.
        if not value or "," in value:
            return f"{name} is {'missing' if not value else 'repeated or malformed'}"
        values[name] = value.strip()
    if values["wechatpay-signature"].startswith(SIGNTEST_PREFIX):
        return "a WECHATPAY/SIGNTEST/ signature probe: its signature is deliberately invalid"
    signature_type = callback.headers.get("wechatpay-signature-type")
    if signature_type is not None and signature_type != signing.SIGNATURE_TYPE:
        return f"unsupported Wechatpay-Signature-Type {signature_type!r}"
    stamp = values["wechatpay-timestamp"]
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return "Wechatpay-Timestamp must be Unix seconds"
    skew = abs(now - int(stamp))
    if skew > TIMESTAMP_WINDOW_SECONDS:
        return (f"the timestamp is {int(skew)} s away from now "
                f"(allowed: ±{TIMESTAMP_WINDOW_SECONDS} s)")
    key = config.verifying_key(values["wechatpay-serial"])
    if key is None:
        return f"unknown Wechatpay-Serial {values['wechatpay-serial']!r}"
    if key.not_after is not None and key.not_after < datetime.fromtimestamp(now, UTC):
        return f"platform certificate {key.serial} has expired"
    if not signing.verify_wechat_signature(key.public_key, stamp, values["wechatpay-nonce"],
                                           callback.body, values["wechatpay-signature"]):
        return "the signature does not verify"
    return ""


def _owner_problem(config: WxpayConfig, data: Mapping[str, Any], *, with_app: bool) -> str:
    if config.is_isv:
        checks = [("sp_mchid", config.mch_id), ("sub_mchid", config.sub_mch_id)]
        if with_app:
            checks.append(("sp_appid", config.app_id))
    else:
        checks = [("mchid", config.mch_id)]
        if with_app:
            checks.append(("appid", config.app_id))
    for name, expected in checks:
        if data.get(name) != expected:
            return f"{name} {data.get(name)!r} is not this channel's {expected!r}"
    return ""


def _payment(data: Mapping[str, Any]) -> CallbackResult:
    state, code, message = trade_outcome(data)
    amount = data.get("amount")
    currency = amount.get("currency") if isinstance(amount, Mapping) else None
    return CallbackResult(
        verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, kind=CallbackKind.PAY,
        pay_order_id=str(data.get("out_trade_no") or ""),
        channel_order_no=str(data.get("transaction_id") or ""),
        amount=amount_of(data, "total"), currency=str(currency or "CNY").lower(),
        state=state, err_code=code, err_msg=message)


def _refund(data: Mapping[str, Any]) -> CallbackResult:
    state, code, message = refund_outcome(str(data.get("refund_status") or ""))
    return CallbackResult(
        verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, kind=CallbackKind.REFUND,
        pay_order_id=str(data.get("out_trade_no") or ""),
        channel_order_no=str(data.get("transaction_id") or ""),
        amount=amount_of(data, "total"), currency="cny",
        refund_order_id=str(data.get("out_refund_no") or ""),
        channel_refund_no=str(data.get("refund_id") or ""),
        refund_amount=amount_of(data, "refund"), state=state, err_code=code, err_msg=message)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _rejected(reason: str) -> CallbackResult:
    return CallbackResult(verified=False, ack_ok=ACK_OK, ack_retry=ACK_RETRY, reject_reason=reason)
