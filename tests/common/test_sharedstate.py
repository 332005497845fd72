"""One contract for both SharedState implementations: in-process and Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from paymesh.services.common.sharedstate import (
    InProcessState,
    RedisState,
    SharedState,
    open_shared_state,
)
from tests.conftest import require_server

REDIS_URL = "redis://127.0.0.1:6379/0"
SHORT_TTL = 0.2


@pytest.fixture(params=["memory", "redis"])
async def state(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "memory":
        memory = InProcessState()
        yield memory
        await memory.close()
        return
    require_server("Redis", "127.0.0.1", 6379)
    prefix = f"pmtest:{secrets.token_hex(8)}:"
    shared = RedisState(REDIS_URL, prefix=prefix)
    try:
        yield shared
    finally:
        await shared.close()
        cleaner = aioredis.from_url(REDIS_URL)
        try:
            keys = [key async for key in cleaner.scan_iter(match=prefix + "*")]
            if keys:
                await cleaner.delete(*keys)
        finally:
            await cleaner.aclose()


def key() -> str:
    return f"k-{secrets.token_hex(4)}"


async def test_set_if_absent_stores_once(state: SharedState) -> None:
    name = key()
    assert await state.set_if_absent(name, "first", 30) is True
    assert await state.set_if_absent(name, "second", 30) is False
    assert await state.get(name) == "first"


async def test_set_if_absent_succeeds_again_after_expiry(state: SharedState) -> None:
    name = key()
    assert await state.set_if_absent(name, "first", SHORT_TTL)
    assert not await state.set_if_absent(name, "second", SHORT_TTL)
    await asyncio.sleep(SHORT_TTL + 0.1)
    assert await state.get(name) is None
    assert await state.set_if_absent(name, "third", SHORT_TTL)
    assert await state.get(name) == "third"


async def test_get_of_a_missing_key_is_none(state: SharedState) -> None:
    assert await state.get(key()) is None


async def test_delete_if_equals_only_with_the_right_value(state: SharedState) -> None:
    name = key()
    await state.set_if_absent(name, "owner-a", 30)
    assert await state.delete_if_equals(name, "owner-b") is False
    assert await state.get(name) == "owner-a"
    assert await state.delete_if_equals(name, "owner-a") is True
    assert await state.get(name) is None
    assert await state.delete_if_equals(name, "owner-a") is False
    assert await state.set_if_absent(name, "owner-b", 30)


async def test_increment_counts_and_expires_after_the_first_increment(state: SharedState) -> None:
    name = key()
    other = key()
    assert await state.increment(name, 0.5) == 1
    assert await state.increment(name, 0.5) == 2
    assert await state.increment(other, 30) == 1
    await asyncio.sleep(0.2)
    # a later increment does not push the expiry back
    assert await state.increment(name, 0.5) == 3
    assert await state.get(name) == "3"
    await asyncio.sleep(0.4)
    assert await state.get(name) is None
    assert await state.increment(name, 0.5) == 1
    assert await state.get(other) == "1"


async def _consume(state: SharedState, topic: str, into: asyncio.Queue[str]) -> None:
    async for message in state.subscribe(topic):
        into.put_nowait(message)


async def _next_not_warm_up(queue: asyncio.Queue[str]) -> str:
    while True:
        message = await queue.get()
        if not message.startswith("warm-up"):
            return message


async def test_publish_reaches_every_subscriber(state: SharedState) -> None:
    topic = f"topic-{secrets.token_hex(4)}"
    inboxes: list[asyncio.Queue[str]] = [asyncio.Queue(), asyncio.Queue()]
    tasks = [asyncio.create_task(_consume(state, topic, inbox)) for inbox in inboxes]
    try:
        async with asyncio.timeout(5):
            # subscribing is asynchronous: publish until both subscribers have heard something
            attempt = 0
            while any(inbox.empty() for inbox in inboxes):
                await state.publish(topic, f"warm-up {attempt}")
                attempt += 1
                await asyncio.sleep(0.02)
            await state.publish(f"other-{topic}", "not for you")
            await state.publish(topic, '{"mchNo":"M1700000001","event":"app.changed"}')
            for inbox in inboxes:
                received = await _next_not_warm_up(inbox)
                assert received == '{"mchNo":"M1700000001","event":"app.changed"}'
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_message_published_before_subscribing_is_not_delivered(
        state: SharedState) -> None:
    topic = f"topic-{secrets.token_hex(4)}"
    await state.publish(topic, "too early")
    inbox: asyncio.Queue[str] = asyncio.Queue()
    task = asyncio.create_task(_consume(state, topic, inbox))
    try:
        async with asyncio.timeout(5):
            while inbox.empty():
                await state.publish(topic, "warm-up")
                await asyncio.sleep(0.02)
        assert inbox.get_nowait() == "warm-up"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_open_shared_state_chooses_by_url() -> None:
    memory = open_shared_state("memory://")
    assert isinstance(memory, InProcessState)
    await memory.close()
    remote = open_shared_state("redis://127.0.0.1:6379/0", prefix="pmtest:")
    assert isinstance(remote, RedisState)
    await remote.close()  # constructing does not connect, so no server is needed here
