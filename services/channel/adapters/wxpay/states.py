"""WeChat's trade and refund states in the platform's one ChannelState vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paymesh.services.channel.adapters.base import ChannelState

TRADE_STATES = {
    "SUCCESS": ChannelState.CONFIRM_SUCCESS,
    # Paid, then (partly) refunded: the payment itself succeeded.
    "REFUND": ChannelState.CONFIRM_SUCCESS,
    "NOTPAY": ChannelState.WAITING,
    "USERPAYING": ChannelState.WAITING,
    "ACCEPT": ChannelState.WAITING,
    "CLOSED": ChannelState.CONFIRM_FAIL,
    "REVOKED": ChannelState.CONFIRM_FAIL,
    "PAYERROR": ChannelState.CONFIRM_FAIL,
}
REFUND_STATUSES = {
    "SUCCESS": ChannelState.CONFIRM_SUCCESS,
    "PROCESSING": ChannelState.WAITING,
    # ABNORMAL (the payer's card is gone) needs the merchant to act; the refund did not happen.
    "ABNORMAL": ChannelState.CONFIRM_FAIL,
    "CLOSED": ChannelState.CONFIRM_FAIL,
}
_TRADE_MESSAGES = {
    "CLOSED": "the payment was closed unpaid",
    "REVOKED": "the payment was reversed (撤销)",
    "PAYERROR": "the payment failed at WeChat Pay",
}
_REFUND_MESSAGES = {
    "ABNORMAL": "the refund is abnormal (the payer's account cannot receive it)",
    "CLOSED": "the refund was closed",
}


def trade_outcome(data: Mapping[str, Any]) -> tuple[ChannelState, str, str]:
    """State, error code and message of a transaction object; UNKNOWN for a state never seen."""
    trade_state = str(data.get("trade_state") or "")
    state = TRADE_STATES.get(trade_state, ChannelState.UNKNOWN)
    if state is ChannelState.CONFIRM_FAIL:
        message = str(data.get("trade_state_desc") or _TRADE_MESSAGES[trade_state])
        return state, trade_state, message
    if state is ChannelState.UNKNOWN:
        return state, trade_state or "TRADE_STATE_MISSING", "unrecognised trade_state"
    return state, "", ""


def refund_outcome(status: str) -> tuple[ChannelState, str, str]:
    """State, error code and message of a refund status."""
    state = REFUND_STATUSES.get(status, ChannelState.UNKNOWN)
    if state is ChannelState.CONFIRM_FAIL:
        return state, f"REFUND_{status}", _REFUND_MESSAGES[status]
    if state is ChannelState.UNKNOWN:
        return state, status or "REFUND_STATUS_MISSING", "unrecognised refund status"
    return state, "", ""


def amount_of(data: Mapping[str, Any], name: str) -> int:
    """``amount.<name>`` in fen, 0 when absent or not an integer."""
    amount = data.get("amount")
    value = amount.get(name) if isinstance(amount, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
