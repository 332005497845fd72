"""The one registry of periodic jobs: each a typed ``async def job(stubs) -> None``.

A job only calls RPCs (the gateway owns the orders; the jobs process opens no database) and says
what the run did on its span. Which process runs a turn, and the span itself, are the runner's
concern (see runner.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
from opentelemetry import trace

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.jobs.config import JobsConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobStubs:
    """The RPC clients jobs call."""

    sweeps: gateway_pb2_grpc.OrderSweepServiceStub
    notifications: gateway_pb2_grpc.NotificationServiceStub

    @classmethod
    def on(cls, gateway: grpc.aio.Channel) -> JobStubs:
        """Stubs over one channel to the gateway."""
        return cls(gateway_pb2_grpc.OrderSweepServiceStub(gateway),
                   gateway_pb2_grpc.NotificationServiceStub(gateway))


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


def registry(config: JobsConfig) -> list[Job]:
    """Every job of the jobs process, with its interval from ``config``."""
    deadline = config.run_timeout

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
        """Refunds pending at the channel are settled; ones it never took close after 2 h."""
        done = await stubs.sweeps.SweepPendingRefunds(gateway_pb2.SweepPendingRefundsRequest(
            limit=config.batch), timeout=deadline)
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

    return [
        Job("sweep_paying_orders", config.sweep_paying_interval, sweep_paying_orders),
        Job("expire_orders", config.expire_interval, expire_orders),
        Job("sweep_pending_refunds", config.refund_interval, sweep_pending_refunds),
        Job("deliver_notifications", config.notify_interval, deliver_notifications),
    ]
