"""The sandbox channel: a simulated channel to integrate against before signing any contract.

Like Stripe's test mode, it behaves as a real channel would, signatures included, but no money
moves. Channel parameters: ``{"key": "<the app's sandbox signing key>"}``.

Pay
    Barcode wayCodes (AUTO_BAR, ALI_BAR, WX_BAR, YSF_BAR, UP_BAR) need ``channelExtra.authCode``
    of 10 to 32 digits and are charged at once: CONFIRM_SUCCESS, payDataType ``none``. Magic
    values: an authCode ending in ``0002`` is declined (CONFIRM_FAIL, errCode ``PAYER_DECLINED``);
    one ending in ``0003`` waits for the payer's password (WAITING, payDataType ``none``, no pay
    data) until a test or operator decides it (``SandboxBook.move``, or ``decide`` with its page
    token, which also calls back) or the platform cancels or closes it; polling and reversal of
    barcode payments are tested with it.
    Every other wayCode waits for the payer on the sandbox pay page
    ``{public_url}/sandbox/pay/{token}``: payDataType ``codeUrl`` for QR wayCodes, else
    ``payurl``; ``channelExtra.payDataType`` of ``codeUrl`` or ``payurl`` overrides. Pay is
    idempotent on payOrderId.

Callback (sent when the payer clicks pay or fail on the page)
    HTTP POST, ``application/x-www-form-urlencoded``, to the notify URL given to Pay, with the
    fields ``payOrderId``, ``channelOrderNo``, ``amount`` (fen), ``currency`` (lower case),
    ``result`` (``SUCCESS`` or ``FAIL``), ``timestamp`` (Unix ms), ``nonce`` (random) and
    ``sign``: upper-case hex HMAC-SHA256, keyed by the app's sandbox key, over the ``k=v`` pairs
    joined by ``&``, keys sorted byte-wise, empty values and ``sign`` left out. The receiver
    answers HTTP 200 with body ``success`` (trimmed, any case); anything else is retried after
    1, 2, 4, 8, 16 and 32 s. A receiver accepts a timestamp within ±300 s of its clock.

Cancel (撤销)
    Reverses a payment: a successful one is refunded in full (what is not refunded yet) under the
    refund id ``cancel:{payOrderId}``, a waiting one is closed, a failed, closed or unknown one
    needs nothing; the answer is CONFIRM_SUCCESS (UNKNOWN, errCode ``SYSTEM_BUSY``, only when
    refunds of the same payment keep racing it: cancel again).

Refund
    Only a successful payment can be refunded (else CONFIRM_FAIL ``ORDER_NOT_PAID``); ``pay_amount``
    must be the payment's amount (else ``PAY_AMOUNT_MISMATCH``). Refunds are idempotent on the
    refund id: the same id again returns the first result, with another amount or payment
    ``REFUND_PARAMS_MISMATCH``. Together the refunds of a payment never exceed its amount
    (``REFUND_EXCEEDS_PAID``), however many arrive at once. The sandbox refunds at once:
    CONFIRM_SUCCESS and a channel refund id ``SBR…``. Magic value: a reason containing
    ``[sandbox:pending]`` leaves the refund PROCESSING (WAITING, its amount held) until a test or
    operator ends it with ``SandboxAdapter.finish_refund``; a failed one gives its amount back.
    The sandbox sends no refund callbacks (its refunds end synchronously or by finish_refund);
    poll QueryRefund for a pending one. Unknown refunds are CONFIRM_FAIL ``REFUND_NOT_EXIST``.
    ``SandboxBook.refunds_of(payOrderId)`` lists a payment's refunds, cancel reversals included.

Bill (DownloadBill)
    The payments and refunds that succeeded on a Beijing day, as a CSV with a totals trailer,
    fees at the ``feeRate`` channel parameter (default ``"0.006"``); ready once the day is over,
    or at once for today with ``"billToday": true``. Format and readiness: :mod:`.sandbox_bill`.
    ``plant_bill_mistake`` makes a bill disagree with the platform about one order or refund
    (tests and operators, like ``finish_refund``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from paymesh.services.channel.adapters.base import (
    Callback,
    CallbackIdentity,
    CallbackKind,
    CallbackResult,
    ChannelState,
    CloseResult,
    PaymentOrder,
    PayResult,
    QueryResult,
    RefundOrder,
    RefundResult,
    parse_channel_extra,
)
from paymesh.services.channel.adapters.bills import Bill
from paymesh.services.channel.adapters.sandbox_bill import mistake, sandbox_bill
from paymesh.services.channel.adapters.sandbox_protocol import (
    ACK_OK,
    ACK_RETRY,
    AUTH_CODE,
    AWAITING_PASSWORD_SUFFIX,
    CALLBACK_FIELDS,
    DECLINED,
    DECLINED_SUFFIX,
    DIGITS,
    TIMESTAMP_WINDOW_MS,
    check_order,
    choose_pay_data_type,
    key_context,
    new_channel_order_no,
    oauth_mac,
    parse_form,
    query_result_of,
    rejected,
    sandbox_key,
    sign,
    utc_at,
)
from paymesh.services.channel.adapters.sandbox_refunds import SandboxRefunds
from paymesh.services.channel.delivery import CallbackDelivery
from paymesh.services.channel.models import SandboxPayment, SandboxState
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound
from paymesh.services.common.secretbox import SecretBox
from paymesh.services.common.waycodes import BARCODE_WAY_CODES


@dataclass(frozen=True)
class PayerDecision:
    """The payment after the payer's click, and whether the platform acknowledged the callback."""

    payment: SandboxPayment
    callback_delivered: bool


