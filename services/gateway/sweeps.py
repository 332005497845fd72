"""Order sweeps: the periodic work that settles what no callback settled.

Callbacks get lost, payers walk away from barcode terminals and refunds stay pending at the
channel, so the jobs process asks the gateway every few seconds to:

- query orders still paying (barcode orders from 5 s after creation, others after a while) and
  take the channel's verdict: a payment the channel closed unpaid (a merchant's close whose
  answer was lost, or the channel's own expiry) ends CLOSED (6), one it reversed CANCEL (4), and
  only one that failed FAIL (3); a barcode order still unpaid 30 s after creation is reversed at
  the channel (撤销) and becomes CANCEL (4), the state JeePay defines but never sets. An order
  that stays paying (still waiting, unknown, or the query failed) is asked again after a backoff
  of its own (``query_backoff``, kept on the order as ``next_query_at`` and ``query_count``): a
  barcode order every 5 s (every run by default) until it is paid or reversed, any other after
  1, 2, 4 and 8 paying ages (PAYMESH_JOBS_PAYING_AGE: 1, 2, 4 and 8 min by default), then every
  10. Each run takes the due orders most overdue first, so a backlog larger than the batch is
  worked through and a lost callback found within minutes, instead of its oldest part being
  asked on every run while the rest wait, unasked, for the expiry sweep;
- expire orders past their expiry: asked at the channel first, closed there, and closed here only
  when the channel confirms — an order the channel reports paid is never closed (JeePay defect 5);
- query refunds still pending and settle them the way the refund flow does; a refund the channel
  never took is closed 2 h after creation, giving its reservation back, but one the channel still
  reports pending stays open (it may yet be paid out) and is asked again on every run;
- resume refunds stored but left INIT for a while (``stuck_after``, a minute by default): their
  request died between storing them and the channel's answer. Each is taken on as a merchant's
  retry would (``Refunds.drive``: its money held, a replay when held already, and the channel
  asked, idempotent on the refund id) instead of waiting for the 2 h close.

The orders are read as a snapshot; every change is a conditional transition from the state they
were read in, so a callback or a merchant's close that gets in first wins and the sweep changes
nothing. No gRPC here: the servicer translates.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common import spanattrs
from paymesh.services.common.db import utc_now
from paymesh.services.common.telemetry import order_span
from paymesh.services.common.waycodes import BARCODE_WAY_CODES
from paymesh.services.gateway.channel_calls import ChannelAnswer, ChannelCalls, RefundAnswer
from paymesh.services.gateway.models import PayOrder, RefundOrder, RefundState
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.orders import unpaid_end_state
from paymesh.services.gateway.outbox import PAY_FAILED, PAY_SUCCEEDED
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.refunds import refund_query_request, settle_from_channel
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository

log = logging.getLogger(__name__)
S = channel_pb2.ChannelState
T = TypeVar("T")
BARCODE_FIRST_QUERY = timedelta(seconds=5)
BARCODE_CANCEL_AFTER = timedelta(seconds=30)
# Per-order backoff of the pay sweep (query_backoff): a barcode order is asked on every run (every
# 5 s by default); any other after 1, 2, 4 and 8 times the paying age (the jobs process's
# PAYMESH_JOBS_PAYING_AGE, a minute by default), then every 10 times it.
BARCODE_QUERY_EVERY = timedelta(seconds=5)
QUERY_BACKOFF_CAP_FACTOR = 10
# Runs are aligned to the clock but reach the gateway after varying delays, so one may start a
# little less than an interval after the last: an order due that soon is asked now, not a run later.
DUE_SLACK = timedelta(seconds=1)
# An INIT refund this old is taken to have lost its request, and is resumed.
STUCK_REFUND_AFTER = timedelta(seconds=60)
# Orders handled at once in one sweep: a slow channel must not hold up the rest for long.
CONCURRENCY = 8


class Contexts(Protocol):
    """Where the channel parameters of an app come from (the gateway's PayContextCache)."""

    async def get(self, app_id: str) -> PayContext | None: ...


class RefundResumer(Protocol):
    """Takes a refund left INIT to the channel (the gateway's Refunds)."""

    async def drive(self, refund: RefundOrder, params_json: str) -> bool: ...


class Outcome(enum.Enum):
    """What sweeping one order did."""

    SKIPPED = "skipped"  # not asked at the channel (no channel configuration, or an error)
    UNCHANGED = "unchanged"  # asked; nothing to do, or another path got there first
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    SETTLED = "settled"


@dataclass(frozen=True)
class PayingSweep:
    """Orders queried, of which ended (paid, failed, cancelled or closed), of which
    cancelled."""

    examined: int
    settled: int
    cancelled: int


@dataclass(frozen=True)
class ExpirySweep:
    """Expired orders examined, closed, and found paid instead."""

    examined: int
    closed: int
    paid: int


@dataclass(frozen=True)
class RefundSweep:
    """Refunds examined, and those that ended (succeeded, failed or closed)."""

    examined: int
    settled: int


class OrderSweeps:
    """Settles pay orders and refunds by asking their channel, as the jobs process requests."""

    def __init__(self, orders: PayOrderRepository, usage: PassageUsage,
                 refunds: RefundRepository, contexts: Contexts, channels: ChannelCalls,
                 clock: Callable[[], datetime] = utc_now, *,
                 resumer: RefundResumer | None = None) -> None:
        self._orders = orders
        self._usage = usage
        self._refunds = refunds
        self._contexts = contexts
        self._channels = channels
        self._clock = clock
        self._resumer = resumer  # None: stuck refunds are only asked about at the channel

    async def sweep_paying(self, older_than: timedelta, limit: int) -> PayingSweep:
        """Queries orders paying for longer than ``older_than`` (barcode ones after 5 s)."""
        now = self._clock()
        due_by = now + DUE_SLACK
        barcodes = await self._orders.paying_due(now - BARCODE_FIRST_QUERY, due_by, limit,
                                                 BARCODE_WAY_CODES)
        others = await self._orders.paying_due(now - older_than, due_by, limit)
        seen = {order.pay_order_id for order in barcodes}
        # Barcode orders first: a payer is standing at the till.
        batch = [*barcodes, *(o for o in others if o.pay_order_id not in seen)][:limit]
        outcomes = await _each(batch, lambda order: self._poll(order, now, older_than))
        return PayingSweep(examined=_count(outcomes, *_ASKED),
                           settled=_count(outcomes, *_ENDED),
                           cancelled=_count(outcomes, Outcome.CANCELLED))

    async def expire(self, limit: int) -> ExpirySweep:
        """Closes orders past their expiry that the channel confirms unpaid (and closed)."""
        batch = await self._orders.expired_open(self._clock(), limit)
        outcomes = await _each(batch, self._expire_one)
        return ExpirySweep(examined=_count(outcomes, *_ASKED),
                           closed=_count(outcomes, Outcome.CLOSED),
                           paid=_count(outcomes, Outcome.PAID))

    async def sweep_refunds(self, limit: int,
                            stuck_after: timedelta = STUCK_REFUND_AFTER) -> RefundSweep:
        """Settles refunds pending at the channel; resumes INIT refunds older than
        ``stuck_after``; closes open refunds past their expiry."""
        now = self._clock()
        batch = await self._refunds.to_sweep(now, limit, stuck_before=now - stuck_after)
        outcomes = await _each(batch, lambda refund: self._sweep_refund(refund, now))
        return RefundSweep(examined=_count(outcomes, *_ASKED),
                           settled=_count(outcomes, Outcome.SETTLED, Outcome.CLOSED))

    async def _poll(self, order: PayOrder, now: datetime, age: timedelta) -> Outcome:
        """Asks about one paying order; one that stays paying is asked again after its backoff.

        So does one without a channel configuration or whose query failed: asked on every
        run, enough of those would keep the rest of the backlog from ever being asked.
        """
        try:
            outcome = await self._ask(order, now)
        except Exception:
            await self._back_off(order, now, age)
            raise
        if outcome not in _ENDED:
            await self._back_off(order, now, age)
        return outcome

    async def _back_off(self, order: PayOrder, now: datetime, age: timedelta) -> None:
        """Schedules the order's next query; an order that ended meanwhile is left alone."""
        wait = query_backoff(order.query_count, age,
                             barcode=order.way_code in BARCODE_WAY_CODES)
        await self._orders.schedule_query(order.pay_order_id, now + wait)

    async def _ask(self, order: PayOrder, now: datetime) -> Outcome:
        """Asks the order's channel about it and takes the verdict (barcodes: the 30 s rule)."""
        params = await self._params(order.app_id, order.if_code)
        if params is None:
            return Outcome.SKIPPED
        answer = await self._channels.query(order.if_code, params, order.pay_order_id,
                                            order.channel_order_no or "")
        if answer.state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
            return Outcome.PAID if await self._mark_paid(order, answer) else Outcome.UNCHANGED
        if answer.state == S.CHANNEL_STATE_CONFIRM_FAIL:
            # Closed at the channel (a merchant's close whose answer was lost, or the channel's
            # expiry) is CLOSED, reversed is CANCEL; only a payment that failed is FAIL.
            state = unpaid_end_state(answer.err_code)
            ended = await self._end_unpaid(order, state,
                                           event=PAY_FAILED if state == St.FAIL else None,
                                           err_code=answer.err_code or None,
                                           err_msg=answer.err_msg[:256] or None)
            return _UNPAID_OUTCOMES[state] if ended else Outcome.UNCHANGED
        if order.way_code in BARCODE_WAY_CODES and now - order.created_at >= BARCODE_CANCEL_AFTER:
            return await self._reverse(order, params)
        return Outcome.UNCHANGED

    async def _reverse(self, order: PayOrder, params: str) -> Outcome:
        """Cancels a barcode payment the payer never confirmed; CANCEL once the channel agrees."""
        answer = await self._channels.cancel(order.if_code, params, order.pay_order_id,
                                             order.channel_order_no or "")
        if answer.state != S.CHANNEL_STATE_CONFIRM_SUCCESS:
            log.info("barcode order %s not reversed yet (%s); trying again next sweep",
                     order.pay_order_id, answer.err_code or S.Name(answer.state))
            return Outcome.UNCHANGED
        cancelled = await self._end_unpaid(
            order, St.CANCEL, err_code="BARCODE_REVERSED",
            err_msg="the payer did not confirm in time; the payment was reversed at the channel")
        return Outcome.CANCELLED if cancelled else Outcome.UNCHANGED

    async def _expire_one(self, order: PayOrder) -> Outcome:
        expired: dict[str, Any] = {"err_code": "ORDER_EXPIRED",
                                   "err_msg": "the order expired unpaid"}
        if order.state == St.INIT:  # never reached a channel: nothing to ask
            closed = await self._end_unpaid(order, St.CLOSED, allowed_from=[St.INIT], **expired)
            return Outcome.CLOSED if closed else Outcome.UNCHANGED
        params = await self._params(order.app_id, order.if_code)
        if params is None:
            return Outcome.SKIPPED
        paid = await self._channels.query(order.if_code, params, order.pay_order_id,
                                          order.channel_order_no or "")
        if paid.state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
            return Outcome.PAID if await self._mark_paid(order, paid) else Outcome.UNCHANGED
        answer = await self._channels.close(order.if_code, params, order.pay_order_id,
                                            order.channel_order_no or "")
        if answer.state != S.CHANNEL_STATE_CONFIRM_SUCCESS:  # e.g. paid meanwhile: next run
            log.info("expired order %s not closed at the channel (%s); trying again later",
                     order.pay_order_id, answer.err_code or S.Name(answer.state))
            return Outcome.UNCHANGED
        closed = await self._end_unpaid(order, St.CLOSED, **expired)
        return Outcome.CLOSED if closed else Outcome.UNCHANGED

    async def _sweep_refund(self, refund: RefundOrder, now: datetime) -> Outcome:
        params = await self._params(refund.app_id, refund.if_code)
        stuck = refund.state == RefundState.INIT and refund.expire_at > now
        if stuck and params is not None and self._resumer is not None:
            ended = await self._resumer.drive(refund, params)
            return Outcome.SETTLED if ended else Outcome.UNCHANGED
        if params is None:
            answer = RefundAnswer(S.CHANNEL_STATE_UNKNOWN)
        else:
            answer = await self._channels.query_refund(refund_query_request(refund, params))
        # A pending refund takes any verdict; an INIT one (its request never answered) only a
        # success, since "no such refund" is exactly what expiry is for.
        if refund.state == RefundState.PAYING or answer.state == S.CHANNEL_STATE_CONFIRM_SUCCESS:
            if await settle_from_channel(self._refunds, refund, answer, from_query=True):
                return Outcome.SETTLED
        # Expiry closes only a refund the channel never took: one it still reports pending may
        # yet be paid out, so it stays open (its amount reserved) and is asked again next time.
        if (refund.expire_at <= now and refund.state == RefundState.INIT
                and answer.state == S.CHANNEL_STATE_CONFIRM_FAIL
                and await self._refunds.settle(
                    refund, [RefundState.INIT], False, state=RefundState.CLOSED,
                    err_code="REFUND_EXPIRED",
                    err_msg="the channel never took the refund; closed 2 h after it was asked")):
            return Outcome.CLOSED
        return Outcome.UNCHANGED if params is not None else Outcome.SKIPPED

    async def _params(self, app_id: str, if_code: str) -> str | None:
        context = await self._contexts.get(app_id)
        params = context.channel_params(if_code) if context is not None else None
        if params is None:
            log.warning("app %s has no %s configuration; its orders cannot be asked about",
                        app_id, if_code)
        return params

    async def _mark_paid(self, order: PayOrder, answer: ChannelAnswer) -> bool:
        changes: dict[str, Any] = {"success_at": self._clock(), "err_code": None,
                                   "err_msg": None}
        if answer.channel_order_no:
            changes["channel_order_no"] = answer.channel_order_no
        return await self._orders.transition(order.pay_order_id, [St.PAYING], state=St.SUCCESS,
                                             event=PAY_SUCCEEDED, **changes)

    async def _end_unpaid(self, order: PayOrder, state: int, *,
                          allowed_from: Iterable[int] = (St.PAYING,), event: str | None = None,
                          **changes: Any) -> bool:
        """Ends an order unpaid once, giving back its daily-limit reservation (as dispatch does)."""
        if not await self._orders.transition(order.pay_order_id, allowed_from, state=state,
                                             limit_day=None, event=event, **changes):
            return False
        if order.limit_day:
            await self._usage.release((order.app_id, order.way_code, order.if_code),
                                      order.limit_day, order.amount)
        return True


_ASKED = tuple(o for o in Outcome if o is not Outcome.SKIPPED)
_ENDED = (Outcome.PAID, Outcome.FAILED, Outcome.CANCELLED, Outcome.CLOSED)
_UNPAID_OUTCOMES = {St.FAIL: Outcome.FAILED, St.CLOSED: Outcome.CLOSED,
                    St.CANCEL: Outcome.CANCELLED}


def query_backoff(asked_before: int, age: timedelta = timedelta(minutes=1), *,
                  barcode: bool = False) -> timedelta:
    """How long the pay sweep waits to ask again about an order still paying, which it had
    asked ``asked_before`` times before this query (its ``query_count``); ``age`` is how long
    an order pays before its first query.

    A barcode payer stands at the till and the order is reversed 30 s after creation, so it is
    asked on every run. Any other order is asked again after 1, 2, 4 and 8 ages, then every 10
    (with the default minute: 1, 2, 4, 8, then every 10 min): a lost callback is still found
    within minutes, and an order left unpaid costs its channel a few queries an hour instead of
    one per run.
    """
    if barcode:
        return BARCODE_QUERY_EVERY
    # 2 ** 4 is past the cap already: an order asked for weeks never builds a huge power.
    return age * min(2 ** min(asked_before, 4), QUERY_BACKOFF_CAP_FACTOR)


async def _each(items: Sequence[T], sweep: Callable[[T], Awaitable[Outcome]]) -> list[Outcome]:
    """Sweeps every item, a few at a time; one item's failure never stops the others."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: T) -> Outcome:
        async with gate:
            try:
                # In the order's own trace, linked from the job run's (see telemetry).
                with order_span("sweep", getattr(item, "trace_context", None),
                                spanattrs.of_order(item)):
                    return await sweep(item)
            except Exception:  # noqa: BLE001 - logged; the next sweep tries again
                log.exception("sweeping %s failed", getattr(item, "refund_order_id", None)
                              or getattr(item, "pay_order_id", item))
                return Outcome.SKIPPED

    return list(await asyncio.gather(*(one(item) for item in items)))


def _count(outcomes: Iterable[Outcome], *wanted: Outcome) -> int:
    return sum(1 for outcome in outcomes if outcome in wanted)
