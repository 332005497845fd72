"""The outbox dispatcher: delivers every event at least once, in the gateway process.

Events are written in the same transaction as the state change that causes them (see the
repositories), so a crash between the change and the delivery loses nothing: the dispatcher finds
the undelivered rows when it starts again. Consumers are idempotent on (topic, order id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.gateway.models import OutboxEvent

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


class OutboxDispatcher:
    """Polls the outbox (and wakes when told a new event was committed) and runs consumers."""

    def __init__(self, engine: AsyncEngine, consumers: Mapping[str, Consumer]) -> None:
        self._sessions = sessions(engine)
        self._consumers = dict(consumers)
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
        """Delivers the events that are due; how many were delivered."""
        if not self._consumers:
            return 0
        async with self._sessions() as session:
            due = (await session.execute(
                select(OutboxEvent)
                .where(OutboxEvent.delivered_at.is_(None),
                       OutboxEvent.topic.in_(list(self._consumers)),
                       OutboxEvent.next_attempt_at <= utc_now())
                .order_by(OutboxEvent.event_id).limit(BATCH))).scalars().all()
        delivered = 0
        for event in due:
            consumer = self._consumers[event.topic]
            try:
                await consumer(event.topic, event.order_id)
            except Exception:  # noqa: BLE001 - retried with backoff, never dropped
                log.exception("outbox event %s %s failed; retrying later", event.topic,
                              event.order_id)
                await self._mark(event, delivered=False)
                continue
            await self._mark(event, delivered=True)
            delivered += 1
        return delivered

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
