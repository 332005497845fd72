"""Refunds through the merchant API: refundOrder and query (退款).

Rules, in order: the pay order exists and is paid; the currency is the order's; no other refund
of the order is in flight; the amount fits in what is left. The last two hold under any
concurrency because the amount is reserved on the pay order by one guarded UPDATE together with
storing the refund (see refund_repository). A repeated mchRefundNo with the same parameters
answers with the existing refund; with different ones it is refused.

Then, before the channel is asked, the merchant's money for the refund is held in the ledger
(refund_holds). A merchant whose funds cannot cover it is refused ("insufficient balance for
this refund", 9999) and a ledger that cannot be reached refuses it as a system error (10, try
again); either way the refund is undone (reservation and row, see ``RefundRepository.abandon``),
so the same mchRefundNo may be asked again.

A refund stored but still INIT when its mchRefundNo is asked again (its first request died
between storing it and the channel's answer, or is still at work) is *resumed*, as a unified
order left INIT is: taken over (``RefundRepository.take_over``, after which the first request can
no longer undo it), its money held (a replay when it is held already: the hold's posting id is the
refund's) and the channel asked (idempotent on the refund id). A refusal of the hold undoes it as
above; an unreachable ledger leaves it INIT, answered as a system error (try again). The refund
sweep resumes the refunds nobody asks about again (``Refunds.drive``) once they are a minute old.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.db import utc_now
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.gateway.channel_calls import ChannelCalls, RefundAnswer
from paymesh.services.gateway.models import PayOrder, RefundOrder
from paymesh.services.gateway.models import PayOrderState as Pay
from paymesh.services.gateway.models import RefundState as St
from paymesh.services.gateway.orders import epoch_ms
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.protocol import CODE_SYSTEM_ERROR, ApiError, business_error
from paymesh.services.gateway.refund_holds import HoldRefused, LedgerUnavailable, RefundHolds
from paymesh.services.gateway.refund_repository import REFUND_ABANDONED, RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository
from paymesh.services.gateway.validation import (
    Params,
    RefundFields,
    check_notify_target,
    refund_fields,
    refund_reference,
)

log = logging.getLogger(__name__)
S = channel_pb2.ChannelState
REFUND_EXPIRY = timedelta(hours=2)
OPEN = (St.INIT, St.PAYING)


def refund_data(refund: RefundOrder) -> dict[str, object]:
    """The refund query's data, also the body of the refund notification (§4.5)."""
    return {
        "refundOrderId": refund.refund_order_id, "payOrderId": refund.pay_order_id,
        "mchNo": refund.mch_no, "appId": refund.app_id, "mchRefundNo": refund.mch_refund_no,
        "payAmount": refund.pay_amount, "refundAmount": refund.refund_amount,
        "currency": refund.currency, "state": refund.state,
        "channelOrderNo": refund.channel_order_no, "errCode": refund.err_code,
        "errMsg": refund.err_msg, "extParam": refund.ext_param,
        "successTime": epoch_ms(refund.success_at), "createdAt": epoch_ms(refund.created_at),
    }


def refund_query_request(refund: RefundOrder, params_json: str
                         ) -> channel_pb2.QueryRefundRequest:
    """How a refund is asked about at its channel (by a merchant's query or the sweep)."""
    return channel_pb2.QueryRefundRequest(
        if_code=refund.if_code, channel_params_json=params_json,
        pay_order_id=refund.pay_order_id, refund_order_id=refund.refund_order_id,
        channel_refund_no=refund.channel_refund_no or "",
        channel_order_no=refund.channel_order_no or "")


