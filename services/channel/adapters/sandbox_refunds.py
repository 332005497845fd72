"""The sandbox's refunds and cancel reversals, kept in its book (rules in the sandbox docstring).

Split from the sandbox adapter so each stays small; the adapter checks the channel parameters and
delegates here.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime

from paymesh.services.channel.adapters.base import (
    ChannelState,
    CloseResult,
    RefundOrder,
    RefundResult,
)
from paymesh.services.channel.models import SandboxRefund, SandboxRefundState, SandboxState
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.common.errors import InvalidArgument, NotFound

PENDING_REFUND_MARK = "[sandbox:pending]"
CANCEL_REFUND_PREFIX = "cancel:"
_REFUND_ID = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_CANCEL_ATTEMPTS = 5
_STATES = {SandboxRefundState.SUCCESS: ChannelState.CONFIRM_SUCCESS,
           SandboxRefundState.PROCESSING: ChannelState.WAITING,
           SandboxRefundState.FAILED: ChannelState.CONFIRM_FAIL}


class SandboxRefunds:
    """Refunds successful sandbox payments, at most their amount in total, once per refund id."""

    def __init__(self, book: SandboxBook, now: Callable[[], datetime]) -> None:
        self._book = book
        self._now = now

    async def refund(self, refund: RefundOrder) -> RefundResult:
        """Books the refund, or answers as the first time when its id was seen before."""
        _check_refund(refund)
        existing = await self._book.refund(refund.refund_order_id)
        if existing is not None:
            return _repeated(existing, refund)
        payment = await self._book.by_pay_order(refund.pay_order_id)
        if payment is None or payment.state != SandboxState.SUCCESS:
            what = "no payment" if payment is None else f"a {payment.state} payment"
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code="ORDER_NOT_PAID",
                                err_msg=f"the sandbox has {what} for order "
                                        f"{refund.pay_order_id}; only a paid order can be "
                                        "refunded")
        if refund.pay_amount != payment.amount:
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code="PAY_AMOUNT_MISMATCH",
                                err_msg=f"order {refund.pay_order_id} was paid {payment.amount} "
                                        f"fen, not {refund.pay_amount}")
        pending = PENDING_REFUND_MARK in refund.reason
        wanted = self._new(refund.refund_order_id, refund.pay_order_id, refund.refund_amount,
                           refund.reason, SandboxRefundState.PROCESSING if pending
                           else SandboxRefundState.SUCCESS)
        booked = await self._book.book_refund(wanted, self._now())
        if booked is None:
            paid = await self._book.by_pay_order(refund.pay_order_id) or payment
            left = max(paid.amount - paid.refunded_amount, 0)
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code="REFUND_EXCEEDS_PAID",
                                err_msg=f"refunding {refund.refund_amount} fen would exceed the "
                                        f"{paid.amount} fen paid for order "
                                        f"{refund.pay_order_id} ({left} fen left to refund)")
        if booked is not wanted:  # the same refund id, booked by a concurrent call
            return _repeated(booked, refund)
        return _result(booked)

    async def query(self, pay_order_id: str, refund_order_id: str) -> RefundResult:
        """The refund's state; REFUND_NOT_EXIST when this payment has no such refund."""
        refund = await self._book.refund(refund_order_id)
        if refund is None or refund.pay_order_id != pay_order_id:
            return RefundResult(ChannelState.CONFIRM_FAIL, err_code="REFUND_NOT_EXIST",
                                err_msg=f"the sandbox has no refund {refund_order_id} of order "
                                        f"{pay_order_id}")
        return _result(refund)

    async def finish(self, refund_order_id: str, success: bool) -> RefundResult:
        """Ends a PROCESSING refund (an ended one is left as it is) and says where it stands."""
        await self._book.settle_refund(refund_order_id, success, self._now())
        refund = await self._book.refund(refund_order_id)
        if refund is None:
            raise NotFound("SANDBOX_REFUND_NOT_FOUND", f"no sandbox refund {refund_order_id}")
        return _result(refund)

    async def reverse(self, pay_order_id: str) -> CloseResult:
        """Cancels a payment: closes a waiting one, refunds the rest of a successful one."""
        for _ in range(_CANCEL_ATTEMPTS):
            payment = await self._book.by_pay_order(pay_order_id)
            if payment is None:
                return CloseResult(ChannelState.CONFIRM_SUCCESS)
            if payment.state == SandboxState.WAITING:
                await self._book.move(payment.token, [SandboxState.WAITING], SandboxState.CLOSED,
                                      self._now())
                continue  # closed by this call, or paid meanwhile: look again
            if payment.state != SandboxState.SUCCESS:
                return CloseResult(ChannelState.CONFIRM_SUCCESS)
            refund_order_id = CANCEL_REFUND_PREFIX + pay_order_id
            remaining = payment.amount - payment.refunded_amount
            if remaining <= 0 or await self._book.refund(refund_order_id) is not None:
                return CloseResult(ChannelState.CONFIRM_SUCCESS)
            reversal = self._new(refund_order_id, pay_order_id, remaining, "cancel",
                                 SandboxRefundState.SUCCESS)
            if await self._book.book_refund(reversal, self._now()) is not None:
                return CloseResult(ChannelState.CONFIRM_SUCCESS)
            # A refund of the same payment got in first; try again with what remains.
        return CloseResult(ChannelState.UNKNOWN, err_code="SYSTEM_BUSY",
                           err_msg=f"order {pay_order_id} is being refunded; cancel it again")

    def _new(self, refund_order_id: str, pay_order_id: str, amount: int, reason: str,
             state: SandboxRefundState) -> SandboxRefund:
        now = self._now()
        return SandboxRefund(
            refund_order_id=refund_order_id, pay_order_id=pay_order_id, amount=amount,
            state=state.value, reason=reason[:256], created_at=now, updated_at=now,
            channel_refund_no=f"SBR{now:%Y%m%d%H%M%S}{secrets.randbelow(10**8):08d}")


def _check_refund(refund: RefundOrder) -> None:
    if not _REFUND_ID.fullmatch(refund.refund_order_id):
        raise InvalidArgument("refund_order_id", "refund_order_id must have 1 to 64 characters "
                              "among letters, digits and _-|*@")
    if not 0 < len(refund.pay_order_id) <= 64:
        raise InvalidArgument("pay_order_id", "pay_order_id must have 1 to 64 characters")
    if refund.refund_amount < 1:
        raise InvalidArgument("refund_amount", "refund_amount must be at least 1 fen")


def _repeated(booked: SandboxRefund, refund: RefundOrder) -> RefundResult:
    """The answer to a refund id seen before: its first result, unless the request changed."""
    if booked.pay_order_id != refund.pay_order_id or booked.amount != refund.refund_amount:
        return RefundResult(ChannelState.CONFIRM_FAIL, err_code="REFUND_PARAMS_MISMATCH",
                            err_msg=f"refund {refund.refund_order_id} was already requested "
                                    f"for {booked.amount} fen of order {booked.pay_order_id}")
    return _result(booked)


def _result(refund: SandboxRefund) -> RefundResult:
    failed = refund.state == SandboxRefundState.FAILED
    return RefundResult(
        _STATES[SandboxRefundState(refund.state)], channel_refund_no=refund.channel_refund_no,
        refund_amount=refund.amount, err_code="REFUND_FAILED" if failed else "",
        err_msg=f"refund {refund.refund_order_id} failed at the sandbox" if failed else "")
