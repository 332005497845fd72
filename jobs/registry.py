"""The one registry of periodic jobs: each a typed ``async def job(stubs) -> None``.

A job only calls RPCs (the gateway owns the orders, the account service the ledger; the jobs
process opens no database) and says what the run did on its span. Which process runs a turn,
and the span itself, are the runner's concern (see runner.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import grpc
from opentelemetry import trace

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.jobs.config import JobsConfig
from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.reconciliation.v1 import reconciliation_pb2, reconciliation_pb2_grpc

log = logging.getLogger(__name__)
CHINA = timezone(timedelta(hours=8))  # settlement days are China Standard Time days


@dataclass(frozen=True)
class JobStubs:
    """The RPC clients jobs call."""

    sweeps: gateway_pb2_grpc.OrderSweepServiceStub
    notifications: gateway_pb2_grpc.NotificationServiceStub
    ledger: account_pb2_grpc.AccountServiceStub
    # The reconcile job's: which channel configs exist, and their batches. None: no reconcile.
    merchant: merchant_pb2_grpc.MerchantServiceStub | None = None
    reconciliation: reconciliation_pb2_grpc.ReconciliationServiceStub | None = None

    @classmethod
    def on(cls, gateway: grpc.aio.Channel, account: grpc.aio.Channel,
           merchant: grpc.aio.Channel | None = None,
           reconciliation: grpc.aio.Channel | None = None) -> JobStubs:
        """Stubs over one channel to the gateway, one to the account service, and (for the
        reconcile job) one each to the merchant and reconciliation services."""
        return cls(gateway_pb2_grpc.OrderSweepServiceStub(gateway),
                   gateway_pb2_grpc.NotificationServiceStub(gateway),
                   account_pb2_grpc.AccountServiceStub(account),
                   None if merchant is None else merchant_pb2_grpc.MerchantServiceStub(merchant),
                   None if reconciliation is None
                   else reconciliation_pb2_grpc.ReconciliationServiceStub(reconciliation))


JobFunction = Callable[[JobStubs], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """A named job and how often it runs, in seconds."""

    name: str
    interval: float
    run: JobFunction


def _report(job: str, **counts: int) -> None:
    """The run's counts on its span, and in the log when it changed something."""
    span = trace.get_current_span()
    for name, value in counts.items():
        span.set_attribute(f"paymesh.job.{name}", value)
    changed = {k: v for k, v in counts.items() if k != "examined" and k != "attempted" and v}
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    if changed:
        log.info("%s: %s", job, summary)
    else:
        log.debug("%s: %s", job, summary)


