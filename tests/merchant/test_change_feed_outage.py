"""The config-change feed while Redis is down: it never leaves a watcher caching a change it
missed, and the merchant service keeps serving the gateways."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import REGISTRY

from paymesh.common.v1 import common_pb2
from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import DomainError, reason_of
from paymesh.services.common.sharedstate import InProcessState, SharedStateUnavailable
from paymesh.services.gateway.pay_context import PayContextCache
from paymesh.services.merchant.changes import ConfigChange, ConfigChangeFeed
from paymesh.services.merchant.server import create
from tests.common.redis_outage import closed_port

DISABLED = common_pb2.ENTITY_STATE_DISABLED


class FlakyState(InProcessState):
    """An in-process state whose publishing fails on demand, as Redis's does when it is away."""

    def __init__(self) -> None:
        super().__init__()
        self.failing = False

    async def publish(self, topic: str, message: str) -> None:
        if self.failing and "ping" not in json.loads(message):
            raise SharedStateUnavailable("shared state publish: ConnectionError")
        await super().publish(topic, message)


async def open_watch(feed: ConfigChangeFeed) -> tuple[asyncio.Queue[ConfigChange | None],
                                                      asyncio.Task[None]]:
    """A watcher draining ``feed`` into a queue (None once the stream ended), ready."""
    heard: asyncio.Queue[ConfigChange | None] = asyncio.Queue()
    ready = asyncio.Event()

    async def on_ready() -> None:
        ready.set()

    async def drain() -> None:
        async for change in feed.watch(on_ready):
            heard.put_nowait(change)
        heard.put_nowait(None)

    task = asyncio.create_task(drain())
    await asyncio.wait_for(ready.wait(), 5)
    return heard, task


async def test_a_change_that_cannot_be_announced_ends_every_open_stream() -> None:
    shared = FlakyState()
    feed = ConfigChangeFeed(shared)
    streams = [await open_watch(feed) for _ in range(2)]
    await feed.announce(ConfigChange("app-1", "M1"))
    for heard, _ in streams:
        assert await asyncio.wait_for(heard.get(), 5) == ConfigChange("app-1", "M1")

    shared.failing = True
    await feed.announce(ConfigChange("app-2", "M1"))  # committed, but nobody can hear it
    for heard, task in streams:
        assert await asyncio.wait_for(heard.get(), 5) is None  # ended: the watcher resyncs
        await task

    shared.failing = False  # and a new stream hears changes again
    heard, task = await open_watch(feed)
    await feed.announce(ConfigChange("app-3", "M1"))
    assert await asyncio.wait_for(heard.get(), 5) == ConfigChange("app-3", "M1")
    feed.end_watches()
    assert await asyncio.wait_for(heard.get(), 5) is None
    await task


async def test_a_stream_cannot_start_while_the_shared_state_is_unavailable() -> None:
    class Down(InProcessState):
        async def subscribe(self, topic: str) -> AsyncIterator[str]:
            raise SharedStateUnavailable("shared state subscribe: ConnectionError")
            yield ""  # an async generator, like the real ones

    feed = ConfigChangeFeed(Down())
    ready: list[bool] = []

    async def on_ready() -> None:
        ready.append(True)

    with pytest.raises(DomainError) as caught:
        async for _ in feed.watch(on_ready):
            pass
    assert caught.value.reason == "SHARED_STATE_UNAVAILABLE"
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert ready == []  # the watcher never believed it was following changes


async def test_the_merchant_service_serves_the_gateway_with_redis_unreachable(
        config: MeshConfig) -> None:
    down = dataclasses.replace(config,
                               shared_state_url=f"redis://127.0.0.1:{closed_port()}/0")
    running = await create(down, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = merchant_pb2_grpc.MerchantServiceStub(channel)
            created = await stub.CreateMerchant(pb.CreateMerchantRequest(name="Shop",
                                                                         contact="a@b.cn"))
            # a change commits although it cannot be announced
            await stub.SetAppState(pb.SetAppStateRequest(app_id=created.app.app_id,
                                                         state=DISABLED))
            context = await stub.ResolvePayContext(
                pb.ResolvePayContextRequest(app_id=created.app.app_id), timeout=5)
            assert (context.app.app_id, context.app.state) == (created.app.app_id, DISABLED)
            watch = stub.WatchConfigChanges(pb.WatchConfigChangesRequest())
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await asyncio.wait_for(watch.read(), 5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert reason_of(caught.value) == "SHARED_STATE_UNAVAILABLE"

            # the gateway's cache: it resolves every request, and retries the stream backing off
            contexts = PayContextCache(stub)
            watches, resolves = served("WatchConfigChanges"), served("ResolvePayContext")
            contexts.start()
            try:
                for _ in range(2):
                    assert (await contexts.get(created.app.app_id)) is not None
                assert served("ResolvePayContext") - resolves == 2  # nothing cached
                await asyncio.sleep(2.0)
            finally:
                await contexts.stop()
            attempts = served("WatchConfigChanges") - watches
            assert 2 <= attempts <= 5, attempts  # 0.2 s, 0.4 s, 0.8 s... apart, not every 0.2 s
    finally:
        await running.stop(grace=1.0)


def served(method: str) -> float:
    code = "UNAVAILABLE" if method == "WatchConfigChanges" else "OK"
    return REGISTRY.get_sample_value("paymesh_rpc_requests_total", {
        "method": f"/paymesh.merchant.v1.MerchantService/{method}", "code": code}) or 0.0
