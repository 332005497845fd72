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
from dataclasses import dataclass
from datetime import timedelta

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
BATCH = 100
IDLE_SECONDS = 1.0


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


class OutboxDispatcher:
    """Polls the outbox (and wakes when told a new event was committed) and runs consumers."""

    def __init__(self, engine: AsyncEngine, subscriptions: Sequence[Subscription]) -> None:
        names = [s.name for s in subscriptions]
        if len(set(names)) != len(names):
            raise ValueError(f"outbox consumer names must be unique: {names}")
        self._sessions = sessions(engine)
        self._by_topic: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            for topic in subscription.topics:
                self._by_topic.setdefault(topic, []).append(subscription)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        """A new event was committed: deliver it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def dispatch_due(self) -> int:
        """Delivers the events that are due; how many were delivered to all their consumers."""
        if not self._by_topic:
            return 0
        async with self._sessions() as session:
            due = (await session.execute(
                select(OutboxEvent)
                .where(OutboxEvent.delivered_at.is_(None),
                       OutboxEvent.topic.in_(list(self._by_topic)),
                       OutboxEvent.next_attempt_at <= utc_now())
                .order_by(OutboxEvent.event_id).limit(BATCH))).scalars().all()
            done_rows = (await session.execute(
                select(OutboxDelivery.event_id, OutboxDelivery.consumer)
                .where(OutboxDelivery.event_id.in_([e.event_id for e in due])))).all()
            contexts = await self._trace_contexts(session, due)
        done = {(row[0], row[1]) for row in done_rows}
        delivered = 0
        for event in due:
            all_ok = True
            for subscription in self._by_topic[event.topic]:
                if (event.event_id, subscription.name) in done:
                    continue
                with order_span(f"outbox {event.topic} {subscription.name}",
                                contexts.get(event.order_id), {
                                    "paymesh.outbox.topic": event.topic,
                                    "paymesh.outbox.consumer": subscription.name,
                                    _order_attribute(event.topic): event.order_id}) as span:
                    try:
                        await subscription.consumer(event.topic, event.order_id)
                    except Exception as error:  # noqa: BLE001 - retried with backoff
                        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                        log.exception("outbox event %s %s failed in %s; retrying later",
                                      event.topic, event.order_id, subscription.name)
                        all_ok = False
                        continue
                await self._record(event, subscription.name)
            await self._mark(event, delivered=all_ok)
            delivered += all_ok
        return delivered

    @staticmethod
    async def _trace_contexts(session: AsyncSession, events: Sequence[OutboxEvent]
                              ) -> dict[str, str | None]:
        """The stored trace context of each event's order (pay.* or refund.*)."""
        refund_ids = [e.order_id for e in events if e.topic.startswith("refund.")]
        pay_ids = [e.order_id for e in events if not e.topic.startswith("refund.")]
        found: dict[str, str | None] = {}
        for key, context, ids in (
                (PayOrder.pay_order_id, PayOrder.trace_context, pay_ids),
                (RefundOrder.refund_order_id, RefundOrder.trace_context, refund_ids)):
            if ids:
                rows = await session.execute(select(key, context).where(key.in_(ids)))
                found.update({row[0]: row[1] for row in rows})
        return found

    async def _record(self, event: OutboxEvent, consumer: str) -> None:
        """Remembers that ``consumer`` has handled ``event``, so a retry skips it."""
        with contextlib.suppress(IntegrityError):  # another dispatcher recorded it first
            async with self._sessions.begin() as session:
                session.add(OutboxDelivery(event_id=event.event_id, consumer=consumer,
                                           delivered_at=utc_now()))

    async def _mark(self, event: OutboxEvent, *, delivered: bool) -> None:
        now = utc_now()
        values: dict[str, object] = {"attempts": OutboxEvent.attempts + 1}
        if delivered:
            values["delivered_at"] = now
        else:
            values["next_attempt_at"] = now + timedelta(seconds=min(300, 2 ** event.attempts))
        async with self._sessions.begin() as session:
            await session.execute(update(OutboxEvent)
                                  .where(OutboxEvent.event_id == event.event_id)
                                  .values(**values))

    async def _run(self) -> None:
        while True:
            try:
                await self.dispatch_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
                log.exception("outbox dispatch failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)


def _order_attribute(topic: str) -> str:
    """The span attribute naming the order of an event of ``topic``."""
    return "paymesh.refund_order_id" if topic.startswith("refund.") else "paymesh.pay_order_id"
