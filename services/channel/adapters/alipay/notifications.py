"""Alipay's asynchronous notifications (异步通知, reference §2.4): verify, read, acknowledge.

Alipay POSTs a form signed with its own key over every field but ``sign`` and ``sign_type``,
sorted, empty values kept. Only the body ``success`` stops its retries (4 min, 10 min, 10 min,
1 h, 2 h, 6 h, 15 h). A notification carrying ``refund_fee``/``gmt_refund``/``out_biz_no`` is
about a refund: it is reported as kind REFUND with state UNKNOWN, because Alipay asks for refunds
to be confirmed with ``alipay.trade.fastpay.refund.query``, never with the notification.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qsl

from paymesh.services.channel.adapters.alipay import signing
from paymesh.services.channel.adapters.alipay.gateway import BEIJING
from paymesh.services.channel.adapters.alipay.params import AlipayParams, yuan_to_fen
from paymesh.services.channel.adapters.base import (
    AckReply,
    Callback,
    CallbackIdentity,
    CallbackKind,
    CallbackResult,
    ChannelState,
)

ACK_OK = AckReply(200, "text/plain", b"success")
ACK_RETRY = AckReply(200, "text/plain", b"fail")
_CHARSETS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gbk", "gb2312": "gbk", "gb18030": "gbk"}
_PAY_STATES = {"TRADE_SUCCESS": ChannelState.CONFIRM_SUCCESS,
               "TRADE_FINISHED": ChannelState.CONFIRM_SUCCESS,
               "TRADE_CLOSED": ChannelState.CONFIRM_FAIL,
               "WAIT_BUYER_PAY": ChannelState.WAITING}
_REFUND_MARKS = ("out_biz_no", "refund_fee", "gmt_refund")


def verify_notification(cfg: AlipayParams, callback: Callback, now: float,
                        window_seconds: float) -> CallbackResult:
    """What an authentic notification reports, or why this one is refused; never raises.

    Checks, in order: a well-formed form, ``sign_type`` RSA2, the signature under Alipay's
    public key, ``app_id`` equal to this configuration's, ``notify_time`` within
    ``window_seconds`` of ``now`` (0 disables the check), then the order fields.
    """
    fields, charset, problem = parse_form(callback)
    if problem:
        return _rejected(problem)
    signature = fields.get("sign", "")
    if not signature:
        return _rejected("the notification carries no sign")
    if fields.get("sign_type", "RSA2") != "RSA2":
        return _rejected(f"sign_type must be RSA2, not {fields['sign_type']!r}")
    content = signing.notification_content(fields).encode(charset)
    if not signing.verify(content, signature, cfg.alipay_public_key):
        return _rejected("the signature does not verify under alipayPublicKey "
                         "(forged, altered, or signed by another key)")
    if fields.get("app_id") != cfg.app_id:
        return _rejected(f"app_id {fields.get('app_id')!r} is not this channel's app "
                         f"{cfg.app_id!r}")
    if window_seconds > 0:
        problem = _check_notify_time(fields.get("notify_time", ""), now, window_seconds)
        if problem:
            return _rejected(problem)
    pay_order_id = fields.get("out_trade_no", "")
    amount = yuan_to_fen(fields.get("total_amount", ""))
    if not pay_order_id or amount is None:
        return _rejected("out_trade_no and a yuan total_amount are required")
    verified = CallbackResult(verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY,
                              pay_order_id=pay_order_id,
                              channel_order_no=fields.get("trade_no", ""), amount=amount,
                              currency="cny")
    if any(fields.get(mark) for mark in _REFUND_MARKS):
        return replace(verified, kind=CallbackKind.REFUND, state=ChannelState.UNKNOWN,
                       refund_order_id=fields.get("out_biz_no", ""),
                       err_code="REFUND_CONFIRM_BY_QUERY",
                       err_msg="Alipay refund notifications are not proof; confirm the refund "
                               "with query_refund")
    status = fields.get("trade_status", "")
    if status not in _PAY_STATES:
        return _rejected(f"unknown trade_status {status!r}")
    failed = status == "TRADE_CLOSED"
    return replace(verified, kind=CallbackKind.PAY, state=_PAY_STATES[status],
                   err_code=status if failed else "",
                   err_msg="the trade was closed unpaid" if failed else "")


def identify_notification(callback: Callback) -> CallbackIdentity | None:
    """The order a notification names, read without any verification (untrusted)."""
    fields, _, problem = parse_form(callback)
    if problem or not fields.get("out_trade_no"):
        return None
    refund_id = fields.get("out_biz_no", "")
    if refund_id or fields.get("refund_fee"):
        return CallbackIdentity(CallbackKind.REFUND, fields["out_trade_no"], refund_id)
    return CallbackIdentity(CallbackKind.PAY, fields["out_trade_no"])


def parse_form(callback: Callback) -> tuple[dict[str, str], str, str]:
    """The fields of a form body, its charset, and a problem ("" when none)."""
    try:
        text = callback.body.decode("ascii")
        peek = dict(parse_qsl(text, keep_blank_values=True, encoding="latin-1"))
    except (UnicodeDecodeError, ValueError):
        return {}, "", "the body is not a URL-encoded form"
    declared = _content_charset(callback.content_type) or peek.get("charset", "utf-8")
    charset = _CHARSETS.get(declared.strip().lower())
    if charset is None:
        return {}, "", f"unsupported charset {declared!r}"
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                          encoding=charset, errors="strict")
    except (UnicodeDecodeError, ValueError):
        return {}, "", f"the body is not a {charset} URL-encoded form"
    fields = dict(pairs)
    if len(fields) != len(pairs):
        return {}, "", "a field appears more than once"
    return fields, charset, ""


def _content_charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"')
    return ""


def _check_notify_time(text: str, now: float, window_seconds: float) -> str:
    try:
        sent = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING)
    except ValueError:
        return "notify_time must be yyyy-MM-dd HH:mm:ss (Beijing time)"
    skew = abs(sent.timestamp() - now)
    if skew > window_seconds:
        return (f"notify_time is {int(skew)} s away from now (allowed: ±{int(window_seconds)} s):"
                " stale or replayed")
    return ""


def _rejected(reason: str) -> CallbackResult:
    return CallbackResult(verified=False, ack_ok=ACK_OK, ack_retry=ACK_RETRY, reject_reason=reason)

