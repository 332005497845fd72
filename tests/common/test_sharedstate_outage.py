"""RedisState while Redis is away, hung, or back: it fails fast, spares Redis, and recovers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from paymesh.services.common.sharedstate import (
    CircuitBreaker,
    InProcessState,
    RedisState,
    SharedStateUnavailable,
)
from tests.common.redis_outage import RestartableRedis, closed_port

COOLDOWN = 2.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def unavailable(operation: str, why: str) -> float:
    return REGISTRY.get_sample_value("paymesh_shared_state_unavailable_total",
                                     {"operation": operation, "why": why}) or 0.0


def up() -> float | None:
    return REGISTRY.get_sample_value("paymesh_shared_state_up")


@pytest.fixture
async def hung_redis() -> AsyncIterator[int]:
    """A port that accepts connections and never answers (a Redis that hangs)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield int(server.sockets[0].getsockname()[1])
    server.close()
    for writer in held:
        writer.close()


async def test_an_unreachable_redis_fails_at_once_and_the_open_breaker_spares_it(
        caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    state = RedisState(f"redis://127.0.0.1:{closed_port()}/0", "pmtest:",
                       breaker=CircuitBreaker("test", COOLDOWN, clock))
    errors, refusals = unavailable("set_if_absent", "error"), unavailable("set_if_absent", "open")
    try:
        with caplog.at_level(logging.INFO, "paymesh.services.common.sharedstate"):
            started = time.monotonic()
            with pytest.raises(SharedStateUnavailable, match="Connect"):
                await state.set_if_absent("k", "v", 30)
            for _ in range(5):  # within the cooldown: refused without trying Redis
                with pytest.raises(SharedStateUnavailable, match="circuit breaker open"):
                    await state.set_if_absent("k", "v", 30)
            assert time.monotonic() - started < 1.0
            assert unavailable("set_if_absent", "error") == errors + 1
            assert unavailable("set_if_absent", "open") == refusals + 5
            assert up() == 0
            clock.now += COOLDOWN  # after it, one call tries again (and fails again)
            with pytest.raises(SharedStateUnavailable, match="Connect"):
                await state.get("k")
            with pytest.raises(SharedStateUnavailable, match="circuit breaker open"):
                await state.publish("topic", "m")
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1, "one warning per outage, not per call"
        assert "unavailable" in warnings[0].getMessage()
    finally:
        await state.close()


async def test_a_hung_redis_costs_a_call_its_timeout_not_more(hung_redis: int) -> None:
    state = RedisState(f"redis://127.0.0.1:{hung_redis}/0", "pmtest:", call_timeout=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(SharedStateUnavailable, match="Timeout"):
            await state.set_if_absent("k", "v", 30)
        assert time.monotonic() - started < 1.5
        started = time.monotonic()
        with pytest.raises(SharedStateUnavailable, match="circuit breaker open"):
            await state.set_if_absent("k", "v", 30)
        assert time.monotonic() - started < 0.1
    finally:
        await state.close()


async def test_a_subscription_to_an_unreachable_redis_fails() -> None:
    state = RedisState(f"redis://127.0.0.1:{closed_port()}/0", "pmtest:")
    try:
        with pytest.raises(SharedStateUnavailable):
            await anext(state.subscribe("topic"))
    finally:
        await state.close()


async def test_redis_is_used_again_once_it_is_back_and_an_outage_is_logged_once(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    async with RestartableRedis(tmp_path) as redis:
        state = RedisState(redis.url, redis.prefix, breaker=CircuitBreaker("test", COOLDOWN,
                                                                           clock))
        try:
            with caplog.at_level(logging.INFO, "paymesh.services.common.sharedstate"):
                with pytest.raises(SharedStateUnavailable):
                    await state.set_if_absent("before", "v", 30)
                await redis.start()
                with pytest.raises(SharedStateUnavailable, match="circuit breaker open"):
                    await state.set_if_absent("before", "v", 30)  # not tried yet: cooldown
                clock.now += COOLDOWN
                assert await state.set_if_absent("after", "v", 30) is True
                assert await state.set_if_absent("after", "v", 30) is False
                assert await redis.keys() == {"after"}
                assert up() == 1
                await redis.stop()  # down again while in use
                with pytest.raises(SharedStateUnavailable):
                    await state.set_if_absent("during", "v", 30)
                await redis.start()
                clock.now += COOLDOWN
                assert await state.set_if_absent("again", "v", 30) is True
                assert "again" in await redis.keys()
            levels = [(r.levelno, r.getMessage()) for r in caplog.records]
            assert [level for level, _ in levels] == [logging.WARNING, logging.INFO] * 2
            assert "answers again" in levels[1][1]
        finally:
            await state.close()


async def test_a_cancelled_probe_lets_the_next_call_probe() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("test", COOLDOWN, clock)
    breaker.failed(ConnectionError("refused"))
    clock.now += COOLDOWN
    assert breaker.allow() is True  # the probe
    assert breaker.allow() is False  # one at a time
    breaker.abandoned()
    assert breaker.allow() is True
    breaker.succeeded()
    assert breaker.closed and breaker.allow() is True


async def test_the_in_process_state_stays_fast_with_many_live_entries() -> None:
    state = InProcessState()
    started = time.perf_counter()
    for n in range(60_000):  # a busy replay window: every entry still live
        assert await state.set_if_absent(f"k{n}", "1", 600)
    assert time.perf_counter() - started < 5.0  # a sweep on every insert took minutes
    assert await state.set_if_absent("k59999", "1", 600) is False


async def test_after_a_restart_the_dead_pooled_connections_are_replaced_without_an_error(
        tmp_path: Path) -> None:
    async with RestartableRedis(tmp_path) as redis:
        await redis.start()
        state = RedisState(redis.url, redis.prefix)
        try:
            await asyncio.gather(*(state.set_if_absent(f"k{n}", "v", 30) for n in range(3)))
            await redis.stop()
            await redis.start()
            for n in range(3):  # each pooled connection is dead: each is replaced at once
                assert await state.set_if_absent(f"again{n}", "v", 30) is True
        finally:
            await state.close()


async def test_a_subscription_whose_connection_is_lost_ends_instead_of_resubscribing(
        tmp_path: Path) -> None:
    async with RestartableRedis(tmp_path) as redis:
        await redis.start()
        state = RedisState(redis.url, redis.prefix)
        messages = state.subscribe("topic")
        try:
            pending = asyncio.ensure_future(anext(messages))
            async with asyncio.timeout(5):
                while not pending.done():  # subscribing is asynchronous
                    await state.publish("topic", "hello")
                    await asyncio.sleep(0.02)
            assert pending.result() == "hello"
            killer = aioredis.from_url(redis.url)
            try:  # Redis stays up; only the subscriber's connection is cut
                assert await killer.client_kill_filter(_type="pubsub") >= 1
            finally:
                await killer.aclose()
            with pytest.raises(SharedStateUnavailable):
                async with asyncio.timeout(5):
                    while True:
                        await anext(messages)
        finally:
            await messages.aclose()  # type: ignore[attr-defined]
            await state.close()
