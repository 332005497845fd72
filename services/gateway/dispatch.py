"""Dispatching an order to its channels: passage by passage until one takes it.

Each attempt points the order at the passage (channel, the channel config's key, the whole fee
model with the merchant and channel fees it gives, daily-limit reservation) by a conditional
update from INIT, calls the channel, and either fails over (unreachable, or refused before it
took the order) or applies the answer. Every attempt is recorded on the order.
"""

from __future__ import annotations

import json

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.db import utc_now
from paymesh.services.common.waycodes import BARCODE_WAY_CODES
from paymesh.services.gateway.channel_calls import ChannelAnswer, ChannelCalls
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import PAY_FAILED, PAY_SUCCEEDED
from paymesh.services.gateway.pay_context import Passage
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository
from paymesh.services.gateway.routing import limit_day

S = channel_pb2.ChannelState
OPEN_STATES = (St.INIT, St.PAYING)


def epoch_seconds(order: PayOrder) -> int:
    return int(order.expire_at.timestamp())


def passage_snapshot(amount: int, passage: Passage) -> dict[str, object]:
    """The pay_order columns that tie an order of ``amount`` fen to ``passage``: its channel,
    its channel config's key, and its fee model with the fees it gives."""
    return {"if_code": passage.if_code, "channel_config_key": passage.channel_config_key or None,
            **passage.fees.order_columns(amount)}


