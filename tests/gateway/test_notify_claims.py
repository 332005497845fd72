"""Two gateway replicas sharing one database never make the same notification attempt twice;
an attempt keeps its claim while it runs, and one interrupted is made again soon."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, utc_now
from paymesh.services.gateway import notifications
from paymesh.services.gateway.notifications import Notifications
from paymesh.services.gateway.notify_models import NotifyRecord, NotifyState
from paymesh.services.gateway.notify_repository import NotifyRepository
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository
from tests.gateway.conftest import MerchantEndpoint


class Contexts:
    """Stands in for the PayContextCache: one app, allowed to notify loopback."""

    async def get(self, app_id: str) -> PayContext:
        return PayContext(app_id=app_id, app_active=True, mch_no="M1", merchant_active=True,
                          secret="S", passages={}, allow_private_notify_url=True)


def record(url: str) -> NotifyRecord:
    now = utc_now() - timedelta(seconds=1)
    return NotifyRecord(notify_id="N1", order_id="P1", order_type=1, mch_no="M1", app_id="A1",
                        mch_order_no="O1", notify_url=url,
                        params_json=json.dumps({"payOrderId": "P1", "sign": "X"}),
                        state=NotifyState.SENDING, attempts=0, attempt_limit=14,
                        next_attempt_at=now, created_at=now, updated_at=now)


async def test_replicas_racing_send_each_attempt_once(
        config: MeshConfig, merchant: MerchantEndpoint) -> None:
    url, received = merchant.url, merchant.received  # answers after 0.2 s: both replicas try
    engines = [open_engine(config.db_urls["gateway"]) for _ in range(2)]
    replicas = [Notifications(NotifyRepository(engine), PayOrderRepository(engine),
                              RefundRepository(engine), Contexts(),  # type: ignore[arg-type]
                              schedule_scale=0.01) for engine in engines]
    records = NotifyRepository(engines[0])
    try:
        assert await records.create(record(url))
        assert not await records.create(record(url))  # one record per (order, type)
        results: list[Any] = await asyncio.gather(*(r.deliver_due(10) for r in replicas))
        assert sorted(results) == [(0, 0), (1, 1)]
        assert received == [b"payOrderId=P1&sign=X"]
        stored = await records.get("N1")
        assert stored is not None
        assert (stored.state, stored.attempts, stored.next_attempt_at) == (
            NotifyState.SUCCESS, 1, None)
        log = await records.attempts_of("N1")
        assert [(a.attempt, a.http_status, a.response_excerpt) for a in log] == [
            (1, 200, "SUCCESS")]
    finally:
        for replica in replicas:
            await replica.stop()
        for engine in engines:
            await engine.dispose()


async def test_a_stale_snapshot_cannot_claim(config: MeshConfig) -> None:
    engine = open_engine(config.db_urls["gateway"])
    records = NotifyRepository(engine)
    try:
        snapshot = record("http://127.0.0.1:9/n")
        await records.create(snapshot)
        now = utc_now()
        assert await records.claim_due(snapshot, now, now + timedelta(seconds=60))
        assert not await records.claim_due(snapshot, now, now + timedelta(seconds=60))
        fresh = await records.get("N1")
        assert fresh is not None and fresh.attempts == 1
        assert not await records.claim_due(fresh, utc_now(), now)  # leased: not due
    finally:
        await engine.dispose()


def replicas_on(config: MeshConfig, count: int) -> tuple[list[Any], list[Notifications]]:
    engines = [open_engine(config.db_urls["gateway"]) for _ in range(count)]
    return engines, [Notifications(NotifyRepository(engine), PayOrderRepository(engine),
                                   RefundRepository(engine), Contexts(),  # type: ignore[arg-type]
                                   schedule_scale=0.01) for engine in engines]


async def until(what: str, condition: Any) -> None:
    """Waits (20 s at most) for ``condition()`` to hold."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


async def test_a_slow_attempt_keeps_its_claim_past_the_lease(
        config: MeshConfig, merchant: MerchantEndpoint,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A short lease renewed often, and a merchant slower than the lease.
    monkeypatch.setattr(notifications, "LEASE", timedelta(seconds=2))
    monkeypatch.setattr(notifications, "RENEW_SECONDS", 0.2)
    merchant.delay = 3.5
    engines, (first, second) = replicas_on(config, 2)
    records = NotifyRepository(engines[0])
    try:
        assert await records.create(record(merchant.url))
        sending = asyncio.create_task(first.deliver_due(10))
        await until("the first attempt reached the merchant", lambda: merchant.received)
        await asyncio.sleep(2.5)  # past the lease it was claimed with
        leased = await records.get("N1")
        assert leased is not None and leased.next_attempt_at is not None
        assert leased.next_attempt_at > utc_now()  # renewed meanwhile
        assert await second.deliver_due(10) == (0, 0)  # still claimed: not sent twice
        assert await sending == (1, 1)
        assert len(merchant.received) == 1
        stored = await records.get("N1")
        assert stored is not None and (stored.state, stored.attempts) == (NotifyState.SUCCESS, 1)
    finally:
        for replica in (first, second):
            await replica.stop()
        for engine in engines:
            await engine.dispose()


async def test_an_attempt_interrupted_by_a_stop_is_due_again_at_once(
        config: MeshConfig, merchant: MerchantEndpoint) -> None:
    merchant.delay = 30.0  # never answers before the gateway stops
    engines, (stopping, other) = replicas_on(config, 2)
    records = NotifyRepository(engines[0])
    try:
        assert await records.create(record(merchant.url))
        stopping.start()  # its own loop takes the due record
        await until("the attempt reached the merchant", lambda: merchant.received)
        await stopping.stop()
        interrupted = await records.get("N1")
        assert interrupted is not None and interrupted.next_attempt_at is not None
        assert interrupted.attempts == 1  # counted, not logged
        assert interrupted.next_attempt_at <= utc_now()  # not held for a lease
        merchant.delay = 0.0
        assert await other.deliver_due(10) == (1, 1)
        assert len(merchant.received) == 2
    finally:
        await other.stop()
        for engine in engines:
            await engine.dispose()


def test_a_crashed_attempt_is_due_again_within_seconds() -> None:
    # A replica killed mid-attempt cannot give its claim back: the lease bounds the wait.
    assert notifications.LEASE <= timedelta(seconds=10)
    assert notifications.RENEW_SECONDS < notifications.LEASE.total_seconds() / 2
