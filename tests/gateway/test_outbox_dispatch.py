"""The outbox dispatcher delivers several pay orders' events at once, one pay order's events in
order, keeps events being retried from holding up new ones, and claims what it delivers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.gateway.models import OutboxDelivery, OutboxEvent, RefundOrder
from paymesh.services.gateway.outbox import (
    PAY_SUCCEEDED,
    REFUND_SUCCEEDED,
    OutboxDispatcher,
    Subscription,
    outbox_event,
)

GUARD_SECONDS = 20.0  # how long a test waits for something that must happen before it fails
TOPICS = (PAY_SUCCEEDED, REFUND_SUCCEEDED)


async def add_events(engine: AsyncEngine, *events: tuple[str, str], attempts: int = 0) -> None:
    async with sessions(engine).begin() as session:
        for topic, order_id in events:
            event = outbox_event(topic, order_id)
            event.attempts = attempts
            session.add(event)


async def add_refund(engine: AsyncEngine, refund_order_id: str, pay_order_id: str) -> None:
    now = utc_now()
    async with sessions(engine).begin() as session:
        session.add(RefundOrder(
            refund_order_id=refund_order_id, pay_order_id=pay_order_id, mch_no="M1",
            app_id="A1", mch_refund_no=refund_order_id, if_code="sandbox", pay_amount=100,
            refund_amount=40, currency="cny", state=2, reason="r",
            expire_at=now + timedelta(hours=2), created_at=now, updated_at=now))


async def undelivered(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with sessions(engine)() as session:
        rows = await session.execute(select(OutboxEvent.order_id, OutboxEvent.attempts)
                                     .where(OutboxEvent.delivered_at.is_(None))
                                     .order_by(OutboxEvent.order_id))
        return [(row[0], row[1]) for row in rows]


@dataclass
class Gate:
    """A consumer that records what it is given and holds each order id until released."""

    held: set[str] = field(default_factory=set)
    started: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    running: set[str] = field(default_factory=set)
    most_at_once: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def consume(self, topic: str, order_id: str) -> None:
        async with self.changed:
            self.started.append(order_id)
            self.running.add(order_id)
            self.most_at_once = max(self.most_at_once, len(self.running))
            self.changed.notify_all()
        try:
            if order_id in self.held:
                await self.released.wait()
            else:
                await asyncio.sleep(0.01)  # an RPC's worth of waiting
        finally:
            async with self.changed:
                self.running.discard(order_id)
                self.finished.append(order_id)
                self.changed.notify_all()

    async def until(self, what: str, condition: object) -> None:
        async def wait() -> None:
            async with self.changed:
                await self.changed.wait_for(condition)  # type: ignore[arg-type]

        try:
            await asyncio.wait_for(wait(), GUARD_SECONDS)
        except TimeoutError:
            pytest.fail(f"never happened: {what} (started {self.started}, finished "
                        f"{self.finished})")


async def test_several_pay_orders_are_delivered_at_once(engine: AsyncEngine) -> None:
    gate = Gate(held={"P1", "P2", "P3"})
    await add_events(engine, *((PAY_SUCCEEDED, f"P{i}") for i in range(1, 9)))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)])
    delivery = asyncio.create_task(dispatcher.dispatch_due())
    # The three held events are in flight together, and the others pass them.
    await gate.until("three pay orders in flight at once", lambda: gate.running >= {
        "P1", "P2", "P3"})
    await gate.until("the others delivered meanwhile", lambda: len(gate.finished) == 5)
    gate.released.set()
    assert await asyncio.wait_for(delivery, GUARD_SECONDS) == 8
    assert await undelivered(engine) == []


async def test_concurrency_is_bounded(engine: AsyncEngine) -> None:
    gate = Gate()
    await add_events(engine, *((PAY_SUCCEEDED, f"P{i}") for i in range(40)))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)],
                                  concurrency=5)
    assert await dispatcher.dispatch_due() == 40
    assert 1 < gate.most_at_once <= 5


async def test_one_pay_orders_events_go_in_order_also_across_batches(
        engine: AsyncEngine) -> None:
    gate = Gate(held={"P1"})
    await add_refund(engine, "R1", "P1")
    await add_refund(engine, "R2", "P1")
    await add_events(engine, (PAY_SUCCEEDED, "P1"))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)])
    first = asyncio.create_task(dispatcher.dispatch_due())
    await gate.until("the payment's event in flight", lambda: "P1" in gate.running)
    # Its refunds' events are written meanwhile and claimed by a later batch, with another
    # order's event, which does not wait.
    await add_events(engine, (REFUND_SUCCEEDED, "R1"), (REFUND_SUCCEEDED, "R2"),
                     (PAY_SUCCEEDED, "P9"))
    second = asyncio.create_task(dispatcher.dispatch_due())
    await gate.until("the other order delivered", lambda: "P9" in gate.finished)
    assert "R1" not in gate.started and "R2" not in gate.started
    gate.released.set()
    assert await asyncio.wait_for(asyncio.gather(first, second), GUARD_SECONDS) == [1, 3]
    assert [o for o in gate.started if o != "P9"] == ["P1", "R1", "R2"]
    assert gate.finished.index("P1") < gate.started.index("R1")
    assert gate.finished.index("R1") < gate.started.index("R2")


async def test_events_being_retried_do_not_hold_up_new_ones(engine: AsyncEngine) -> None:
    gate = Gate(held={f"PBAD{i}" for i in range(10)})
    # Ten events that failed before (an outage) and hang again, ahead of ten new ones.
    await add_events(engine, *((PAY_SUCCEEDED, f"PBAD{i}") for i in range(10)), attempts=3)
    await add_events(engine, *((PAY_SUCCEEDED, f"PNEW{i}") for i in range(10)))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)],
                                  concurrency=4, retry_concurrency=1)
    dispatcher.start()
    try:
        await gate.until("every new event delivered while the retries hang", lambda: all(
            f"PNEW{i}" in gate.finished for i in range(10)))
        assert sum(o.startswith("PBAD") for o in gate.running) == 1  # one retry slot
        gate.released.set()
        await gate.until("the retries delivered too", lambda: len(gate.finished) == 20)
    finally:
        gate.released.set()
        await dispatcher.stop()


async def test_a_claimed_event_is_not_taken_again_until_its_lease_ends(
        engine: AsyncEngine) -> None:
    gate = Gate(held={"P1"})
    other = Gate()
    await add_events(engine, (PAY_SUCCEEDED, "P1"))
    first = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)])
    second = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, other.consume)])
    delivery = asyncio.create_task(first.dispatch_due())
    await gate.until("the event in flight", lambda: "P1" in gate.running)
    assert await second.dispatch_due() == 0  # claimed by the first
    delivery.cancel()  # the first dies mid-delivery: its claim stays until the lease ends
    with pytest.raises(asyncio.CancelledError):
        await delivery
    async with sessions(engine).begin() as session:  # the lease is over
        await session.execute(update(OutboxEvent).values(
            next_attempt_at=utc_now() - timedelta(seconds=1)))
    assert await second.dispatch_due() == 1
    assert other.finished == ["P1"]
    assert await undelivered(engine) == []


async def test_stopping_gives_unfinished_events_back_at_once(engine: AsyncEngine) -> None:
    gate = Gate(held={"P1"})
    await add_events(engine, (PAY_SUCCEEDED, "P1"))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)])
    dispatcher.start()
    await gate.until("the event in flight", lambda: "P1" in gate.running)
    async with sessions(engine)() as session:
        [leased] = (await session.execute(select(OutboxEvent.next_attempt_at))).scalars().all()
    assert leased > utc_now()  # claimed
    await dispatcher.stop()
    async with sessions(engine)() as session:
        [event] = (await session.execute(select(OutboxEvent))).scalars().all()
    assert event.delivered_at is None and event.attempts == 0
    assert event.next_attempt_at <= utc_now()  # due again for whoever runs next
    again = Gate()
    assert await OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS,
                                                           again.consume)]).dispatch_due() == 1
    assert again.finished == ["P1"]


async def test_a_delivered_event_keeps_no_lease(engine: AsyncEngine) -> None:
    gate = Gate()
    await add_events(engine, (PAY_SUCCEEDED, "P1"))
    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", TOPICS, gate.consume)])
    assert await dispatcher.dispatch_due() == 1
    # An operator makes it due again (its delivery forgotten): delivered at once, not after
    # the lease it was delivered under.
    async with sessions(engine).begin() as session:
        await session.execute(delete(OutboxDelivery))
        await session.execute(update(OutboxEvent).values(delivered_at=None))
    assert await dispatcher.dispatch_due() == 1
    assert gate.finished == ["P1", "P1"]
