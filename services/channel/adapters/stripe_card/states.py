"""Stripe objects read defensively, and their statuses in the platform's one vocabulary.

PaymentIntent lifecycle (practices.md §5.1): requires_payment_method → (requires_confirmation)
→ requires_action → processing → succeeded, or canceled; a failed attempt returns the intent to
requires_payment_method. Fields are read with defaults: test peers and older API versions omit
some, and the SDK raises AttributeError for an absent field.
"""

from __future__ import annotations

import stripe

from paymesh.services.channel.adapters.base import (
    ChannelState,
    CloseResult,
    QueryResult,
    RefundResult,
)
from paymesh.services.channel.adapters.stripe_card.webhook import REFUND_STATES

CANCELABLE = frozenset({"requires_payment_method", "requires_confirmation", "requires_action",
                        "requires_capture"})
WAITING = CANCELABLE | {"processing"}


def text(obj: object, name: str) -> str:
    """A text field of a Stripe object; "" when absent (test peers and API versions omit some)."""
    value = getattr(obj, name, None)
    return value if isinstance(value, str) else ""


def count(obj: object, name: str) -> int:
    """A non-negative integer field of a Stripe object; -1 when absent or malformed."""
    value = getattr(obj, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else -1


def metadata(obj: stripe.StripeObject, key: str) -> str:
    """One metadata value of a Stripe object, "" when absent."""
    values = getattr(obj, "metadata", None)
    value = values[key] if values is not None and key in values else None
    return value if isinstance(value, str) else ""


def not_exist(pay_order_id: str) -> QueryResult:
    return QueryResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_NOT_EXIST",
                       err_msg=f"Stripe has no PaymentIntent for order {pay_order_id}")


def intent_state(intent: stripe.PaymentIntent) -> QueryResult:
    """PaymentIntent status → platform state (practices.md §5.1)."""
    status = text(intent, "status")
    if status == "succeeded":
        return QueryResult(ChannelState.CONFIRM_SUCCESS, channel_order_no=intent.id)
    if status == "canceled":
        return QueryResult(ChannelState.CONFIRM_FAIL, channel_order_no=intent.id,
                           err_code="ORDER_CLOSED",
                           err_msg=f"the PaymentIntent was canceled "
                                   f"({text(intent, 'cancellation_reason') or 'no reason'})")
    if status in WAITING:
        # requires_payment_method after a failed attempt: the payer may retry with another
        # card until the order is closed, so it stays WAITING; the decline is passed along.
        error = getattr(intent, "last_payment_error", None)
        code = (text(error, "decline_code") or text(error, "code") or "payment_failed"
                if error else "")
        message = text(error, "message")[:256] if error else ""
        return QueryResult(ChannelState.WAITING, channel_order_no=intent.id,
                           err_code=code, err_msg=message)
    return QueryResult(ChannelState.UNKNOWN, channel_order_no=intent.id,
                       err_code="UNEXPECTED_STATUS", err_msg=f"intent status {status!r}")


def close_result(intent: stripe.PaymentIntent, pay_order_id: str) -> CloseResult:
    status = text(intent, "status")
    if status == "canceled":
        return CloseResult(ChannelState.CONFIRM_SUCCESS)
    if status == "succeeded":
        return CloseResult(ChannelState.CONFIRM_FAIL, "ORDER_PAID",
                           f"order {pay_order_id} is already paid; it cannot be closed "
                           "(refund it instead)")
    return CloseResult(ChannelState.CONFIRM_FAIL, "ORDER_PROCESSING",
                       f"order {pay_order_id} is {status} at Stripe and cannot be "
                       "closed now; query it later")


def refund_result(found: stripe.Refund) -> RefundResult:
    status = text(found, "status")
    state = REFUND_STATES.get(status, ChannelState.UNKNOWN)
    failed = state == ChannelState.CONFIRM_FAIL
    return RefundResult(state, channel_refund_no=text(found, "id"),
                        refund_amount=count(found, "amount"),
                        err_code=(text(found, "failure_reason") or status) if failed else "",
                        err_msg=f"the refund {status}" if failed else "")