class ChannelDispatch:
    """Takes an INIT order to the first passage that accepts it."""

    def __init__(self, repository: PayOrderRepository, usage: PassageUsage,
                 channels: ChannelCalls, public_url: str) -> None:
        self._orders = repository
        self._usage = usage
        self._channels = channels
        self._public_url = public_url

    async def dispatch(self, order: PayOrder, candidates: list[Passage]) -> PayOrder:
        """Tries the passages in turn until one takes the order; records every attempt."""
        attempts: list[dict[str, str]] = json.loads(order.route_attempts or "[]")
        last_refusal: ChannelAnswer | None = None
        for index, passage in enumerate(candidates):
            day = await self._reserve(order, passage)
            if day is False:
                attempts.append({"ifCode": passage.if_code, "result": "DAILY_LIMIT"})
                continue
            snapshot = passage_snapshot(order.amount, passage)
            if not self._already_pointed(order, attempts, day, snapshot):
                moved = await self._orders.transition(
                    order.pay_order_id, [St.INIT], **snapshot, limit_day=day,
                    route_attempts=json.dumps(attempts))
                if not moved:  # settled meanwhile (a concurrent retry or a callback)
                    return await self._orders.get(order.pay_order_id) or order
            order.if_code = passage.if_code
            answer = await self._call_channel(order, passage.channel_params_json)
            attempts.append({"ifCode": passage.if_code,
                             "result": S.Name(answer.state).removeprefix("CHANNEL_STATE_")})
            more = index + 1 < len(candidates)
            if more and self._may_fail_over(order, answer):
                await self._release(order, passage, day, json.dumps(attempts))
                last_refusal = answer
                continue
            applied = await self._apply_pay_answer(order, answer, passage, day,
                                                   json.dumps(attempts))
            if applied is None:  # a callback, a close or a retry moved the order first
                return await self._orders.get(order.pay_order_id) or order
            for column, value in {**snapshot, "limit_day": day, **applied}.items():
                setattr(order, column, value)
            return order
        # Every passage was at its daily limit (or refused): the order cannot be served.
        refusal = last_refusal or ChannelAnswer(
            S.CHANNEL_STATE_CONFIRM_FAIL, err_code="PASSAGE_DAILY_LIMIT",
            err_msg="every pay passage for this wayCode has reached its daily limit")
        await self._orders.transition(order.pay_order_id, [St.INIT], state=St.FAIL,
                                      event=PAY_FAILED, err_code=refusal.err_code,
                                      err_msg=refusal.err_msg[:256],
                                      route_attempts=json.dumps(attempts))
        return await self._orders.get(order.pay_order_id) or order

    @staticmethod
    def _already_pointed(order: PayOrder, attempts: list[dict[str, str]], day: str | None,
                         snapshot: dict[str, object]) -> bool:
        """True when the stored order already points at the passage: its first attempt, no
        daily limit reserved, and the snapshot the insert wrote is this passage's. The update
        that would point it is then a no-op; the answer's update checks the state anyway."""
        return (not attempts and day is None and order.limit_day is None
                and all(getattr(order, column) == value for column, value in snapshot.items()))

    @staticmethod
    def _may_fail_over(order: PayOrder, answer: ChannelAnswer) -> bool:
        """Unreachable, or refused before it took the order (a payer's decline is final)."""
        if answer.state == S.CHANNEL_STATE_SYS_ERROR:
            return True
        return (answer.state == S.CHANNEL_STATE_CONFIRM_FAIL
                and order.way_code not in BARCODE_WAY_CODES)

    async def _reserve(self, order: PayOrder, passage: Passage) -> str | None | bool:
        """The day reserved against the passage's daily limit, None without a limit, or False."""
        if passage.daily_limit <= 0:
            return None
        day = limit_day()
        key = (order.app_id, order.way_code, passage.if_code)
        if await self._usage.reserve(key, day, order.amount, passage.daily_limit):
            return day
        return False

    async def _release(self, order: PayOrder, passage: Passage, day: str | None,
                       route_attempts: str) -> None:
        """Records a refused attempt, giving back its reservation once (a conditional update)."""
        moved = await self._orders.transition(order.pay_order_id, [St.INIT], limit_day=None,
                                              route_attempts=route_attempts)
        if moved and day is not None:
            await self._usage.release((order.app_id, order.way_code, passage.if_code), day,
                                      order.amount)

    async def _call_channel(self, order: PayOrder, params_json: str) -> ChannelAnswer:
        request = channel_pb2.PayRequest(
            if_code=order.if_code, channel_params_json=params_json,
            notify_url=f"{self._public_url}/api/pay/notify/{order.if_code}/{order.pay_order_id}",
            order=channel_pb2.PaymentOrder(
                pay_order_id=order.pay_order_id, way_code=order.way_code, amount=order.amount,
                currency=order.currency, subject=order.subject, body=order.body,
                client_ip=order.client_ip or "",
                expire_at=epoch_seconds(order),
                channel_extra=order.channel_extra or ""))
        return await self._channels.pay(request)

    async def _apply_pay_answer(self, order: PayOrder, answer: ChannelAnswer, passage: Passage,
                                day: str | None, route_attempts: str) -> dict[str, object] | None:
        """Moves the order by the channel's answer; the columns written, or None when the order
        had already moved on and nothing was written."""
        changes: dict[str, object] = {"err_code": answer.err_code or None,
                                      "err_msg": answer.err_msg[:256] or None,
                                      "route_attempts": route_attempts}
        if answer.channel_order_no:
            changes["channel_order_no"] = answer.channel_order_no
        allowed: tuple[int, ...] = (St.INIT,)
        event = None
        if answer.state in (S.CHANNEL_STATE_WAITING, S.CHANNEL_STATE_UNKNOWN):
            changes.update(state=St.PAYING, pay_data_type=answer.pay_data_type or None,
                           pay_data=answer.pay_data or None)
        elif answer.state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
            allowed, event = OPEN_STATES, PAY_SUCCEEDED
            changes.update(state=St.SUCCESS, pay_data_type=answer.pay_data_type or "none",
                           success_at=utc_now())
        elif answer.state == S.CHANNEL_STATE_CONFIRM_FAIL:
            allowed, event = OPEN_STATES, PAY_FAILED
            changes.update(state=St.FAIL, limit_day=None)
        # else SYS_ERROR: nothing happened at the channel; the order stays INIT.
        if not await self._orders.transition(order.pay_order_id, allowed, event=event,
                                             **changes):
            return None
        if answer.state == S.CHANNEL_STATE_CONFIRM_FAIL and day is not None:
            await self._usage.release((order.app_id, order.way_code, passage.if_code), day,
                                      order.amount)
        return changes

