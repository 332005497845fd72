"""Stripe webhooks: the signature checked per Stripe's rules, then the event read defensively.

Signature (channel-protocols.md §4.2): ``Stripe-Signature: t=<unix s>,v1=<hex>[,v1=…]``, where
each ``v1`` is hex HMAC-SHA256 keyed by the endpoint secret (the whole ``whsec_…`` text) over
``"<t>." + raw body``. An event is authentic when any ``v1`` matches (several appear while a
secret rotates), compared in constant time, and ``t`` is within 300 s of now either way. The raw
bytes are signed, so nothing is parsed before the signature holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from paymesh.services.channel.adapters.base import (
    AckReply,
    Callback,
    CallbackIdentity,
    CallbackKind,
    CallbackResult,
    ChannelState,
)

TOLERANCE_SECONDS = 300
ACK_OK = AckReply(200, "application/json", b'{"received": true}')
ACK_RETRY = AckReply(400, "application/json", b'{"received": false}')
PAY_EVENTS = frozenset({"payment_intent.succeeded", "payment_intent.payment_failed"})
REFUND_EVENTS = frozenset({"refund.updated", "charge.refunded"})
# Our order ids: P/R + digits today; anything sane and short is accepted, nothing else.
_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_MAX_HEADER = 4096


def expected_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``v1`` Stripe computes for ``body`` sent at ``timestamp``."""
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def check_signature(header: str, body: bytes, secret: str, now: float) -> str:
    """Why the signature is not acceptable, or "" when it is."""
    if not header:
        return "no Stripe-Signature header"
    if len(header) > _MAX_HEADER:
        return "the Stripe-Signature header is too long"
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if name == "t":
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                return "the Stripe-Signature timestamp is not Unix seconds"
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value.strip().lower())
    if timestamp is None:
        return "the Stripe-Signature header has no timestamp (t=)"
    if not candidates:
        return "the Stripe-Signature header has no v1 signature"
    expected = expected_signature(secret, timestamp, body).encode("ascii")
    matched = False
    for candidate in candidates:  # every candidate compared: the time does not leak which
        if _HEX64.fullmatch(candidate):
            matched |= hmac.compare_digest(expected, candidate.encode("ascii"))
    if not matched:
        return "no v1 signature matches (wrong webhook secret or altered body)"
    skew = abs(now - timestamp)
    if skew > TOLERANCE_SECONDS:
        return (f"the signature timestamp is {int(skew)} s away from now "
                f"(allowed: ±{TOLERANCE_SECONDS} s); a replay or a stale event")
    return ""


def signature_header(headers: Mapping[str, str]) -> str:
    """The Stripe-Signature header, whatever the case of its name."""
    for name, value in headers.items():
        if name.lower() == "stripe-signature":
            return value
    return ""


@dataclass(frozen=True)
class Event:
    """The parts of a Stripe event paymesh reads: its type and its object."""

    type: str
    obj: Mapping[str, Any]


def parse_event(body: bytes) -> Event | None:
    """The event in ``body``, or None when it is not a Stripe event object."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("object", "event") != "event":
        return None
    kind, inner = data.get("type"), data.get("data")
    obj = inner.get("object") if isinstance(inner, dict) else None
    if not isinstance(kind, str) or not isinstance(obj, dict):
        return None
    return Event(kind, obj)


def _text(obj: Mapping[str, Any], name: str) -> str:
    value = obj.get(name)
    return value if isinstance(value, str) else ""


def _count(obj: Mapping[str, Any], name: str) -> int:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _metadata_id(obj: Mapping[str, Any], name: str) -> str:
    metadata = obj.get("metadata")
    value = metadata.get(name) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and _ORDER_ID.fullmatch(value) else ""


def _object_id(value: Any) -> str:
    """An id given as text or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def identify(body: bytes) -> CallbackIdentity | None:
    """The order an event claims to be about; None when it names none paymesh handles."""
    event = parse_event(body)
    if event is None:
        return None
    if event.type in PAY_EVENTS:
        pay_order_id = _metadata_id(event.obj, "pay_order_id")
        return CallbackIdentity(CallbackKind.PAY, pay_order_id) if pay_order_id else None
    if event.type in REFUND_EVENTS:
        pay_order_id = _metadata_id(event.obj, "pay_order_id")
        if not pay_order_id:
            return None
        return CallbackIdentity(CallbackKind.REFUND, pay_order_id,
                                _metadata_id(event.obj, "refund_order_id"))
    return None


