"""Channel callbacks: verified by the channel service, cross-checked, applied once.

A callback is applied only when the channel service verifies its signature and it names this
order with this order's amount and currency. Applying it is a conditional update, so the same
callback delivered ten times (or concurrently) moves the order once. A success that arrives for a
closed or failed order is kept: the channel's transaction id is recorded and the order is flagged
for refund, never silently dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import grpc

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common import spanattrs
from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import NotFound, reason_of
from paymesh.services.common.telemetry import order_span
from paymesh.services.gateway.channel_calls import ChannelCalls
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.orders import unpaid_end_state
from paymesh.services.gateway.outbox import PAY_FAILED, PAY_SUCCEEDED
from paymesh.services.gateway.pay_context import PayContextCache
from paymesh.services.gateway.repository import PayOrderRepository

log = logging.getLogger(__name__)
S = channel_pb2.ChannelState


@dataclass(frozen=True)
class Reply:
    """The HTTP answer the channel expects."""

    status: int
    content_type: str
    body: bytes


def _reply(ack: channel_pb2.AckReply, default_status: int, default_body: bytes) -> Reply:
    return Reply(ack.status or default_status, ack.content_type or "text/plain",
                 ack.body if ack.status else default_body)


class CallbackIntake:
    """Takes a channel's pay notification for one order."""

    def __init__(self, repository: PayOrderRepository, contexts: PayContextCache,
                 channels: ChannelCalls) -> None:
        self._orders = repository
        self._contexts = contexts
        self._channels = channels

    async def pay_notify(self, if_code: str, pay_order_id: str, headers: Iterable[tuple[str, str]],
                         content_type: str, body: bytes) -> Reply:
        order = await self._orders.get(pay_order_id)
        if order is None or order.if_code != if_code:
            raise NotFound("ORDER_NOT_FOUND", f"no {if_code} order {pay_order_id}")
        # Handled in the payment's own trace, linked from this request's (see telemetry).
        with order_span(f"callback {if_code}", order.trace_context, spanattrs.of_order(order)):
            return await self._pay_notify(order, if_code, headers, content_type, body)

    async def _pay_notify(self, order: PayOrder, if_code: str,
                          headers: Iterable[tuple[str, str]], content_type: str,
                          body: bytes) -> Reply:
        pay_order_id = order.pay_order_id
        context = await self._contexts.get(order.app_id)
        params = context.channel_params(if_code) if context else None
        if params is None:
            raise NotFound("CHANNEL_CONFIG_NOT_FOUND",
                           f"app {order.app_id} has no {if_code} configuration")
        verdict = await self._channels.verify_callback(channel_pb2.VerifyCallbackRequest(
            if_code=if_code, channel_params_json=params, body=body, content_type=content_type,
            headers=[channel_pb2.HttpHeader(name=k, value=v) for k, v in headers]))
        retry = _reply(verdict.ack_retry, 400, b"fail")
        if not verdict.verified:
            log.warning("callback for %s refused: %s", pay_order_id, verdict.reject_reason)
            return retry
        mismatch = _mismatch(order.pay_order_id, order.amount, order.currency, verdict)
        if mismatch:
            log.warning("callback for %s refused: %s", pay_order_id, mismatch)
            return retry
        if verdict.kind == channel_pb2.CALLBACK_KIND_REFUND:
            # Refund outcomes are taken from the refund flow; until it asks, have it retried.
            log.info("refund callback for %s left for the channel to retry", pay_order_id)
            return retry
        await self._apply(order.pay_order_id, verdict)
        return _reply(verdict.ack_ok, 200, b"success")

    async def account_notify(self, if_code: str, headers: Iterable[tuple[str, str]],
                             content_type: str, body: bytes) -> Reply:
        """A callback sent to one URL per channel account: find its order, then as above."""
        headers = list(headers)
        try:
            identity = await self._channels.identify_callback(
                channel_pb2.IdentifyCallbackRequest(
                    if_code=if_code, body=body, content_type=content_type,
                    headers=[channel_pb2.HttpHeader(name=k, value=v) for k, v in headers]))
        except grpc.aio.AioRpcError as error:
            reason = reason_of(error)
            if reason is None or error.code() in _TRANSIENT:
                raise  # the channel service is down or broke: the channel will retry
            # The channel refused to read it (unknown channel, not its callback format).
            raise NotFound(reason, f"the {if_code} callback was refused: "
                                   f"{error.details()}") from None
        if not identity.pay_order_id:
            raise NotFound("ORDER_NOT_FOUND", f"the {if_code} callback names no order")
        return await self.pay_notify(if_code, identity.pay_order_id, headers, content_type, body)

    async def _apply(self, pay_order_id: str, verdict: channel_pb2.VerifyCallbackResponse
                     ) -> None:
        channel_no = verdict.channel_order_no or None
        if verdict.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
            moved = await self._orders.transition(
                pay_order_id, [St.INIT, St.PAYING], state=St.SUCCESS, success_at=utc_now(),
                event=PAY_SUCCEEDED,
                channel_order_no=channel_no, err_code=None, err_msg=None)
            if not moved and await self._orders.transition(
                    pay_order_id, [St.CLOSED, St.FAIL, St.CANCEL], late_success=True,
                    channel_order_no=channel_no):
                log.warning("late success for %s: kept and flagged for refund", pay_order_id)
        elif verdict.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL:
            # As the sweep does: closed at the channel is CLOSED, reversed is CANCEL, and only
            # a payment that failed is FAIL (with its pay.failed event).
            state = unpaid_end_state(verdict.err_code)
            await self._orders.transition(
                pay_order_id, [St.INIT, St.PAYING], state=state,
                event=PAY_FAILED if state == St.FAIL else None,
                err_code=verdict.err_code or None, err_msg=verdict.err_msg[:256] or None)


_TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
              grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)


def _mismatch(pay_order_id: str, amount: int, currency: str,
              verdict: channel_pb2.VerifyCallbackResponse) -> str | None:
    if verdict.pay_order_id != pay_order_id:
        return f"it names order {verdict.pay_order_id!r}"
    if verdict.amount != amount:
        return f"amount {verdict.amount} differs from the order's {amount}"
    if verdict.currency and verdict.currency.lower() != currency:
        return f"currency {verdict.currency} differs from the order's {currency}"
    return None
