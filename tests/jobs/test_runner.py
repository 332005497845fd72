"""The jobs runner: each turn runs once across processes, in its own trace, failures contained."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from paymesh.jobs.registry import Job, JobStubs
from paymesh.jobs.runner import ALIGNED_EPOCH, JobRunner, build_scheduler
from paymesh.services.common.sharedstate import InProcessState

INTERVAL = 0.2


def turn_of(moment: float) -> int:
    return int((moment - ALIGNED_EPOCH.timestamp()) / INTERVAL + 1e-3)


def fake_stubs(name: str) -> JobStubs:
    """Stand-ins that only say which process a job ran in."""
    return JobStubs(sweeps=name, notifications=name, ledger=name)  # type: ignore[arg-type]


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


def tracer_of(exporter: InMemorySpanExporter) -> Any:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


@pytest.mark.parametrize("pause", [None, 0.0, 0.02])
async def test_two_schedulers_run_each_turn_once(pause: float | None) -> None:
    shared = InProcessState()
    runs: list[tuple[str, float]] = []

    async def record(stubs: JobStubs) -> None:
        runs.append((str(stubs.sweeps), time.time()))
        if pause is not None:  # None: done (lock released) before the other one even looks
            await asyncio.sleep(pause)

    job = Job("record", INTERVAL, record)
    schedulers = [build_scheduler([job], JobRunner(shared, fake_stubs(name), name, 5.0))
                  for name in ("a", "b")]
    for scheduler in schedulers:
        scheduler.start()
    await asyncio.sleep(6 * INTERVAL + 0.05)
    for scheduler in schedulers:
        scheduler.shutdown(wait=False)
    turns = Counter(turn_of(moment) for _, moment in runs)
    assert len(turns) >= 5, runs
    assert set(turns.values()) == {1}, turns  # no turn ran twice
    assert max(turns) - min(turns) + 1 == len(turns)  # and none was skipped


async def test_a_held_leader_lock_keeps_the_turn_from_running_and_is_released_after(
        exporter: InMemorySpanExporter) -> None:
    shared = InProcessState()
    calls: list[str] = []

    async def record(stubs: JobStubs) -> None:
        calls.append("ran")

    job = Job("record", 60.0, record)
    runner = JobRunner(shared, fake_stubs("a"), "a", 5.0, tracer_of(exporter))
    await shared.set_if_absent("jobs:leader:record", "another process", 10)
    assert await runner.run(job) is False
    assert calls == [] and exporter.get_finished_spans() == ()
    await shared.delete_if_equals("jobs:leader:record", "another process")
    assert await runner.run(job) is True
    assert calls == ["ran"]
    assert await shared.get("jobs:leader:record") is None  # released after the run
    assert await runner.run(job) is False  # the same 60 s turn never runs twice


async def test_a_failing_run_is_recorded_on_its_span_and_the_next_turn_runs(
        exporter: InMemorySpanExporter) -> None:
    shared = InProcessState()
    clock = [ALIGNED_EPOCH.timestamp() + 1000.0]
    attempts: list[int] = []

    async def flaky(stubs: JobStubs) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("gateway hiccup")

    job = Job("flaky", 1.0, flaky)
    runner = JobRunner(shared, fake_stubs("a"), "a", 5.0, tracer_of(exporter),
                       clock=lambda: clock[0])
    assert await runner.run(job) is True
    assert await shared.get("jobs:leader:flaky") is None
    clock[0] += 1.0
    assert await runner.run(job) is True
    failed, succeeded = exporter.get_finished_spans()
    assert failed.status.status_code == StatusCode.ERROR
    assert [e.name for e in failed.events] == ["exception"]
    assert succeeded.status.status_code == StatusCode.UNSET
    assert len(attempts) == 2


async def test_each_run_is_its_own_trace(exporter: InMemorySpanExporter) -> None:
    tracer = tracer_of(exporter)
    shared = InProcessState()
    clock = [ALIGNED_EPOCH.timestamp() + 1000.0]

    async def child(stubs: JobStubs) -> None:
        with tracer.start_as_current_span("rpc"):
            pass

    job = Job("traced", 1.0, child)
    runner = JobRunner(shared, fake_stubs("a"), "a", 5.0, tracer, clock=lambda: clock[0])
    with tracer.start_as_current_span("whatever was current"):
        await runner.run(job)
        clock[0] += 1.0
        await runner.run(job)
    spans = {(s.name, s.context.trace_id): s for s in exporter.get_finished_spans()}
    roots = [s for (name, _), s in spans.items() if name == "job traced"]
    assert len(roots) == 2
    assert all(root.parent is None for root in roots)
    assert roots[0].context.trace_id != roots[1].context.trace_id
    assert roots[0].attributes is not None and roots[0].attributes["paymesh.job"] == "traced"
    rpcs = [s for (name, _), s in spans.items() if name == "rpc"]
    assert {s.context.trace_id for s in rpcs} == {r.context.trace_id for r in roots}


async def test_a_run_past_its_timeout_is_cut_and_releases_the_lock(
        exporter: InMemorySpanExporter) -> None:
    shared = InProcessState()

    async def stuck(stubs: JobStubs) -> None:
        await asyncio.sleep(30)

    runner = JobRunner(shared, fake_stubs("a"), "a", 0.1, tracer_of(exporter))
    started = time.monotonic()
    assert await runner.run(Job("stuck", 60.0, stuck)) is True
    assert time.monotonic() - started < 5
    assert await shared.get("jobs:leader:stuck") is None
    [span] = exporter.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
