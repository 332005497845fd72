"""ACP back notifications (backUrl form POSTs): verified, read, and answered the way UnionPay wants.

UnionPay takes HTTP 200 as receipt and resends otherwise; so ``ack_ok`` is 200 ``ok`` and
``ack_retry`` is 500. A notification is trusted only when its ``signPubKeyCert`` chains to the
configured UnionPay root, its ``signature`` verifies, it is for the configured sub-merchant and
its ``txnTime`` is recent (a replay of an old notification is refused as stale).
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl

from paymesh.services.channel.adapters.base import (
    AckReply,
    Callback,
    CallbackIdentity,
    CallbackKind,
    CallbackResult,
    ChannelState,
)
from paymesh.services.channel.adapters.ysfpay import codes
from paymesh.services.channel.adapters.ysfpay.acp import AcpVerifyError, utc_now, verify_fields
from paymesh.services.channel.adapters.ysfpay.params import YsfpayParams

ACK_OK = AckReply(200, "text/plain", b"ok")
ACK_RETRY = AckReply(500, "text/plain", b"retry")
KINDS = {"01": CallbackKind.PAY, "04": CallbackKind.REFUND}
REQUIRED = ("signature", "signPubKeyCert", "respCode", "merId", "orderId", "txnType", "txnTime",
            "txnAmt")
FUTURE_SKEW_SECONDS = 3600.0


def verify_notification(p: YsfpayParams, callback: Callback, now: float,
                        max_age: float) -> CallbackResult:
    """The verified content of a notification, or why it is refused; never raises on bad input."""
    fields = _parse_form(callback.body)
    if fields is None:
        return _rejected("the body is not a UTF-8 form with each field once")
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        return _rejected(f"missing fields: {', '.join(missing)}")
    try:
        verify_fields(fields, p.anchors, utc_now(now))
    except AcpVerifyError as error:
        return _rejected(str(error))
    except Exception as error:  # noqa: BLE001 - hostile input must not escape as a crash
        return _rejected(f"the signature cannot be checked ({type(error).__name__})")
    if fields["merId"] != p.mer_id:
        return _rejected(f"the notification is for merchant {fields['merId']}, not this one")
    sent = codes.epoch_of_txn_time(fields["txnTime"])
    if sent is None:
        return _rejected("txnTime is not YYYYMMDDhhmmss")
    if now - sent > max_age or sent - now > FUTURE_SKEW_SECONDS:
        return _rejected(f"the notification is stale: txnTime {fields['txnTime']} is "
                         f"{int((now - sent) // 60)} min away from now")
    kind = KINDS.get(fields["txnType"])
    if kind is None:
        return _rejected(f"txnType {fields['txnType']} is neither a consume nor a refund")
    if not fields["txnAmt"].isdigit() or int(fields["txnAmt"]) < 1:
        return _rejected("txnAmt must be an integer count of fen, at least 1")
    code = fields["respCode"]
    state = codes.state_of(code)
    failed = state != ChannelState.CONFIRM_SUCCESS
    amount = int(fields["txnAmt"])
    currency = "cny" if fields.get("currencyCode", "156") == "156" else fields["currencyCode"]
    base = CallbackResult(verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY, state=state,
                          kind=kind, currency=currency, err_code=code if failed else "",
                          err_msg=fields.get("respMsg", "") if failed else "")
    if kind == CallbackKind.PAY:
        return replace(base, pay_order_id=fields["orderId"],
                       channel_order_no=fields.get("queryId", ""), amount=amount)
    return replace(base, pay_order_id=fields.get("reqReserved", ""),
                   channel_order_no=fields.get("origQryId", ""), refund_order_id=fields["orderId"],
                   channel_refund_no=fields.get("queryId", ""), refund_amount=amount)


def identify(callback: Callback) -> CallbackIdentity | None:
    """The order a notification names, from ``orderId`` (and ``reqReserved`` for refunds).

    Untrusted: nothing is verified here; it only picks the channel configuration to verify with.
    """
    fields = _parse_form(callback.body)
    if not fields or not fields.get("orderId"):
        return None
    kind = KINDS.get(fields.get("txnType", ""))
    if kind == CallbackKind.PAY:
        return CallbackIdentity(kind, pay_order_id=fields["orderId"])
    if kind == CallbackKind.REFUND:
        return CallbackIdentity(kind, pay_order_id=fields.get("reqReserved", ""),
                                refund_order_id=fields["orderId"])
    return None


def _parse_form(body: bytes) -> dict[str, str] | None:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    fields = dict(pairs)
    return fields if len(fields) == len(pairs) else None


def _rejected(reason: str) -> CallbackResult:
    return CallbackResult(verified=False, ack_ok=ACK_OK, ack_retry=ACK_RETRY, reject_reason=reason)
