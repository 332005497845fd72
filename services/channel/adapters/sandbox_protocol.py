"""The sandbox channel's protocol pieces: magic values, the callback signature and form, and the
small rules its adapter applies (see the adapter's module docstring for the whole protocol)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from paymesh.services.channel.adapters.base import (
    AckReply,
    CallbackResult,
    ChannelState,
    PaymentOrder,
    QueryResult,
)
from paymesh.services.channel.models import SandboxPayment, SandboxState
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.common.waycodes import BARCODE_WAY_CODES, QR_WAY_CODES

DECLINED_SUFFIX = "0002"
AWAITING_PASSWORD_SUFFIX = "0003"
TIMESTAMP_WINDOW_MS = 300_000
ACK_OK = AckReply(200, "text/plain", b"success")
ACK_RETRY = AckReply(400, "text/plain", b"fail")
CALLBACK_FIELDS = ("payOrderId", "channelOrderNo", "amount", "currency", "result", "timestamp",
                   "nonce", "sign")
AUTH_CODE = re.compile(r"[0-9]{10,32}")
DIGITS = re.compile(r"[0-9]{1,18}")
PAY_DATA_TYPES = {"codeurl": "codeUrl", "payurl": "payurl"}
DECLINED = "the payer declined the payment"


def sign(fields: Mapping[str, str], key: str) -> str:
    """The sandbox signature of a callback's fields (see the module docstring)."""
    pairs = sorted(((k, v) for k, v in fields.items() if k != "sign" and v != ""),
                   key=lambda item: item[0].encode("utf-8"))
    text = "&".join(f"{k}={v}" for k, v in pairs)
    return hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def oauth_mac(key: str, nonce: str) -> str:
    return hmac.new(key.encode("utf-8"), f"oauth:{nonce}".encode(), hashlib.sha256).hexdigest()[:24]


def key_context(pay_order_id: str) -> str:
    """What a sealed sandbox key is bound to: its payment."""
    return f"sandbox-key:{pay_order_id}"


def sandbox_key(params: Mapping[str, Any]) -> str:
    key = params.get("key")
    if not isinstance(key, str) or not key:
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          "sandbox channel parameters need a non-empty \"key\"")
    return key


def check_order(order: PaymentOrder, notify_url: str) -> None:
    if not 0 < len(order.pay_order_id) <= 64:
        raise InvalidArgument("order.pay_order_id", "pay_order_id must have 1 to 64 characters")
    if order.amount < 1:
        raise InvalidArgument("order.amount", "amount must be at least 1 fen")
    if len(order.currency) > 8 or len(order.way_code) > 32:
        raise InvalidArgument("order", "currency or way_code is too long")
    if len(notify_url) > 1024:
        raise InvalidArgument("notify_url", "notify_url must have at most 1024 characters")
    if not notify_url and order.way_code not in BARCODE_WAY_CODES:
        raise InvalidArgument("notify_url", "the sandbox needs a notify_url to call back")



def choose_pay_data_type(way_code: str, extra: Mapping[str, Any]) -> str:
    wanted = extra.get("payDataType")
    if isinstance(wanted, str) and wanted.lower() in PAY_DATA_TYPES:
        return PAY_DATA_TYPES[wanted.lower()]
    return "codeUrl" if way_code in QR_WAY_CODES else "payurl"


def query_result_of(payment: SandboxPayment) -> QueryResult:
    if payment.state == SandboxState.SUCCESS:
        return QueryResult(ChannelState.CONFIRM_SUCCESS, channel_order_no=payment.channel_order_no)
    if payment.state == SandboxState.FAIL:
        return QueryResult(ChannelState.CONFIRM_FAIL, err_code="PAYER_DECLINED", err_msg=DECLINED)
    if payment.state == SandboxState.CLOSED:
        return QueryResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_CLOSED",
                           err_msg=f"order {payment.pay_order_id} was closed unpaid")
    return QueryResult(ChannelState.WAITING)


def parse_form(body: bytes) -> tuple[dict[str, str], str]:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return {}, "the body is not a UTF-8 form (application/x-www-form-urlencoded)"
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return {}, "a field appears more than once"
    return fields, ""


def rejected(reason: str) -> CallbackResult:
    return CallbackResult(verified=False, ack_ok=ACK_OK, ack_retry=ACK_RETRY, reject_reason=reason)


def new_channel_order_no(now: datetime) -> str:
    return f"SB{now:%Y%m%d%H%M%S}{secrets.randbelow(10**8):08d}"


def utc_at(epoch_seconds: float) -> datetime:
    """Naive UTC, as the book stores times."""
    return datetime.fromtimestamp(epoch_seconds, UTC)
