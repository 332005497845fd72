"""The jobs runner while Redis is down: turns are skipped, nothing raises, and they run again
once it is back."""

from __future__ import annotations

import asyncio
from pathlib import Path

from prometheus_client import REGISTRY

from paymesh.jobs.registry import Job, JobStubs
from paymesh.jobs.runner import JobRunner, build_scheduler
from paymesh.services.common.sharedstate import CircuitBreaker, RedisState
from tests.common.redis_outage import RestartableRedis, closed_port

COOLDOWN = 2.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stubs() -> JobStubs:
    return JobStubs(sweeps="a", notifications="a", ledger="a")  # type: ignore[arg-type]


def skipped_turns() -> float:
    return REGISTRY.get_sample_value("paymesh_shared_state_degraded_total",
                                     {"use": "job_turn"}) or 0.0


async def test_turns_are_skipped_while_redis_is_unreachable_without_raising() -> None:
    shared = RedisState(f"redis://127.0.0.1:{closed_port()}/0", "pmtest:")
    runs: list[str] = []

    async def record(_: JobStubs) -> None:
        runs.append("ran")

    job = Job("record", 0.1, record)
    runner = JobRunner(shared, stubs(), "a", 5.0)
    before = skipped_turns()
    try:
        for _ in range(3):
            assert await runner.run(job) is False
        assert runs == [] and skipped_turns() == before + 3
        # on the scheduler too: it keeps ticking, nothing runs, nothing spins
        scheduler = build_scheduler([job], runner)
        scheduler.start()
        await asyncio.sleep(0.55)
        scheduler.shutdown(wait=False)
        assert runs == []
        assert 1 <= skipped_turns() - before - 3 <= 8  # one per tick (about 5)
    finally:
        await shared.close()


async def test_turns_run_again_once_redis_is_back_and_a_lock_left_behind_is_harmless(
        tmp_path: Path) -> None:
    clock = FakeClock()
    runs: list[str] = []
    async with RestartableRedis(tmp_path) as redis:
        shared = RedisState(redis.url, redis.prefix,
                            breaker=CircuitBreaker("test", COOLDOWN, clock))
        stopping: list[RestartableRedis] = []

        async def record(_: JobStubs) -> None:
            runs.append("ran")
            if stopping:  # Redis goes away while the job runs: the lock cannot be released
                await stopping.pop().stop()

        job = Job("record", 60.0, record)
        runner = JobRunner(shared, stubs(), "a", 5.0)
        try:
            assert await runner.run(job) is False
            await redis.start()
            clock.now += COOLDOWN
            assert await runner.run(job) is True
            assert runs == ["ran"]
            assert "jobs:leader:record" not in await redis.keys()  # released after the run

            stopping.append(redis)
            runs.clear()
            other = Job("other", 60.0, record)
            assert await runner.run(other) is True  # ran, then could not release its lock
            assert runs == ["ran"]
            assert await runner.run(other) is False  # skipped while Redis is away
        finally:
            await shared.close()