class Refunds:
    """The refund side of the merchant API."""

    def __init__(self, refunds: RefundRepository, orders: PayOrderRepository,
                 channels: ChannelCalls, public_url: str, ids: SnowflakeIds | None = None,
                 holds: RefundHolds | None = None) -> None:
        self._refunds = refunds
        self._orders = orders
        self._channels = channels
        self._public_url = public_url
        self._ids = ids or SnowflakeIds()
        self._holds = holds  # None: no ledger hold (unit tests of the refund rules alone)

    async def refund_order(self, params: Params, context: PayContext,
                           source_ip: str | None) -> dict[str, object]:
        fields = refund_fields(params)
        check_notify_target(fields.notify_url, context.allow_private_notify_url)
        pay = await self._orders.find(context.mch_no, pay_order_id=fields.pay_order_id,
                                      mch_order_no=fields.mch_order_no)
        if pay is None:
            raise business_error(f"order {fields.pay_order_id or fields.mch_order_no} not found")
        existing = await self._same_refund(context.mch_no, fields, pay)
        if existing is None:
            self._check(pay, fields)
            refund = self._new_refund(fields, pay, source_ip)
            if not await self._refunds.open_refund(refund):
                existing = await self._same_refund(context.mch_no, fields, pay)
                if existing is None:
                    fresh = await self._orders.get(pay.pay_order_id) or pay
                    self._check(fresh, fields)
                    raise business_error(f"another refund of order {pay.pay_order_id} is in "
                                         "progress; query it and try again")
            else:
                await self._hold(refund, resumed=False)
                await self._call_channel(refund, _channel_params(context, refund))
                existing = await self._refunds.get(refund.refund_order_id) or refund
        if existing.state == St.INIT:  # stored by a request that died, or is still at work
            existing = await self._resume(existing, context)
        return {"refundOrderId": existing.refund_order_id, "mchRefundNo": existing.mch_refund_no,
                "payAmount": existing.pay_amount, "refundAmount": existing.refund_amount,
                "state": existing.state, "channelOrderNo": existing.channel_order_no,
                "errCode": existing.err_code, "errMsg": existing.err_msg}

    async def query(self, params: Params, context: PayContext) -> dict[str, object]:
        refund_order_id, mch_refund_no = refund_reference(params)
        refund = await self._refunds.find(context.mch_no, refund_order_id=refund_order_id,
                                          mch_refund_no=mch_refund_no)
        if refund is None:
            raise business_error(f"refund {refund_order_id or mch_refund_no} not found")
        if refund.state == St.PAYING:  # the channel may know more by now: ask it
            answer = await self._channels.query_refund(refund_query_request(
                refund, _channel_params(context, refund)))
            await settle_from_channel(self._refunds, refund, answer, from_query=True)
            refund = await self._refunds.get(refund.refund_order_id) or refund
        return refund_data(refund)

    @staticmethod
    def _check(pay: PayOrder, fields: RefundFields) -> None:
        """The refusals a merchant can act on, each naming its reason."""
        if pay.state == Pay.REFUND:
            raise business_error(f"order {pay.pay_order_id} is already fully refunded")
        if pay.state != Pay.SUCCESS:
            raise business_error(f"order {pay.pay_order_id} is not paid (state {pay.state}); "
                                 "only paid orders can be refunded")
        if fields.currency != pay.currency:
            raise business_error(f"currency must be the order's ({pay.currency}), "
                                 f"got {fields.currency!r}")
        if pay.refund_in_flight:
            raise business_error(f"refund {pay.refund_in_flight} of order {pay.pay_order_id} is "
                                 "still in progress; one refund at a time")
        left = pay.amount - pay.refunded_amount - pay.refund_reserved
        if fields.refund_amount > left:
            raise business_error(f"refundAmount {fields.refund_amount} is more than the "
                                 f"{left} fen left to refund on order {pay.pay_order_id}")

    async def _same_refund(self, mch_no: str, fields: RefundFields,
                           pay: PayOrder) -> RefundOrder | None:
        refund = await self._refunds.find(mch_no, mch_refund_no=fields.mch_refund_no)
        if refund is None:
            return None
        if (refund.pay_order_id, refund.refund_amount, refund.currency) != (
                pay.pay_order_id, fields.refund_amount, fields.currency):
            raise business_error(f"mchRefundNo {fields.mch_refund_no} was already used for "
                                 "another refund; use a new mchRefundNo")
        return refund

    def _new_refund(self, fields: RefundFields, pay: PayOrder,
                    source_ip: str | None) -> RefundOrder:
        now = utc_now()
        return RefundOrder(
            refund_order_id=f"R{self._ids.next()}", pay_order_id=pay.pay_order_id,
            mch_no=pay.mch_no, app_id=pay.app_id, mch_refund_no=fields.mch_refund_no,
            if_code=pay.if_code, channel_config_key=pay.channel_config_key,
            pay_amount=pay.amount, refund_amount=fields.refund_amount,
            currency=pay.currency, state=St.INIT, reason=fields.reason,
            client_ip=fields.client_ip or source_ip, notify_url=fields.notify_url,
            channel_extra=fields.channel_extra, ext_param=fields.ext_param,
            channel_order_no=pay.channel_order_no, expire_at=now + REFUND_EXPIRY,
            created_at=now, updated_at=now)

    async def drive(self, refund: RefundOrder, params_json: str) -> bool:
        """The refund sweep's resumption of a refund left INIT that nobody asked about again
        (see the module docs): True when this call ended it.

        A refused hold fails the refund (its reservation given back; the merchant has seen it,
        so it is not deleted); an unreachable ledger leaves it INIT for the next sweep.
        """
        taken = await self._refunds.take_over(refund)
        if taken is None:  # moved on meanwhile
            return False
        try:
            await self._place_hold(taken)
        except HoldRefused as refused:
            return await self._refunds.settle(
                taken, [St.INIT], False, err_code=f"HOLD_{refused.reason}"[:64],
                err_msg=f"the merchant's balance cannot pay this refund ({refused.reason})")
        except LedgerUnavailable as unavailable:
            log.warning("refund %s not resumed, the ledger is unavailable: %s",
                        refund.refund_order_id, unavailable)
            return False
        return await self._call_channel(taken, params_json)

    async def _resume(self, refund: RefundOrder, context: PayContext) -> RefundOrder:
        """Takes a refund left INIT on for the merchant asking about it again."""
        taken = await self._refunds.take_over(refund)
        if taken is None:
            current = await self._refunds.get(refund.refund_order_id)
            if current is None:  # undone meanwhile by the request that stored it
                raise ApiError(CODE_SYSTEM_ERROR, f"system error: refund {refund.mch_refund_no} "
                                                  "was not made; try again")
            return current
        await self._hold(taken, resumed=True)
        await self._call_channel(taken, _channel_params(context, taken))
        return await self._refunds.get(taken.refund_order_id) or taken

    async def _hold(self, refund: RefundOrder, *, resumed: bool) -> None:
        """Holds the refund's money in the ledger, or refuses the refund: undone when the
        ledger refused, and when it could not be reached unless ``resumed`` (the first
        request may have got further: the refund stays INIT)."""
        try:
            await self._place_hold(refund)
        except HoldRefused as refused:
            await self._undo(refund, None)
            if refused.reason == "INSUFFICIENT_FUNDS":
                raise business_error("insufficient balance for this refund") from None
            raise business_error(f"the merchant's balance cannot pay this refund now "
                                 f"({refused.reason})") from None
        except LedgerUnavailable as unavailable:
            log.warning("refund %s not held, the ledger is unavailable: %s",
                        refund.refund_order_id, unavailable)
            if resumed:
                raise ApiError(CODE_SYSTEM_ERROR, "system error: the merchant's balance cannot "
                                                  "be checked now; the refund is not made yet, "
                                                  "try again later") from None
            await self._undo(refund, REFUND_ABANDONED)
            raise ApiError(CODE_SYSTEM_ERROR, "system error: the merchant's balance cannot be "
                                              "checked now; nothing was refunded, try again "
                                              "later") from None

    async def _place_hold(self, refund: RefundOrder) -> None:
        """Posts (or replays) the refund's hold; HoldRefused or LedgerUnavailable."""
        if self._holds is None:
            return
        order = await self._orders.get(refund.pay_order_id)  # as reserved, under the reservation
        assert order is not None
        earlier = await self._refunds.succeeded_in_order(refund.pay_order_id)
        await self._holds.hold(order, refund, [r.refund_amount for r in earlier])

    async def _undo(self, refund: RefundOrder, event: str | None) -> None:
        if not await self._refunds.abandon(refund, event=event):
            log.error("refund %s could not be undone after its hold failed (moved on, or taken "
                      "over by a retry or the refund sweep, which drive it on)",
                      refund.refund_order_id)

    async def _call_channel(self, refund: RefundOrder, params_json: str) -> bool:
        """Asks the channel to refund (idempotent on the refund id) and applies its answer;
        True when that ended the refund."""
        answer = await self._channels.refund(channel_pb2.RefundRequest(
            if_code=refund.if_code,
            channel_params_json=params_json,
            pay_order_id=refund.pay_order_id, channel_order_no=refund.channel_order_no or "",
            refund_order_id=refund.refund_order_id, pay_amount=refund.pay_amount,
            refund_amount=refund.refund_amount, currency=refund.currency,
            reason=refund.reason[:80],
            notify_url=f"{self._public_url}/api/refund/notify/{refund.if_code}/"
                       f"{refund.refund_order_id}"))
        return await settle_from_channel(self._refunds, refund, answer, from_query=False)


