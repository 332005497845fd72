"""Two gateway replicas sharing one database never make the same notification attempt twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, utc_now
from paymesh.services.gateway.notifications import Notifications
from paymesh.services.gateway.notify_models import NotifyRecord, NotifyState
from paymesh.services.gateway.notify_repository import NotifyRepository
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository


class Contexts:
    """Stands in for the PayContextCache: one app, allowed to notify loopback."""

    async def get(self, app_id: str) -> PayContext:
        return PayContext(app_id=app_id, app_active=True, mch_no="M1", merchant_active=True,
                          secret="S", passages={}, allow_private_notify_url=True)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A merchant endpoint on loopback answering SUCCESS slowly, recording each request."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        received.append(await reader.readexactly(length))
        await asyncio.sleep(0.2)  # long enough for the other replica to try too
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nSUCCESS")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/notify", received
    server.close()
    await server.wait_closed()


def record(url: str) -> NotifyRecord:
    now = utc_now() - timedelta(seconds=1)
    return NotifyRecord(notify_id="N1", order_id="P1", order_type=1, mch_no="M1", app_id="A1",
                        mch_order_no="O1", notify_url=url,
                        params_json=json.dumps({"payOrderId": "P1", "sign": "X"}),
                        state=NotifyState.SENDING, attempts=0, attempt_limit=14,
                        next_attempt_at=now, created_at=now, updated_at=now)


async def test_replicas_racing_send_each_attempt_once(
        config: MeshConfig, endpoint: tuple[str, list[bytes]]) -> None:
    url, received = endpoint
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
