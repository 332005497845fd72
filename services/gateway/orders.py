"""Pay orders through the merchant API: unified order, query and close.

An order is stored before the channel is called, moves only by conditional updates from allowed
states, and a repeated mchOrderNo with the same parameters answers with the existing order (an
order stuck in INIT after a crash is driven to the channel again, which is idempotent on the id).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.db import utc_now
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.gateway.cashier import CASHIER
from paymesh.services.gateway.cashier_links import CashierLinks
from paymesh.services.gateway.channel_calls import ChannelCalls
from paymesh.services.gateway.dispatch import ChannelDispatch, passage_snapshot
from paymesh.services.gateway.fees import FeeModel
from paymesh.services.gateway.models import PayOrder, PayOrderState
from paymesh.services.gateway.pay_context import Passage, PayContext
from paymesh.services.gateway.protocol import business_error
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository
from paymesh.services.gateway.routing import passages_to_try
from paymesh.services.gateway.validation import (
    DEFAULT_EXPIRY_SECONDS,
    Params,
    UnifiedOrderFields,
    check_notify_target,
    order_reference,
    unified_order_fields,
)

log = logging.getLogger(__name__)
S = channel_pb2.ChannelState
St = PayOrderState
OPEN_STATES = (St.INIT, St.PAYING)
# A channel's CONFIRM_FAIL about a payment it closed, or reversed (撤销), unpaid — by the
# adapters' err_code (sandbox and Stripe ORDER_CLOSED, WeChat Pay CLOSED and REVOKED, Alipay
# TRADE_CLOSED): the order ends closed (6) or cancelled (4) as JeePay defines them, not failed.
CLOSED_AT_CHANNEL = frozenset({"ORDER_CLOSED", "CLOSED", "TRADE_CLOSED"})
REVERSED_AT_CHANNEL = frozenset({"REVOKED"})
# Fields that must match when a mchOrderNo is used again: (request field, column).
_SAME_ORDER_FIELDS = (
    ("appId", "app_id"), ("wayCode", "way_code"), ("amount", "amount"),
    ("currency", "currency"), ("subject", "subject"), ("body", "body"),
    ("notifyUrl", "notify_url"), ("returnUrl", "return_url"),
    ("expiredTime", "expired_seconds"), ("channelExtra", "channel_extra"),
    ("divisionMode", "division_mode"), ("extParam", "ext_param"),
)


def epoch_ms(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int(moment.timestamp() * 1000)


def query_data(order: PayOrder) -> dict[str, object]:
    """The query answer's data, also the body of the pay notification (§4.2)."""
    return {
        "payOrderId": order.pay_order_id, "mchNo": order.mch_no, "appId": order.app_id,
        "mchOrderNo": order.mch_order_no, "ifCode": order.if_code, "wayCode": order.way_code,
        "amount": order.amount, "currency": order.currency, "state": order.state,
        "clientIp": order.client_ip, "subject": order.subject, "body": order.body,
        "channelOrderNo": order.channel_order_no, "errCode": order.err_code,
        "errMsg": order.err_msg, "extParam": order.ext_param,
        "successTime": epoch_ms(order.success_at), "createdAt": epoch_ms(order.created_at),
    }


def unpaid_end_state(err_code: str) -> int:
    """The state an order ends in when its channel says the payment did not happen
    (CONFIRM_FAIL, in a query's answer or a callback), by the channel's ``err_code``: CLOSED
    when the channel closed it (a close whose answer was lost, or the channel's own expiry),
    CANCEL when it was reversed, else FAIL."""
    if err_code in CLOSED_AT_CHANNEL:
        return St.CLOSED
    if err_code in REVERSED_AT_CHANNEL:
        return St.CANCEL
    return St.FAIL