def _channel_params(context: PayContext, refund: RefundOrder) -> str:
    return context.channel_params(refund.if_code) or "{}"


async def settle_from_channel(refunds: RefundRepository, refund: RefundOrder,
                              answer: RefundAnswer, *, from_query: bool) -> bool:
    """Applies what the channel said about a refund: the one place a refund's answer is taken.

    Used for the answer to the refund request, for a merchant's query and by the refund sweep,
    so a refund settles the same way whoever asked. True when this call ended the refund.
    """
    details = {"err_code": answer.err_code or None, "err_msg": answer.err_msg[:256] or None}
    if answer.channel_refund_no:
        details["channel_refund_no"] = answer.channel_refund_no
    if answer.state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
        return await refunds.settle(refund, OPEN, True, success_at=utc_now(), **details)
    if answer.state == S.CHANNEL_STATE_CONFIRM_FAIL:
        return await refunds.settle(refund, OPEN, False, **details)
    if answer.state == S.CHANNEL_STATE_SYS_ERROR and not from_query:
        # Not reached: nothing happened at the channel; free the order for another try.
        return await refunds.settle(refund, [St.INIT], False, **details)
    if not from_query:  # waiting, or unknown: settled later by a query
        await refunds.update(refund.refund_order_id, [St.INIT], state=St.PAYING, **details)
    return False
