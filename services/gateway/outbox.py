"""The outbox dispatcher: delivers every event at least once to each of its consumers.

Events are written in the same transaction as the state change that causes them (see the
repositories), so a crash between the change and the delivery loses nothing: the dispatcher finds
the undelivered rows when it starts again. Consumers are idempotent on (topic, order id).

A topic may have several consumers (merchant notifications, ledger postings, ...), each
subscribed under a stable name. Every consumer's success is recorded on its own
(``outbox_delivery``: one row per event and consumer name), so when one consumer fails only the
consumers that have not succeeded yet run again at the retry; the event itself is marked
delivered once all its consumers have succeeded. A consumer subscribed later does not receive
events already delivered before it existed.

Delivery is concurrent: due events are *claimed* in batches and up to ``CONCURRENCY`` of them
are delivered at once. A claim is a lease: one conditional UPDATE moves the events'
``next_attempt_at`` to the end of the lease, so another dispatcher (a second gateway replica)
does not take them meanwhile; the lease is renewed while the events are being delivered, and
when the process dies it ends after ``LEASE`` at most, when any dispatcher takes the events
again. A graceful stop gives its unfinished events back at once.

Order: the events of one pay order — its own and those of its refunds — are delivered one after
the other, oldest first, also across batches (an event waits while an earlier one of its pay
order is being delivered); different pay orders go in parallel. An event whose consumers failed
is retried with an exponential backoff and does not hold its pay order's later events back (the
ledger consumer posts a refund's payment first whatever the order of delivery). Retries take at
most ``RETRY_CONCURRENCY`` of the delivery slots and a share of each batch, so events that keep
failing (after an outage, say) never hold up new ones.

Tracing: each consumer runs in a span ``outbox <topic> <consumer>`` inside the trace of the
request that created the event's order (its stored ``trace_context``: pay.* events name a pay
order, refund.* a refund), so a payment's trace goes on to its ledger posting and its merchant
notification (common.telemetry.order_span).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from opentelemetry.trace import Status, StatusCode
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.common.telemetry import order_span
from paymesh.services.gateway.models import OutboxDelivery, OutboxEvent, PayOrder, RefundOrder

log = logging.getLogger(__name__)
Consumer = Callable[[str, str], Awaitable[None]]
PAY_SUCCEEDED = "pay.succeeded"
PAY_FAILED = "pay.failed"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
BATCH = 100  # events claimed at once
CONCURRENCY = 16  # events delivered at once
RETRY_CONCURRENCY = 4  # of which events being retried, at most
LEASE = timedelta(seconds=15)  # how long a claim holds events that are not renewed
RENEW_SECONDS = 5.0
IDLE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 300


def outbox_event(topic: str, order_id: str) -> OutboxEvent:
    """A new event, due at once."""
    now = utc_now()
    return OutboxEvent(topic=topic, order_id=order_id, attempts=0, next_attempt_at=now,
                       created_at=now)


@dataclass(frozen=True)
class Subscription:
    """One consumer of some topics, under a stable name (at most 32 characters) recorded with
    each of its deliveries; renaming it makes undelivered events run it again."""

    name: str
    topics: frozenset[str]
    consumer: Consumer

    @classmethod
    def of(cls, name: str, topics: Iterable[str], consumer: Consumer) -> Subscription:
        return cls(name, frozenset(topics), consumer)


@dataclass(eq=False)
class _Claim:
    """Events claimed together: their ``next_attempt_at`` is ``until`` while they are delivered.

    ``open`` holds the ids not finished yet (the ones the lease is renewed for); ``done`` the
    (event, consumer) pairs recorded before; ``contexts`` and ``groups`` the trace context and
    the pay order of each event's order id.
    """

    until: datetime
    events: list[OutboxEvent]
    open: set[int] = field(default_factory=set)
    done: set[tuple[int, str]] = field(default_factory=set)
    contexts: dict[str, str | None] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)


class OutboxDispatcher:
    """Claims due events (polling, and woken when told a new one was committed) and runs their
    consumers, several events at once; see the module docs."""

    def __init__(self, engine: AsyncEngine, subscriptions: Sequence[Subscription], *,
                 batch: int = BATCH, concurrency: int = CONCURRENCY,
                 retry_concurrency: int = RETRY_CONCURRENCY, lease: timedelta = LEASE) -> None:
        names = [s.name for s in subscriptions]
        if len(set(names)) != len(names):
            raise ValueError(f"outbox consumer names must be unique: {names}")
        self._sessions = sessions(engine)
        self._by_topic: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            for topic in subscription.topics:
                self._by_topic.setdefault(topic, []).append(subscription)
        self._batch = batch
        self._lease = lease
        self._slots = asyncio.Semaphore(concurrency)
        self._retry_slots = asyncio.Semaphore(max(1, min(retry_concurrency, concurrency)))
        # The last delivery scheduled for each pay order: the next one of it waits for it.
        self._tails: dict[str, asyncio.Task[int]] = {}
        self._open_claims: list[_Claim] = []
        self._deliveries: set[asyncio.Task[int]] = set()  # one per claim
        self._runs: set[asyncio.Task[int]] = set()  # one per pay order of a claim
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """A new event was committed: deliver it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Stops delivering and gives the unfinished claimed events back, due at once."""
        tasks = [task for task in (self._task, *self._runs, *self._deliveries)
                 if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for claim in list(self._open_claims):  # any a delivery did not give back itself
            with contextlib.suppress(Exception):  # the lease ends on its own all the same
                await self._release(claim)

    async def dispatch_due(self) -> int:
        """Claims the events that are due (one batch) and delivers them; how many were
        delivered to all their consumers."""
        claim = await self._claim(self._batch)
        return 0 if claim is None else await self._deliver(claim)

    def _in_flight(self) -> int:
        return sum(len(claim.open) for claim in self._open_claims)

    async def _run(self) -> None:
        while True:
            full = False
            try:
                room = min(self._batch, 2 * self._batch - self._in_flight())
                claim = await self._claim(room) if room > 0 else None
                if claim is not None:
                    full = len(claim.events) == room
                    delivery = asyncio.create_task(self._deliver(claim), name="outbox-batch")
                    self._deliveries.add(delivery)
                    delivery.add_done_callback(self._delivered)
                    await asyncio.sleep(0)  # its pay orders are queued before the next claim
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
                log.exception("outbox dispatch failed")
            if full:  # more may be due: claim again at once
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)

    def _delivered(self, delivery: asyncio.Task[int]) -> None:
        self._deliveries.discard(delivery)
        self._wake.set()  # room for another batch
        if not delivery.cancelled() and delivery.exception() is not None:
            log.error("outbox batch failed", exc_info=delivery.exception())

    async def _claim(self, limit: int) -> _Claim | None:
        """Takes up to ``limit`` due events under a new lease; None when none is due.

        Retries (events that failed before) take a quarter of the batch, or more when there
        are fewer new events; each oldest first.
        """
        if not self._by_topic or limit <= 0:
            return None
        now = utc_now()
        until = now + self._lease
        due = (OutboxEvent.delivered_at.is_(None), OutboxEvent.topic.in_(list(self._by_topic)),
               OutboxEvent.next_attempt_at <= now)
        async with self._sessions() as session:
            retries = (await session.execute(
                select(OutboxEvent).where(*due, OutboxEvent.attempts > 0)
                .order_by(OutboxEvent.event_id).limit(limit))).scalars().all()
            fresh = (await session.execute(
                select(OutboxEvent).where(*due, OutboxEvent.attempts == 0)
                .order_by(OutboxEvent.event_id).limit(limit))).scalars().all()
        # Retries get a quarter of the batch, or what new events leave.
        n_retries = min(len(retries), max(max(1, limit // 4), limit - len(fresh)))
        events = sorted([*retries[:n_retries], *fresh[:limit - n_retries]],
                        key=lambda e: e.event_id)
        if not events:
            return None
        ids = [e.event_id for e in events]
        async with self._sessions.begin() as session:
            taken = (await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.event_id.in_(ids), *due)
                .values(next_attempt_at=until))).rowcount
        if taken < len(ids):  # another dispatcher claimed some of them first
            async with self._sessions() as session:
                mine = set((await session.execute(
                    select(OutboxEvent.event_id)
                    .where(OutboxEvent.event_id.in_(ids),
                           OutboxEvent.next_attempt_at == until))).scalars().all())
            events = [e for e in events if e.event_id in mine]
            if not events:
                return None
        claim = _Claim(until, events, open={e.event_id for e in events})
        self._open_claims.append(claim)
        try:
            async with self._sessions() as session:
                done_rows = (await session.execute(
                    select(OutboxDelivery.event_id, OutboxDelivery.consumer)
                    .where(OutboxDelivery.event_id.in_(list(claim.open))))).all()
                await self._order_facts(session, claim)
        except BaseException:
            await self._release(claim)
            raise
        claim.done = {(row[0], row[1]) for row in done_rows}
        return claim

    @staticmethod
    async def _order_facts(session: AsyncSession, claim: _Claim) -> None:
        """The stored trace context of each event's order (pay.* or refund.*), and the pay
        order it belongs to (a refund's pay order; its own id when the refund is gone)."""
        refund_ids = [e.order_id for e in claim.events if _is_refund(e.topic)]
        pay_ids = [e.order_id for e in claim.events if not _is_refund(e.topic)]
        if pay_ids:
            rows = await session.execute(select(PayOrder.pay_order_id, PayOrder.trace_context)
                                         .where(PayOrder.pay_order_id.in_(pay_ids)))
            claim.contexts.update({row[0]: row[1] for row in rows})
        if refund_ids:
            rows = await session.execute(
                select(RefundOrder.refund_order_id, RefundOrder.trace_context,
                       RefundOrder.pay_order_id)
                .where(RefundOrder.refund_order_id.in_(refund_ids)))
            for refund_id, context, pay_order_id in rows:
                claim.contexts[refund_id] = context
                claim.groups[refund_id] = pay_order_id

    async def _deliver(self, claim: _Claim) -> int:
        """Delivers a claim's events, pay order by pay order; how many were fully delivered."""
        # Queued before the first await: each pay order's run is chained after the runs of
        # earlier claims at once, in claim order.
        by_order: dict[str, list[OutboxEvent]] = {}
        for event in claim.events:
            by_order.setdefault(claim.groups.get(event.order_id, event.order_id),
                                []).append(event)
        runs = [self._after_earlier(key, events, claim) for key, events in by_order.items()]
        renewal = asyncio.create_task(self._renew(claim), name="outbox-lease")
        try:
            delivered = 0
            for result in await asyncio.gather(*runs, return_exceptions=True):
                if isinstance(result, BaseException):
                    if isinstance(result, asyncio.CancelledError):
                        raise result
                    log.error("outbox delivery failed", exc_info=result)
                else:
                    delivered += result
            return delivered
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal
            with contextlib.suppress(Exception):  # else the lease ends on its own
                await self._release(claim)  # what is left when stopped: due again at once

    def _after_earlier(self, key: str, events: list[OutboxEvent], claim: _Claim
                       ) -> asyncio.Task[int]:
        """Delivers one pay order's events in order, once its earlier ones (claimed in an
        earlier batch and still being delivered) are done."""
        earlier = self._tails.get(key)

        async def in_order() -> int:
            if earlier is not None:
                await asyncio.wait([earlier])  # however it ended
            delivered = 0
            for event in events:
                delivered += await self._deliver_one(event, claim)
            return delivered

        task = asyncio.create_task(in_order(), name=f"outbox-{key}")
        self._tails[key] = task
        self._runs.add(task)
        task.add_done_callback(lambda done: self._ran(key, done))
        return task

    def _ran(self, key: str, run: asyncio.Task[int]) -> None:
        self._runs.discard(run)
        if self._tails.get(key) is run:
            del self._tails[key]

    async def _deliver_one(self, event: OutboxEvent, claim: _Claim) -> bool:
        """Runs the event's consumers that have not succeeded yet; True when all have."""
        succeeded: list[str] = []
        all_ok = True
        async with contextlib.AsyncExitStack() as slots:
            if event.attempts > 0:
                await slots.enter_async_context(self._retry_slots)
            await slots.enter_async_context(self._slots)
            for subscription in self._by_topic[event.topic]:
                if (event.event_id, subscription.name) in claim.done:
                    continue
                if await self._consume(event, subscription, claim.contexts.get(event.order_id)):
                    succeeded.append(subscription.name)
                else:
                    all_ok = False
        try:
            await self._finish(event, succeeded, delivered=all_ok)
        except Exception:  # noqa: BLE001 - the lease ends and the event is retried
            log.exception("outbox event %s %s could not be marked", event.topic, event.order_id)
            return False
        finally:
            claim.open.discard(event.event_id)
        return all_ok

    @staticmethod
    async def _consume(event: OutboxEvent, subscription: Subscription,
                       context: str | None) -> bool:
        with order_span(f"outbox {event.topic} {subscription.name}", context, {
                "paymesh.outbox.topic": event.topic,
                "paymesh.outbox.consumer": subscription.name,
                _order_attribute(event.topic): event.order_id}) as span:
            try:
                await subscription.consumer(event.topic, event.order_id)
            except Exception as error:  # noqa: BLE001 - retried with backoff
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                log.exception("outbox event %s %s failed in %s; retrying later",
                              event.topic, event.order_id, subscription.name)
                return False
        return True

    async def _finish(self, event: OutboxEvent, consumers: list[str], *,
                      delivered: bool) -> None:
        """Records the consumers that succeeded (a retry skips them) and marks the event
        delivered, or due again after a backoff, in one transaction."""
        now = utc_now()
        values: dict[str, object] = {"attempts": OutboxEvent.attempts + 1}
        if delivered:  # the lease ends with it: delivered again at once if ever made due
            values.update(delivered_at=now, next_attempt_at=now)
        else:
            backoff = min(MAX_BACKOFF_SECONDS, 2 ** event.attempts)
            values["next_attempt_at"] = now + timedelta(seconds=backoff)
        mark = update(OutboxEvent).where(OutboxEvent.event_id == event.event_id).values(**values)
        try:
            async with self._sessions.begin() as session:
                session.add_all([OutboxDelivery(event_id=event.event_id, consumer=name,
                                                delivered_at=now) for name in consumers])
                await session.execute(mark)
            return
        except IntegrityError:  # another dispatcher recorded one of them first: one by one
            pass
        for name in consumers:
            with contextlib.suppress(IntegrityError):
                async with self._sessions.begin() as session:
                    session.add(OutboxDelivery(event_id=event.event_id, consumer=name,
                                               delivered_at=now))
        async with self._sessions.begin() as session:
            await session.execute(mark)

    async def _renew(self, claim: _Claim) -> None:
        """Extends the claim's lease while its events are being delivered."""
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not claim.open:
                return
            until = utc_now() + self._lease
            try:
                await self._move_lease(claim, until)
                claim.until = until
            except Exception:  # noqa: BLE001 - tried again; at worst the lease ends
                log.exception("outbox lease could not be renewed")

    async def _release(self, claim: _Claim) -> None:
        """Gives the claim's unfinished events back, due at once."""
        if claim in self._open_claims:
            self._open_claims.remove(claim)
        if not claim.open:
            return
        await self._move_lease(claim, utc_now())

    async def _move_lease(self, claim: _Claim, until: datetime) -> None:
        """Makes the claim's undelivered events due at ``until``, those it still holds."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.event_id.in_(list(claim.open)),
                       OutboxEvent.delivered_at.is_(None),
                       OutboxEvent.next_attempt_at == claim.until)
                .values(next_attempt_at=until))


def _is_refund(topic: str) -> bool:
    return topic.startswith("refund.")


def _order_attribute(topic: str) -> str:
    """The span attribute naming the order of an event of ``topic``."""
    return "paymesh.refund_order_id" if _is_refund(topic) else "paymesh.pay_order_id"
