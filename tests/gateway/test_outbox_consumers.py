"""Several consumers per outbox topic: each runs until it succeeds, and never again after."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.gateway.models import OutboxDelivery, OutboxEvent
from paymesh.services.gateway.outbox import (
    PAY_FAILED,
    PAY_SUCCEEDED,
    OutboxDispatcher,
    Subscription,
    outbox_event,
)


async def test_one_consumer_failing_does_not_repeat_the_other(config: MeshConfig) -> None:
    engine = open_engine(config.db_urls["gateway"])
    calls: list[tuple[str, str, str]] = []
    failures = {"ledger": 1}

    def consumer(name: str) -> Subscription:
        async def consume(topic: str, order_id: str) -> None:
            calls.append((name, topic, order_id))
            if failures.get(name, 0) > 0:
                failures[name] -= 1
                raise RuntimeError("ledger unavailable")
        topics = [PAY_SUCCEEDED, PAY_FAILED] if name == "notifications" else [PAY_SUCCEEDED]
        return Subscription.of(name, topics, consume)

    dispatcher = OutboxDispatcher(engine, [consumer("notifications"), consumer("ledger")])
    try:
        async with sessions(engine).begin() as session:
            session.add_all([outbox_event(PAY_SUCCEEDED, "P1"), outbox_event(PAY_FAILED, "P2")])
        assert await dispatcher.dispatch_due() == 1  # P2 fully delivered, P1 waits for ledger
        # Two pay orders are delivered side by side; each event's consumers in turn.
        assert [c for c in calls if c[2] == "P1"] == [("notifications", PAY_SUCCEEDED, "P1"),
                                                      ("ledger", PAY_SUCCEEDED, "P1")]
        assert [c for c in calls if c[2] == "P2"] == [("notifications", PAY_FAILED, "P2")]
        async with sessions(engine)() as session:
            [p1] = (await session.execute(select(OutboxEvent).where(
                OutboxEvent.order_id == "P1"))).scalars().all()
            assert (p1.delivered_at, p1.attempts) == (None, 1)
            p1.next_attempt_at = p1.created_at  # due again now rather than after the backoff
            await session.commit()
        calls.clear()
        assert await dispatcher.dispatch_due() == 1
        assert calls == [("ledger", PAY_SUCCEEDED, "P1")]  # notifications not repeated
        assert await dispatcher.dispatch_due() == 0
        async with sessions(engine)() as session:
            done = (await session.execute(select(OutboxDelivery.consumer, OutboxEvent.order_id)
                    .join(OutboxEvent, OutboxEvent.event_id == OutboxDelivery.event_id)
                    .order_by(OutboxDelivery.consumer, OutboxEvent.order_id))).all()
        assert [tuple(row) for row in done] == [
            ("ledger", "P1"), ("notifications", "P1"), ("notifications", "P2")]
    finally:
        await engine.dispose()


def test_consumer_names_are_unique(config: MeshConfig) -> None:
    async def consume(topic: str, order_id: str) -> None:
        return None

    with pytest.raises(ValueError, match="unique"):
        OutboxDispatcher(open_engine(config.db_urls["gateway"]),
                         [Subscription.of("a", [PAY_SUCCEEDED], consume),
                          Subscription.of("a", [PAY_FAILED], consume)])
