"""What every channel adapter implements, in the one vocabulary the platform understands.

Adapters are plain async objects without gRPC: the servicer translates protobuf into these types
and back, so an adapter can be tested, and reused by jobs, without a server.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from paymesh.services.common.errors import DomainError, InvalidArgument


class ChannelState(enum.Enum):
    """What a channel says about a payment; names match the proto's ``CHANNEL_STATE_*``."""

    CONFIRM_SUCCESS = "CONFIRM_SUCCESS"
    CONFIRM_FAIL = "CONFIRM_FAIL"
    WAITING = "WAITING"
    UNKNOWN = "UNKNOWN"
    SYS_ERROR = "SYS_ERROR"


@dataclass(frozen=True)
class PaymentOrder:
    """The order fields a channel needs. Amount in fen (≥ 1), expiry in Unix seconds (0: none)."""

    pay_order_id: str
    way_code: str
    amount: int
    currency: str
    subject: str
    body: str = ""
    client_ip: str = ""
    expire_at: int = 0
    channel_extra: str = ""
    return_url: str = ""


@dataclass(frozen=True)
class PayResult:
    """The channel's answer to a pay request, with the data the payer needs when WAITING."""

    state: ChannelState
    channel_order_no: str = ""
    pay_data_type: str = ""
    pay_data: str = ""
    err_code: str = ""
    err_msg: str = ""


@dataclass(frozen=True)
class QueryResult:
    """The channel's view of a payment's state."""

    state: ChannelState
    channel_order_no: str = ""
    err_code: str = ""
    err_msg: str = ""


@dataclass(frozen=True)
class CloseResult:
    """CONFIRM_SUCCESS when the payment is closed (or never existed); CONFIRM_FAIL otherwise."""

    state: ChannelState
    err_code: str = ""
    err_msg: str = ""


@dataclass(frozen=True)
class RefundOrder:
    """A refund of a successful payment. Amounts in fen; refund_amount ≤ pay_amount."""

    pay_order_id: str
    refund_order_id: str
    pay_amount: int
    refund_amount: int
    currency: str
    channel_order_no: str = ""
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    """The channel's view of a refund: CONFIRM_SUCCESS, WAITING, CONFIRM_FAIL or UNKNOWN."""

    state: ChannelState
    channel_refund_no: str = ""
    refund_amount: int = 0
    err_code: str = ""
    err_msg: str = ""


class CallbackKind(enum.Enum):
    """What a callback reports; names match the proto's ``CALLBACK_KIND_*``."""

    PAY = "PAY"
    REFUND = "REFUND"


@dataclass(frozen=True)
class Callback:
    """A channel callback as received: lower-case header names, raw body."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str


@dataclass(frozen=True)
class AckReply:
    """The HTTP answer the channel expects to a callback."""

    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class CallbackResult:
    """What a verified callback reports, or why it was rejected, and how to answer either way."""

    verified: bool
    ack_ok: AckReply
    ack_retry: AckReply
    reject_reason: str = ""
    pay_order_id: str = ""
    channel_order_no: str = ""
    amount: int = 0
    currency: str = ""
    state: ChannelState | None = None
    err_code: str = ""
    err_msg: str = ""
    kind: CallbackKind | None = None
    refund_order_id: str = ""
    channel_refund_no: str = ""
    refund_amount: int = 0


@dataclass(frozen=True)
class CallbackIdentity:
    """The order an unverified callback claims to be about."""

    kind: CallbackKind
    pay_order_id: str = ""
    refund_order_id: str = ""


@runtime_checkable
class PayerIdentification(Protocol):
    """A channel that can identify the payer in its app through OAuth (for the cashier)."""

    async def user_auth_url(self, params: Mapping[str, Any], redirect_url: str,
                            state: str) -> str:
        """Where to send the payer's browser; the channel returns to ``redirect_url``+code."""

    async def channel_user(self, params: Mapping[str, Any], code: str) -> str:
        """The payer's id at the channel (openid, user id) for an OAuth code."""


class ChannelAdapter(Protocol):
    """One payment channel. ``params`` are the decrypted channel parameters of the call.

    ``channel_order_no`` / ``channel_refund_no`` are the channel's own ids when the platform
    knows them; channels that find payments by the platform's ids may ignore them.
    """

    if_code: str

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        """Asks the channel to take a payment; idempotent on the pay order id."""

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        """Asks the channel for the payment's current state."""

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        """Asks the channel to close an unpaid payment."""

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        """Checks a callback's authenticity and says what it reports; never raises on bad input."""

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        """Which order an unverified callback names (per-account callback URLs, e.g. Stripe).

        Needs no parameters and trusts nothing; None when the body names no order.
        """

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        """Reverses a barcode payment (cancelled, or refunded at the channel if it went through)."""

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        """Asks the channel to refund; idempotent on the refund order id."""

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        """Asks the channel for the refund's current state."""


def parse_channel_extra(text: str) -> dict[str, Any]:
    """An order's ``channelExtra`` JSON object (empty when absent); INVALID_ARGUMENT otherwise."""
    if not text.strip():
        return {}
    try:
        extra = json.loads(text)
    except ValueError:
        extra = None
    if not isinstance(extra, dict):
        raise InvalidArgument("channelExtra", "channelExtra must be a JSON object")
    return extra


def parse_channel_params(text: str) -> dict[str, Any]:
    """The channel parameters JSON object; CHANNEL_CONFIG_INVALID when it is not one."""
    try:
        params = json.loads(text or "{}")
    except ValueError:
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          "channel parameters are not valid JSON") from None
    if not isinstance(params, dict):
        raise DomainError("CHANNEL_CONFIG_INVALID", "channel parameters must be a JSON object")
    return params