def rejected(reason: str) -> CallbackResult:
    """A refusal, answered so that Stripe retries."""
    return CallbackResult(verified=False, ack_ok=ACK_OK, ack_retry=ACK_RETRY,
                          reject_reason=reason)


REFUND_STATES = {
    "succeeded": ChannelState.CONFIRM_SUCCESS,
    "pending": ChannelState.WAITING,
    "requires_action": ChannelState.WAITING,
    "failed": ChannelState.CONFIRM_FAIL,
    "canceled": ChannelState.CONFIRM_FAIL,
}


def report(callback: Callback, secret: str, now: float) -> CallbackResult:
    """The verified meaning of a webhook, or why it was refused; never raises."""
    problem = check_signature(signature_header(callback.headers), callback.body, secret, now)
    if problem:
        return rejected(problem)
    event = parse_event(callback.body)
    if event is None:
        return rejected("the body is not a Stripe event (JSON with type and data.object)")
    obj = event.obj
    pay_order_id = _metadata_id(obj, "pay_order_id")
    if event.type not in PAY_EVENTS | REFUND_EVENTS:
        return rejected(f"event type {event.type[:64]!r} is not one paymesh handles; "
                        "subscribe the endpoint to payment_intent.succeeded, "
                        "payment_intent.payment_failed, refund.updated and charge.refunded")
    if not pay_order_id:
        return rejected(f"the {event.type} object names no paymesh order "
                        "(metadata.pay_order_id)")
    currency = _text(obj, "currency").lower()
    if event.type in PAY_EVENTS:
        return _pay_result(event, pay_order_id, currency)
    if event.type == "refund.updated":
        refund_order_id = _metadata_id(obj, "refund_order_id")
        if not refund_order_id:
            return rejected("the refund names no paymesh refund (metadata.refund_order_id)")
        status = _text(obj, "status")
        return CallbackResult(
            verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, kind=CallbackKind.REFUND,
            pay_order_id=pay_order_id, channel_order_no=_object_id(obj.get("payment_intent")),
            currency=currency, state=REFUND_STATES.get(status, ChannelState.UNKNOWN),
            refund_order_id=refund_order_id, channel_refund_no=_text(obj, "id"),
            refund_amount=_count(obj, "amount"), err_code=_text(obj, "failure_reason"))
    # charge.refunded: some refund of the charge moved; the charge does not say which one.
    return CallbackResult(
        verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, kind=CallbackKind.REFUND,
        pay_order_id=pay_order_id, channel_order_no=_object_id(obj.get("payment_intent")),
        amount=_count(obj, "amount"), currency=currency,
        refund_amount=_count(obj, "amount_refunded"))


def _pay_result(event: Event, pay_order_id: str, currency: str) -> CallbackResult:
    obj = event.obj
    amount = _count(obj, "amount")
    if amount < 1 or not currency:
        return rejected("the payment intent has no amount or currency")
    if event.type == "payment_intent.succeeded":
        state, err_code, err_msg = ChannelState.CONFIRM_SUCCESS, "", ""
    else:
        # A failed attempt returns the intent to requires_payment_method: the payer may still
        # pay with another card, so the order keeps waiting (see the package docstring).
        error = obj.get("last_payment_error")
        error = error if isinstance(error, dict) else {}
        state = ChannelState.WAITING
        err_code = _text(error, "decline_code") or _text(error, "code") or "payment_failed"
        err_msg = _text(error, "message")[:256]
    return CallbackResult(
        verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, kind=CallbackKind.PAY,
        pay_order_id=pay_order_id, channel_order_no=_text(obj, "id"), amount=amount,
        currency=currency, state=state, err_code=err_code, err_msg=err_msg)