class SandboxAdapter:
    """The sandbox channel, keeping its own book and delivering its own callbacks."""

    if_code = "sandbox"

    def __init__(self, book: SandboxBook, delivery: CallbackDelivery, public_url: str,
                 box: SecretBox, clock: Callable[[], float] = time.time) -> None:
        self._book = book
        self._box = box
        self._delivery = delivery
        self._public_url = public_url.rstrip("/")
        self._clock = clock
        self._refunds = SandboxRefunds(book, self._now)

    async def pay(self, params: Mapping[str, Any], order: PaymentOrder,
                  notify_url: str) -> PayResult:
        key = sandbox_key(params)
        check_order(order, notify_url)
        extra = parse_channel_extra(order.channel_extra)
        pay_data_type = "none"
        if order.way_code in BARCODE_WAY_CODES:
            auth_code = extra.get("authCode")
            if not isinstance(auth_code, str) or not AUTH_CODE.fullmatch(auth_code):
                raise InvalidArgument("channelExtra.authCode",
                                      f"{order.way_code} needs channelExtra.authCode of 10 to 32 "
                                      "digits (the code shown by the payer's wallet)")
            declined = auth_code.endswith(DECLINED_SUFFIX)
            state = SandboxState.FAIL if declined else SandboxState.SUCCESS
            if auth_code.endswith(AWAITING_PASSWORD_SUFFIX):
                state = SandboxState.WAITING
        else:
            pay_data_type = choose_pay_data_type(order.way_code, extra)
            state = SandboxState.WAITING
        now = self._now()
        booked = await self._book.add_once(SandboxPayment(
            token=secrets.token_urlsafe(24), pay_order_id=order.pay_order_id,
            amount=order.amount, currency=(order.currency or "cny").lower(),
            subject=order.subject[:256], way_code=order.way_code, notify_url=notify_url,
            key_sealed=self._box.seal(key, key_context(order.pay_order_id)),
            state=state.value, channel_order_no=new_channel_order_no(now), created_at=now,
            expire_at=utc_at(order.expire_at) if order.expire_at > 0 else None, updated_at=now,
            paid_at=now if state == SandboxState.SUCCESS else None))
        if booked.amount != order.amount or booked.way_code != order.way_code:
            return PayResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_PARAMS_MISMATCH",
                             err_msg=f"order {order.pay_order_id} was already submitted with a "
                                     "different amount or wayCode")
        if booked.state == SandboxState.WAITING and pay_data_type == "none":  # a barcode
            return PayResult(ChannelState.WAITING, pay_data_type="none")
        if booked.state == SandboxState.WAITING:
            return PayResult(ChannelState.WAITING, pay_data_type=pay_data_type,
                             pay_data=f"{self._public_url}/sandbox/pay/{booked.token}")
        result = query_result_of(booked)
        return PayResult(result.state, channel_order_no=result.channel_order_no,
                         pay_data_type="none", err_code=result.err_code, err_msg=result.err_msg)

    async def query(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> QueryResult:
        sandbox_key(params)
        payment = await self._book.by_pay_order(pay_order_id)
        if payment is None:
            return QueryResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_NOT_EXIST",
                               err_msg=f"the sandbox has no payment for order {pay_order_id}")
        return query_result_of(payment)

    async def close(self, params: Mapping[str, Any], pay_order_id: str, *,
                    channel_order_no: str = "") -> CloseResult:
        sandbox_key(params)
        payment = await self._book.by_pay_order(pay_order_id)
        if payment is None:
            return CloseResult(ChannelState.CONFIRM_SUCCESS)
        if payment.state == SandboxState.WAITING:
            await self._book.move(payment.token, [SandboxState.WAITING], SandboxState.CLOSED,
                                  self._now())
            payment = await self._book.by_pay_order(pay_order_id) or payment
        if payment.state == SandboxState.SUCCESS:
            return CloseResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_PAID",
                               err_msg=f"order {pay_order_id} is already paid; it cannot be "
                                       "closed (refund it instead)")
        return CloseResult(ChannelState.CONFIRM_SUCCESS)

    async def verify_callback(self, params: Mapping[str, Any], callback: Callback
                              ) -> CallbackResult:
        key = sandbox_key(params)
        fields, problem = parse_form(callback.body)
        if problem:
            return rejected(problem)
        missing = [name for name in CALLBACK_FIELDS if not fields.get(name)]
        if missing:
            return rejected(f"missing fields: {', '.join(missing)}")
        if not hmac.compare_digest(sign(fields, key).encode("utf-8"),
                                   fields["sign"].upper().encode("utf-8")):
            return rejected("the signature does not match (wrong key or altered fields)")
        if not DIGITS.fullmatch(fields["timestamp"]):
            return rejected("timestamp must be Unix milliseconds")
        skew_ms = abs(int(self._clock() * 1000) - int(fields["timestamp"]))
        if skew_ms > TIMESTAMP_WINDOW_MS:
            return rejected(f"the timestamp is {skew_ms // 1000} s away from now "
                             f"(allowed: ±{TIMESTAMP_WINDOW_MS // 1000} s)")
        if not DIGITS.fullmatch(fields["amount"]) or int(fields["amount"]) < 1:
            return rejected("amount must be an integer count of fen, at least 1")
        outcome = {"SUCCESS": ChannelState.CONFIRM_SUCCESS, "FAIL": ChannelState.CONFIRM_FAIL}
        if fields["result"] not in outcome:
            return rejected("result must be SUCCESS or FAIL")
        declined = fields["result"] == "FAIL"
        return CallbackResult(
            verified=True, ack_ok=ACK_OK, ack_retry=ACK_RETRY,
            pay_order_id=fields["payOrderId"], channel_order_no=fields["channelOrderNo"],
            amount=int(fields["amount"]), currency=fields["currency"].lower(),
            state=outcome[fields["result"]], err_code="PAYER_DECLINED" if declined else "",
            err_msg=DECLINED if declined else "", kind=CallbackKind.PAY)

    async def user_auth_url(self, params: Mapping[str, Any], redirect_url: str,
                            state: str) -> str:
        """The sandbox's OAuth: straight back with a code signed by the app's sandbox key."""
        key = sandbox_key(params)
        nonce = secrets.token_hex(8)
        code = f"sbx.{nonce}.{oauth_mac(key, nonce)}"
        separator = "&" if "?" in redirect_url else "?"
        return f"{redirect_url}{separator}code={code}&state={quote(state)}"

    async def channel_user(self, params: Mapping[str, Any], code: str) -> str:
        """The sandbox payer behind a code it issued; a forged code is refused."""
        key = sandbox_key(params)
        parts = code.split(".")
        if (len(parts) != 3 or parts[0] != "sbx"
                or not hmac.compare_digest(oauth_mac(key, parts[1]), parts[2])):
            raise InvalidArgument("code", "not an OAuth code issued by the sandbox")
        return "sandbox-user-" + hashlib.sha256(f"{key}:{parts[1]}".encode()).hexdigest()[:16]

    async def identify_callback(self, callback: Callback) -> CallbackIdentity | None:
        fields, problem = parse_form(callback.body)
        pay_order_id = fields.get("payOrderId", "")
        if problem or not pay_order_id:
            return None
        return CallbackIdentity(CallbackKind.PAY, pay_order_id=pay_order_id)

    async def cancel(self, params: Mapping[str, Any], pay_order_id: str, *,
                     channel_order_no: str = "") -> CloseResult:
        sandbox_key(params)
        return await self._refunds.reverse(pay_order_id)

    async def refund(self, params: Mapping[str, Any], refund: RefundOrder,
                     notify_url: str) -> RefundResult:
        sandbox_key(params)
        return await self._refunds.refund(refund)

    async def query_refund(self, params: Mapping[str, Any], pay_order_id: str,
                           refund_order_id: str, *, channel_order_no: str = "",
                           channel_refund_no: str = "") -> RefundResult:
        sandbox_key(params)
        return await self._refunds.query(pay_order_id, refund_order_id)

    async def finish_refund(self, refund_order_id: str, success: bool) -> RefundResult:
        """Ends a pending (``[sandbox:pending]``) refund, as the channel would some time later.

        For tests and operators; the platform learns the outcome by QueryRefund. An ended refund
        is left as it is. SANDBOX_REFUND_NOT_FOUND when there is no such refund.
        """
        return await self._refunds.finish(refund_order_id, success)

    async def download_bill(self, params: Mapping[str, Any], bill_date: dt.date) -> Bill:
        """The sandbox's bill of a Beijing day (see :mod:`.sandbox_bill`)."""
        sandbox_key(params)
        return await sandbox_bill(self._book, params, bill_date, self._now())

    async def plant_bill_mistake(self, kind: str, ref: str, *, amount: int | None = None,
                                 fee: int | None = None, status: str = "",
                                 bill_date: dt.date | None = None) -> None:
        """Makes the bills disagree with the platform about order or refund id ``ref``.

        Kinds: AMOUNT/FEE (the fen reported, default one more), STATUS (SUCCESS, PROCESSING or
        FAILED, default FAILED), OMIT (the row is left out), EXTRA (a payment the platform never
        made, on ``bill_date``, default today; ``amount`` default 500). For tests and operators.
        """
        await self._book.plant_mistake(mistake(kind, ref, amount=amount, fee=fee, status=status,
                                               bill_date=bill_date, now=self._now()))

    async def payment_for_page(self, token: str) -> SandboxPayment:
        """The payment behind a pay page token; SANDBOX_PAYMENT_NOT_FOUND when there is none."""
        payment = await self._book.by_token(token)
        if payment is None:
            raise NotFound("SANDBOX_PAYMENT_NOT_FOUND", "no sandbox payment has this token")
        return payment

    async def decide(self, token: str, result: str) -> PayerDecision:
        """The payer's click (``success`` or ``fail``): moves a waiting payment, then calls back.

        Repeating the click that already decided the payment delivers the callback again and
        changes nothing else; a closed, expired or oppositely decided payment is refused.
        """
        targets = {"success": SandboxState.SUCCESS, "fail": SandboxState.FAIL}
        if result not in targets:
            raise InvalidArgument("result", "result must be success or fail")
        target = targets[result]
        payment = await self.payment_for_page(token)
        if payment.state == SandboxState.WAITING:
            if payment.expire_at is not None and payment.expire_at <= self._now():
                raise DomainError("SANDBOX_PAYMENT_EXPIRED",
                                  "this payment expired; it can no longer be paid")
            await self._book.move(token, [SandboxState.WAITING], target, self._now())
            payment = await self.payment_for_page(token)
        if payment.state == SandboxState.CLOSED:
            raise DomainError("SANDBOX_PAYMENT_CLOSED",
                              "this payment was closed; it can no longer be paid")
        if payment.state != target:
            raise DomainError("SANDBOX_PAYMENT_FINAL",
                              f"this payment already ended as {payment.state}; it cannot change")
        delivered = False
        if payment.notify_url:
            decided = payment
            delivered = await self._delivery.deliver(
                token, payment.notify_url, lambda: self._callback_form(decided))
        return PayerDecision(payment, delivered)

    def _callback_form(self, payment: SandboxPayment) -> dict[str, str]:
        fields = {
            "payOrderId": payment.pay_order_id,
            "channelOrderNo": payment.channel_order_no,
            "amount": str(payment.amount),
            "currency": payment.currency,
            "result": "SUCCESS" if payment.state == SandboxState.SUCCESS else "FAIL",
            "timestamp": str(int(self._clock() * 1000)),
            "nonce": secrets.token_hex(16),
        }
        key = self._box.open(payment.key_sealed, key_context(payment.pay_order_id))
        fields["sign"] = sign(fields, key)
        return fields

    def _now(self) -> datetime:
        return utc_at(self._clock())
