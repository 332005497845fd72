"""Runs the registry's jobs on an APScheduler AsyncIOScheduler, once per turn across processes.

Several jobs processes may run (one per node). Every process ticks at the same wall-clock moments
(multiples of the interval since ALIGNED_EPOCH), and a turn is run by the process that wins it in
the shared state:

1. the leader lock ``jobs:leader:<name>`` (set_if_absent, released with delete_if_equals after
   the run, expiring on its own if the process dies) keeps two runs of a job from overlapping;
2. the turn claim ``jobs:turn:<name>:<n>`` keeps a process whose tick came a moment later from
   running the same turn again once the lock is released.

While the shared state is unavailable (Redis down or slow: ``SharedStateUnavailable``, at once
while its circuit breaker is open) no process can win a turn, so every process skips its turns
until it answers again, counted as ``paymesh_shared_state_degraded{use="job_turn"}``; the
breaker logs the outage once. Running without the lock instead could run a turn on every node
at once. A lock that cannot be released when the run ends expires by itself.

Each run that happens is its own trace: a new root span ``job <name>``, under which the gRPC
client spans of the RPCs it makes follow into the gateway. Each run is also counted by job and
outcome, with its duration, in the process's metrics (common.metrics.job_instruments).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from paymesh.jobs.registry import Job, JobStubs
from paymesh.services.common import spanattrs
from paymesh.services.common.metrics import job_instruments, shared_state_instruments
from paymesh.services.common.sharedstate import SharedState, SharedStateUnavailable

log = logging.getLogger(__name__)
ALIGNED_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# The leader lock outlives the run's own deadline by this much, then expires by itself.
LOCK_MARGIN_SECONDS = 5.0


def process_owner() -> str:
    """This process's name in the shared state: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


class JobRunner:
    """Runs a job's turn when this process wins it, inside its own root span."""

    def __init__(self, shared: SharedState, stubs: JobStubs, owner: str, run_timeout: float,
                 tracer: trace.Tracer | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._shared = shared
        self._stubs = stubs
        self._owner = owner
        self._run_timeout = run_timeout
        self._tracer = tracer or trace.get_tracer("paymesh.jobs")
        self._clock = clock
        self._running: set[asyncio.Task[object]] = set()

    async def run(self, job: Job) -> bool:
        """Runs this turn of ``job`` if no other process does; True when it ran here.

        False too when the shared state cannot say who wins: the turn is skipped.
        """
        lock = f"jobs:leader:{job.name}"
        try:
            if not await self._shared.set_if_absent(lock, self._owner,
                                                    self._run_timeout + LOCK_MARGIN_SECONDS):
                return False
        except SharedStateUnavailable:
            return self._skipped(job)
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            turn = int((self._clock() - ALIGNED_EPOCH.timestamp()) / job.interval + 1e-3)
            try:
                if not await self._shared.set_if_absent(f"jobs:turn:{job.name}:{turn}",
                                                        self._owner,
                                                        2 * job.interval + LOCK_MARGIN_SECONDS):
                    return False  # another process ran this turn a moment ago
            except SharedStateUnavailable:
                return self._skipped(job)
            await self._traced(job, turn)
            return True
        finally:
            if task is not None:
                self._running.discard(task)
            with contextlib.suppress(SharedStateUnavailable):  # then it expires by itself
                await self._shared.delete_if_equals(lock, self._owner)

    @staticmethod
    def _skipped(job: Job) -> bool:
        _, _, degraded = shared_state_instruments()
        degraded.labels("job_turn").inc()
        log.debug("job %s: turn skipped, the shared state is unavailable", job.name)
        return False

    async def _traced(self, job: Job, turn: int) -> None:
        runs, duration, last_ok = job_instruments()
        started = time.perf_counter()
        with self._tracer.start_as_current_span(
                f"job {job.name}", context=otel_context.Context(), kind=SpanKind.INTERNAL,
                record_exception=False, set_status_on_exception=False,
                attributes=spanattrs.checked({"paymesh.job": job.name, "paymesh.job.turn": turn,
                                              "paymesh.job.owner": self._owner})) as span:
            try:
                async with asyncio.timeout(self._run_timeout):
                    await job.run(self._stubs)
            except Exception as error:  # noqa: BLE001 - the next turn tries again
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                log.warning("job %s failed: %s", job.name, _describe(error))
                runs.labels(job.name, "failed").inc()
            else:
                runs.labels(job.name, "ok").inc()
                last_ok.labels(job.name).set(time.time())
            finally:
                duration.labels(job.name).observe(time.perf_counter() - started)

    async def drain(self, grace: float) -> None:
        """Waits up to ``grace`` seconds for the runs in flight to finish."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace)


def _describe(error: Exception) -> str:
    code = getattr(error, "code", None)
    details = getattr(error, "details", None)
    if callable(code) and callable(details):  # a gRPC error: its status, not its debug string
        return f"{code().name}: {details()}"
    return f"{type(error).__name__}: {error}"


def build_scheduler(jobs: Sequence[Job], runner: JobRunner) -> AsyncIOScheduler:
    """A scheduler (not started) ticking every job on the shared, aligned schedule."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job in jobs:
        scheduler.add_job(runner.run, IntervalTrigger(seconds=job.interval,
                                                      start_date=ALIGNED_EPOCH, timezone=UTC),
                          args=[job], id=job.name, name=job.name, max_instances=1,
                          coalesce=True, misfire_grace_time=None)
    return scheduler
