"""``python -m paymesh.jobs``: the scheduler process that drives the mesh's periodic work.

It only calls RPCs (the gateway's OrderSweepService and NotificationService, the account
service's SettleDue, the merchant's ResolveChannelConfigs and the reconciliation service's
RunBatch), so it holds no database connection and any number of copies may run: each turn of
each job runs once, in the copy that wins it in the shared state (see runner.py).

Health: the process writes a heartbeat file, ``<data dir>/jobs.heartbeat`` holding its pid and
the time, once its scheduler is running and every HEARTBEAT_SECONDS after; ``paymesh up`` takes
"alive and has written its heartbeat" as healthy. A gRPC health service would say no more, since
the jobs process serves nothing. The file is removed on a clean stop.

SIGTERM or SIGINT stops it gracefully: no new turn starts, runs in flight get GRACE_SECONDS to
finish (their leader locks are released), then the connections close.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from apscheduler.triggers.interval import IntervalTrigger

from paymesh.jobs.config import JobsConfig
from paymesh.jobs.heartbeat import HEARTBEAT_FILE, Heartbeat
from paymesh.jobs.registry import JobStubs, registry
from paymesh.jobs.runner import JobRunner, build_scheduler, process_owner
from paymesh.services.common import eventloop
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.logs import setup_logging
from paymesh.services.common.metrics import serve_metrics
from paymesh.services.common.sharedstate import open_shared_state
from paymesh.services.common.telemetry import setup_tracing

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 10.0
GRACE_SECONDS = 10.0


async def serve(mesh: MeshConfig, config: JobsConfig) -> None:
    """Schedules every job until SIGTERM or SIGINT, then stops gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    gateway = open_channel(mesh.addrs["gateway"])
    account = open_channel(mesh.addrs["account"])
    merchant = open_channel(mesh.addrs["merchant"])
    reconciliation = open_channel(mesh.addrs["reconciliation"])
    shared = open_shared_state(mesh.shared_state_url, mesh.shared_state_prefix)
    runner = JobRunner(shared, JobStubs.on(gateway, account, merchant, reconciliation),
                       process_owner(), config.run_timeout)
    jobs = registry(config)
    scheduler = build_scheduler(jobs, runner)
    heartbeat = Heartbeat(mesh.data_dir / HEARTBEAT_FILE)
    scheduler.add_job(heartbeat.beat, IntervalTrigger(seconds=HEARTBEAT_SECONDS),
                      id="heartbeat", name="heartbeat")
    metrics = await serve_metrics("jobs", mesh)  # runs by job and outcome (docs/operations.md)
    scheduler.start()
    heartbeat.beat()
    log.info("scheduling %s", ", ".join(f"{job.name} every {job.interval:g} s" for job in jobs))
    try:
        await stopping.wait()
        log.info("stopping: letting runs in flight finish")
        scheduler.pause()
        await runner.drain(GRACE_SECONDS)
    finally:
        scheduler.shutdown(wait=False)
        heartbeat.remove()
        if metrics is not None:
            await metrics.close()
        await gateway.close()
        await account.close()
        await merchant.close()
        await reconciliation.close()
        await shared.close()


def main() -> None:
    """Entry point of ``python -m paymesh.jobs``."""
    setup_logging("jobs")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every run at INFO
    mesh = MeshConfig.from_env()
    config = JobsConfig.from_env()
    provider = setup_tracing("jobs", mesh.data_dir)
    try:
        eventloop.run(serve(mesh, config))
    finally:
        provider.shutdown()  # flushes the spans still batched