class PayOrders:
    """The pay-order side of the merchant API."""

    def __init__(self, repository: PayOrderRepository, usage: PassageUsage, channels: ChannelCalls,
                 dispatch: ChannelDispatch, links: CashierLinks,
                 ids: SnowflakeIds | None = None, rng: random.Random | None = None) -> None:
        self._links = links
        self._orders = repository
        self._usage = usage
        self._channels = channels
        self._dispatch = dispatch
        self._ids = ids or SnowflakeIds()
        self._rng = rng or random.Random()

    async def unified_order(self, params: Params, context: PayContext,
                            source_ip: str | None) -> dict[str, object]:
        fields = unified_order_fields(params)
        check_notify_target(fields.notify_url, context.allow_private_notify_url)
        if fields.way_code == CASHIER:
            return self._unified_data(await self._store(fields, context, params, None,
                                                        source_ip))
        configured = context.passages.get(fields.way_code, [])
        candidates = passages_to_try(configured, fields.amount, self._rng)
        if not candidates:
            if any(p.usable for p in configured):
                raise business_error(f"amount {fields.amount} is above the per-order limit of "
                                     f"every pay passage for wayCode {fields.way_code}")
            raise business_error(f"no pay passage is enabled for wayCode {fields.way_code} on "
                                 f"app {context.app_id}")
        order = await self._store(fields, context, params, candidates[0], source_ip)
        if order.state == St.INIT:
            order = await self._dispatch.dispatch(order, candidates)
        return self._unified_data(order)

    async def _store(self, fields: UnifiedOrderFields, context: PayContext, params: Params,
                     passage: Passage | None, source_ip: str | None) -> PayOrder:
        """The new order, or the existing one with the same mchOrderNo and parameters."""
        for _ in range(2):  # a second try only after an id clash
            order = self._new_order(fields, context, passage, source_ip)
            if await self._orders.insert(order):
                return order
            existing = await self._existing(context.mch_no, fields, params)
            if existing is not None:
                return existing
        raise business_error("the order could not be stored; retry the request")

    async def _existing(self, mch_no: str, fields: UnifiedOrderFields,
                        params: Params) -> PayOrder | None:
        order = await self._orders.find(mch_no, mch_order_no=fields.mch_order_no)
        if order is None:
            return None
        requested = {"appId": params.get("appId"), **_as_columns(fields)}
        for name, column in _SAME_ORDER_FIELDS:
            if requested[name] != getattr(order, column):
                raise business_error(f"mchOrderNo {fields.mch_order_no} was already used for "
                                     f"another order ({name} differs); use a new mchOrderNo")
        return order

    def _new_order(self, fields: UnifiedOrderFields, context: PayContext,
                   passage: Passage | None, source_ip: str | None) -> PayOrder:
        """A new INIT order, snapshotting the passage to try first (the cashier has none yet:
        no channel and no fee until the payer's wallet picks a passage)."""
        now = utc_now()
        lifetime = fields.expired_seconds or DEFAULT_EXPIRY_SECONDS
        snapshot = (passage_snapshot(fields.amount, passage) if passage is not None else
                    {"if_code": "", **FeeModel("0").order_columns(fields.amount)})
        order = PayOrder(
            pay_order_id=f"P{self._ids.next()}", mch_no=context.mch_no, app_id=context.app_id,
            mch_order_no=fields.mch_order_no, way_code=fields.way_code,
            amount=fields.amount, currency=fields.currency, state=St.INIT,
            client_ip=fields.client_ip or source_ip, subject=fields.subject, body=fields.body,
            notify_url=fields.notify_url, return_url=fields.return_url,
            channel_extra=fields.channel_extra, ext_param=fields.ext_param,
            division_mode=fields.division_mode, expired_seconds=fields.expired_seconds,
            expire_at=now + timedelta(seconds=lifetime), late_success=False,
            created_at=now, updated_at=now, **snapshot)
        if fields.way_code == CASHIER:  # no channel yet: the payer's wallet decides
            order.pay_data = self._links.url(order.pay_order_id, int(order.expire_at.timestamp()))
            order.pay_data_type = ("codeUrl" if '"codeUrl"' in (fields.channel_extra or "")
                                   else "payurl")
        return order

    @staticmethod
    def _unified_data(order: PayOrder) -> dict[str, object]:
        data: dict[str, object] = {
            "payOrderId": order.pay_order_id, "mchOrderNo": order.mch_order_no,
            "orderState": order.state, "errCode": order.err_code, "errMsg": order.err_msg}
        if order.state in (St.INIT, St.PAYING, St.SUCCESS) and order.pay_data_type:
            data["payDataType"] = order.pay_data_type
            data["payData"] = order.pay_data
        return data

    async def query(self, params: Params, context: PayContext) -> dict[str, object]:
        order = await self._find(params, context)
        return query_data(order)

    async def close(self, params: Params, context: PayContext) -> dict[str, object]:
        order = await self._find(params, context)
        if order.state == St.INIT and await self._mark_closed(order, [St.INIT]):
            return {}
        if order.state in OPEN_STATES:
            params_json = context.channel_params(order.if_code) or "{}"
            answer = await self._channels.close(order.if_code, params_json, order.pay_order_id,
                                                order.channel_order_no or "")
            if answer.state != S.CHANNEL_STATE_CONFIRM_SUCCESS:
                raise business_error(f"the channel did not close order {order.pay_order_id}: "
                                     f"{answer.err_msg or answer.err_code or 'no reason given'}")
            if await self._mark_closed(order, OPEN_STATES):
                return {}
            order = await self._orders.get(order.pay_order_id) or order
        raise business_error(f"order {order.pay_order_id} is {St.NAMES[order.state]} "
                             f"(state {order.state}); only created or paying orders can be "
                             "closed")

    async def _mark_closed(self, order: PayOrder, allowed_from: tuple[int, ...] | list[int]
                           ) -> bool:
        """Closes the order once, giving back its daily-limit reservation."""
        if not await self._orders.transition(order.pay_order_id, allowed_from, state=St.CLOSED,
                                             limit_day=None):
            return False
        if order.limit_day:
            await self._usage.release((order.app_id, order.way_code, order.if_code),
                                      order.limit_day, order.amount)
        return True

    async def _find(self, params: Params, context: PayContext) -> PayOrder:
        pay_order_id, mch_order_no = order_reference(params)
        order = await self._orders.find(context.mch_no, pay_order_id=pay_order_id,
                                        mch_order_no=mch_order_no)
        if order is None:
            raise business_error(f"order {pay_order_id or mch_order_no} not found")
        return order


def _as_columns(fields: UnifiedOrderFields) -> dict[str, object]:
    return {"wayCode": fields.way_code, "amount": fields.amount, "currency": fields.currency,
            "subject": fields.subject, "body": fields.body, "notifyUrl": fields.notify_url,
            "returnUrl": fields.return_url, "expiredTime": fields.expired_seconds,
            "channelExtra": fields.channel_extra, "divisionMode": fields.division_mode,
            "extParam": fields.ext_param}
