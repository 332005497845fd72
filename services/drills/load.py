"""One drill run: a fresh merchant, its endpoint, the staged load, quiescence and the audit.

Crash and fault drills run the same thing with a side task (``during``) that attacks the mesh
while the load runs; the load waits for it before it drains.

Quiescence: after the last journey, the jobs still settle what the load left pending (callbacks
that were lost, notifications being retried, ledger postings behind the outbox). The audit is
run again every two seconds until it is clean or the bound (``--quiesce``) has passed; the
last audit is the verdict, and the time it took to become clean is printed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import grpc
import httpx

from paymesh.services.drills.audit import Auditor, AuditResult
from paymesh.services.drills.client import ATTEMPT_TIMEOUT, DrillClient, Stats
from paymesh.services.drills.endpoint import MerchantEndpoint
from paymesh.services.drills.target import Target
from paymesh.services.drills.tenant import WAY_CODES, Tenant, create_tenant
from paymesh.services.drills.workload import (
    SETTLE_SECONDS,
    ClientOrder,
    Mix,
    Payer,
    StageResult,
    Workload,
    pay_on_sandbox_page,
)

AUDIT_PAUSE = 2.0


@dataclass
class LoadOptions:
    """What to drive and how long to wait for the mesh to settle."""

    stages: list[tuple[float, float]]
    quiesce: float = 60.0  # seconds the audit may take to become clean
    seed: int | None = None
    mix: Mix = field(default_factory=Mix)
    retry_for: float = 30.0  # seconds a call with an unknown outcome is retried
    way_codes: tuple[str, ...] = WAY_CODES

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.stages)


@dataclass
class Session:
    """A drill in progress, for side tasks that attack the mesh meanwhile."""

    target: Target
    tenant: Tenant
    endpoint: MerchantEndpoint
    client: DrillClient
    workload: Workload
    began: float  # time.monotonic() when the load started


@dataclass
class LoadResult:
    """Everything a report needs."""

    seed: int
    stats: Stats
    stages: list[StageResult]
    audit: AuditResult | None
    audit_error: str = ""
    began: float = 0.0
    load_ended: float = 0.0
    quiesced_after: float | None = None  # seconds after the load until the audit was clean
    audit_passes: int = 0
    left_running: int = 0  # journeys still running when the drain gave up
    resolved: int = 0  # unknown outcomes the client resolved by asking afterwards
    orders: int = 0
    refunds: int = 0
    notices: int = 0
    waited_for: list[str] = field(default_factory=list)  # what the first audit still missed
    audit_book: list[ClientOrder] = field(default_factory=list)  # the client's orders
    platform_states: dict[str, int] = field(default_factory=dict)  # filled by fault drills

    @property
    def passed(self) -> bool:
        return (self.audit is not None and self.audit.clean and not self.audit_error
                and self.left_running == 0)


Prepare = Callable[[Tenant], Awaitable[None]]
During = Callable[[Session], Awaitable[None]]


async def run_load(target: Target, options: LoadOptions, *, label: str = "load",
                   during: During | None = None, payer: Payer = pay_on_sandbox_page,
                   prepare: Prepare | None = None, channel_keys: tuple[str, ...] = ("sandbox",),
                   sandbox_way_codes: tuple[str, ...] | None = None) -> LoadResult:
    """Runs the staged load (and ``during`` beside it), then waits for a clean audit.

    The drill's merchant gets sandbox passages for ``sandbox_way_codes`` (default: every
    wayCode of the load); ``prepare`` may route others through a real channel."""
    tenant = await create_tenant(target.config, label, tuple(dict.fromkeys(
        options.way_codes if sandbox_way_codes is None else sandbox_way_codes)))
    if prepare is not None:
        await prepare(tenant)
    endpoint = MerchantEndpoint(tenant.secret)
    started_at = datetime.now(UTC)
    stats = Stats()
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    try:
        async with httpx.AsyncClient(limits=limits) as http:
            client = DrillClient(target.rest_url, tenant.credentials, http, stats,
                                 options.retry_for)
            workload = Workload(client, f"http://127.0.0.1:{endpoint.port}",
                                way_codes=options.way_codes, mix=options.mix,
                                seed=options.seed, payer=payer, label=label[0].upper())
            began = time.monotonic()
            session = Session(target, tenant, endpoint, client, workload, began)
            side = asyncio.create_task(during(session)) if during is not None else None
            try:
                await workload.run(options.stages)
                if side is not None:
                    await side
            finally:
                if side is not None and not side.done():
                    side.cancel()
            load_ended = time.monotonic()
            # A journey makes a few calls, each retried for up to retry_for (plus one attempt).
            left = await workload.drain(max(120.0, 3 * (options.retry_for + ATTEMPT_TIMEOUT)
                                            + SETTLE_SECONDS))
            resolved = await workload.resolve_unknowns()
            result = LoadResult(workload.seed, stats, workload.stages, None, began=began,
                                load_ended=load_ended, left_running=left, resolved=resolved)
            auditor = Auditor(target.config, tenant, endpoint, started_at, channel_keys,
                              target.env)
            await _quiesce(auditor, workload, options.quiesce, result)
            result.orders = len(workload.book.orders)
            result.audit_book = list(workload.book.orders.values())
            result.refunds = len(workload.book.refunds())
            result.notices = endpoint.count()
            return result
    finally:
        endpoint.close()


async def _quiesce(auditor: Auditor, workload: Workload, bound: float,
                   result: LoadResult) -> None:
    began = time.monotonic()
    while True:
        result.audit_passes += 1
        try:
            result.audit = await auditor.audit(workload.book)
            result.audit_error = ""
        except grpc.aio.AioRpcError as error:  # a service still coming back
            result.audit_error = f"{error.code().name}: {error.details()}"
        if result.audit is not None and result.audit.clean and not result.audit_error:
            result.quiesced_after = time.monotonic() - began
            return
        if result.audit_passes == 1:
            result.waited_for = [f"{row.name}: {example}" for row in result.audit.rows
                                 for example in row.examples] if result.audit else []
            result.waited_for += [result.audit_error] if result.audit_error else []
        if time.monotonic() - began > bound:
            return
        await asyncio.sleep(AUDIT_PAUSE)
