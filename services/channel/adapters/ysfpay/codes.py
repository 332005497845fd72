"""What ACP response codes mean for paymesh, and how an order id gives its ACP ``txnTime``.

respCode (of a synchronous answer) and origRespCode (of the original transaction, in a query
answer or a notification's respCode):

========================  ======================================  ===============
code                      ACP meaning                             ChannelState
========================  ======================================  ===============
``00``, ``A6``            success (A6: success with defects)      CONFIRM_SUCCESS
``05``                    accepted, result later (e.g. waiting     WAITING
                          for the payer's password)
``03``, ``04``            timed out / state unknown: query        UNKNOWN
``02``, ``06``, ``99``    system closed, busy, general error      UNKNOWN
``12``                    duplicate transaction                   query decides
``34``                    no such transaction (query only)        CONFIRM_FAIL
anything else             business refusal (01, 1x, 3x, 6x, …)    CONFIRM_FAIL
========================  ======================================  ===============
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.ids import issued_at_ms

SUCCESS_CODES = frozenset({"00", "A6"})
PENDING_CODES = frozenset({"05"})
UNKNOWN_CODES = frozenset({"02", "03", "04", "06", "99"})
DUPLICATE = "12"
NOT_FOUND = "34"
# A notification whose txnTime is older than this is refused as stale (a replay); UnionPay sends
# and retries back notifications within hours of the transaction. An assumption, see the package.
NOTIFY_MAX_AGE_SECONDS = 24 * 3600.0
BEIJING = timezone(timedelta(hours=8), "CST")

# paymesh order ids are a letter prefix and a snowflake number (services/common/ids.py), which
# carries the moment it was made.
_ORDER_ID = re.compile(r"([A-Za-z]{0,4})([0-9]{15,20})")
_ACP_ORDER_ID = re.compile(r"[0-9A-Za-z]{8,40}")


def state_of(code: str) -> ChannelState:
    """The ChannelState an ACP code stands for (see the table)."""
    if code in SUCCESS_CODES:
        return ChannelState.CONFIRM_SUCCESS
    if code in PENDING_CODES:
        return ChannelState.WAITING
    if code in UNKNOWN_CODES or code == DUPLICATE or not code:
        return ChannelState.UNKNOWN
    return ChannelState.CONFIRM_FAIL


def acp_order_id(order_id: str, field: str) -> str:
    """``order_id`` if ACP takes it as an orderId (8-40 letters/digits); else INVALID_ARGUMENT."""
    if not _ACP_ORDER_ID.fullmatch(order_id):
        raise InvalidArgument(field, "ysfpay order ids must have 8 to 40 letters or digits")
    return order_id


def txn_time_of(order_id: str, field: str) -> str:
    """The ACP ``txnTime`` (Beijing time, ``YYYYMMDDhhmmss``) when the order id was made.

    ACP finds a transaction by (orderId, txnTime), yet the adapter keeps no state; paymesh order
    ids carry their creation time, so pay, query and refund all derive the same txnTime.
    """
    match = _ORDER_ID.fullmatch(acp_order_id(order_id, field))
    if match is None:
        raise InvalidArgument(field, "ysfpay needs paymesh order ids (a letter prefix and a "
                                     "snowflake number): ACP keys orders by orderId and txnTime")
    millis = issued_at_ms(int(match.group(2)))
    when = datetime.fromtimestamp(millis / 1000, UTC)
    if not 2024 <= when.year <= 2099:
        raise InvalidArgument(field, f"order id {order_id} does not carry a plausible time")
    return when.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def txn_time_at(epoch_seconds: float) -> str:
    """The ACP ``txnTime`` of a transaction sent at ``epoch_seconds``."""
    return datetime.fromtimestamp(epoch_seconds, BEIJING).strftime("%Y%m%d%H%M%S")


def epoch_of_txn_time(txn_time: str) -> float | None:
    """Unix seconds of an ACP ``txnTime``; None when it is malformed."""
    try:
        parsed = datetime.strptime(txn_time, "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return parsed.replace(tzinfo=BEIJING).timestamp()