def registry(config: JobsConfig, clock: Callable[[], datetime] | None = None) -> list[Job]:
    """Every job of the jobs process, with its interval from ``config``; ``clock`` (aware
    now) decides which day the settle job settles for."""
    deadline = config.run_timeout
    now = clock or (lambda: datetime.now(UTC))

    async def sweep_paying_orders(stubs: JobStubs) -> None:
        """Orders still paying are asked about at their channel (lost callbacks, barcodes)."""
        done = await stubs.sweeps.SweepPayingOrders(gateway_pb2.SweepPayingOrdersRequest(
            older_than_seconds=config.paying_age_seconds, limit=config.batch), timeout=deadline)
        _report("sweep_paying_orders", examined=done.examined, settled=done.settled,
                cancelled=done.cancelled)

    async def expire_orders(stubs: JobStubs) -> None:
        """Orders past their expiry are closed, at the channel first."""
        done = await stubs.sweeps.ExpireOrders(gateway_pb2.ExpireOrdersRequest(
            limit=config.batch), timeout=deadline)
        _report("expire_orders", examined=done.examined, closed=done.closed, paid=done.paid)

    async def sweep_pending_refunds(stubs: JobStubs) -> None:
        """Refunds pending at the channel are settled; ones left created (state 0) by a
        request that died are resumed; ones the channel never took close after 2 h."""
        done = await stubs.sweeps.SweepPendingRefunds(gateway_pb2.SweepPendingRefundsRequest(
            limit=config.batch, stuck_after_seconds=config.refund_stuck_age_seconds),
            timeout=deadline)
        _report("sweep_pending_refunds", examined=done.examined, settled=done.settled)

    async def deliver_notifications(stubs: JobStubs) -> None:
        """Merchant notifications whose attempt is due are sent.

        A gateway that does not implement the RPC yet has nothing to deliver.
        """
        try:
            done = await stubs.notifications.DeliverDueNotifications(
                gateway_pb2.DeliverDueNotificationsRequest(limit=config.batch), timeout=deadline)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise
            log.debug("the gateway does not deliver notifications yet; nothing to do")
            return
        _report("deliver_notifications", attempted=done.attempted, succeeded=done.succeeded)

    async def settle(stubs: JobStubs) -> None:
        """Merchants' pending funds of due, reconciled days become available (T+N).

        Today is the current day in China Standard Time. With PAYMESH_SETTLEMENT_GATE
        ``reconciliation`` (the default) a day is released only once the reconciliation service
        (对账) has finished it for every active channel config, and merchants with open mistakes
        are held; with ``none`` every day before today counts as reconciled (channels without
        bills, demos).
        """
        today = now().astimezone(CHINA).date()
        held: list[str] = []
        if config.settlement_gate == "none":
            through = (today - timedelta(days=1)).isoformat()
        else:
            if stubs.reconciliation is None:
                log.debug("settle: no reconciliation service to gate settlement; nothing to do")
                return
            gate = await stubs.reconciliation.GetSettlementGate(
                reconciliation_pb2.GetSettlementGateRequest(today=today.isoformat()),
                timeout=deadline)
            if not gate.reconciled_through:
                log.debug("settle: no day is reconciled yet; nothing to settle")
                _report("settle", examined=0, postings=0, skipped=0)
                return
            through = gate.reconciled_through
            held = [blocked.mch_no for blocked in gate.blocked_merchants]
        done = await stubs.ledger.SettleDue(account_pb2.SettleDueRequest(
            today=today.isoformat(), reconciled_through=through, held_owners=held),
            timeout=deadline)
        _report("settle", examined=done.merchants_examined, postings=done.postings_made,
                skipped=len(done.skipped))

    async def reconcile(stubs: JobStubs) -> None:
        """Yesterday's reconciliation batch of every active channel config (对账), from
        PAYMESH_JOBS_RECONCILE_AT (UTC+8) on. RunBatch is idempotent: a finished batch is only
        returned, one that ended ERROR or FAIL is run again once PAYMESH_JOBS_RECONCILE_RETRY
        seconds have passed, so every tick until the day ends retries what failed.
        """
        if stubs.merchant is None or stubs.reconciliation is None:
            return
        local = now().astimezone(CHINA)
        if config.reconcile_at != "now" and local.strftime("%H:%M") < config.reconcile_at:
            return
        bill_date = (local.date() - timedelta(days=1)).isoformat()
        configs = await stubs.merchant.ResolveChannelConfigs(
            merchant_pb2.ResolveChannelConfigsRequest(), timeout=deadline)
        active = [c.channel_config_key for c in configs.channel_configs
                  if c.state == common_pb2.ENTITY_STATE_ACTIVE]
        ran = finished = failed = 0
        for key in active:
            try:
                done = await stubs.reconciliation.RunBatch(reconciliation_pb2.RunBatchRequest(
                    channel_config_key=key, bill_date=bill_date,
                    retry_after_seconds=int(config.reconcile_retry)), timeout=deadline)
            except grpc.aio.AioRpcError as error:
                failed += 1
                log.warning("reconcile %s %s: %s: %s", key, bill_date, error.code().name,
                            error.details())
                continue
            ran += done.ran
            state = done.batch.state
            if state in (reconciliation_pb2.BATCH_STATE_SUCCESS,
                         reconciliation_pb2.BATCH_STATE_NOBILL):
                finished += 1
            elif state != reconciliation_pb2.BATCH_STATE_RUNNING:
                failed += 1
                if done.ran:
                    log.warning("reconcile %s %s ended %s: %s %s (retried in %g s)", key,
                                bill_date, reconciliation_pb2.BatchState.Name(state),
                                done.batch.error_reason, done.batch.error_message,
                                config.reconcile_retry)
        _report("reconcile", examined=len(active), ran=ran, finished=finished, failed=failed)

    return [
        Job("sweep_paying_orders", config.sweep_paying_interval, sweep_paying_orders),
        Job("expire_orders", config.expire_interval, expire_orders),
        Job("sweep_pending_refunds", config.refund_interval, sweep_pending_refunds),
        Job("deliver_notifications", config.notify_interval, deliver_notifications),
        Job("settle", config.settle_interval, settle),
        Job("reconcile", config.reconcile_interval, reconcile),
    ]
