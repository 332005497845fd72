"""The registry's jobs call the gateway as configured; configuration fails fast on bad values."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from paymesh.gateway.v1 import gateway_pb2
from paymesh.jobs.config import JobsConfig
from paymesh.jobs.registry import Job, JobStubs, registry
from paymesh.services.common.config import ConfigError


class FakeGateway:
    """Answers every RPC the jobs make, recording the requests; one may raise instead."""

    def __init__(self, notify_error: grpc.StatusCode | None = None) -> None:
        self.requests: list[tuple[str, Any, float | None]] = []
        self._notify_error = notify_error

    def _record(self, name: str, request: Any, timeout: float | None) -> None:
        self.requests.append((name, request, timeout))

    async def SweepPayingOrders(self, request: Any, timeout: float | None = None) -> Any:
        self._record("SweepPayingOrders", request, timeout)
        return gateway_pb2.SweepPayingOrdersResponse(examined=2, settled=1)

    async def ExpireOrders(self, request: Any, timeout: float | None = None) -> Any:
        self._record("ExpireOrders", request, timeout)
        return gateway_pb2.ExpireOrdersResponse()

    async def SweepPendingRefunds(self, request: Any, timeout: float | None = None) -> Any:
        self._record("SweepPendingRefunds", request, timeout)
        return gateway_pb2.SweepPendingRefundsResponse()

    async def DeliverDueNotifications(self, request: Any, timeout: float | None = None) -> Any:
        self._record("DeliverDueNotifications", request, timeout)
        if self._notify_error is not None:
            raise grpc.aio.AioRpcError(self._notify_error, grpc.aio.Metadata(),
                                       grpc.aio.Metadata(), "not here")
        return gateway_pb2.DeliverDueNotificationsResponse(attempted=1, succeeded=1)


def stubs_of(gateway: FakeGateway) -> JobStubs:
    return JobStubs(sweeps=gateway, notifications=gateway)  # type: ignore[arg-type]


def by_name(jobs: list[Job]) -> dict[str, Job]:
    return {job.name: job for job in jobs}


async def test_every_job_calls_its_rpc_with_the_configured_values() -> None:
    config = JobsConfig(sweep_paying_interval=2, paying_age_seconds=90, expire_interval=3,
                        refund_interval=4, notify_interval=6, batch=50, run_timeout=30)
    jobs = registry(config)
    assert [(j.name, j.interval) for j in jobs] == [
        ("sweep_paying_orders", 2), ("expire_orders", 3), ("sweep_pending_refunds", 4),
        ("deliver_notifications", 6)]
    gateway = FakeGateway()
    for job in jobs:
        await job.run(stubs_of(gateway))
    assert [(name, timeout) for name, _, timeout in gateway.requests] == [
        ("SweepPayingOrders", 30), ("ExpireOrders", 30), ("SweepPendingRefunds", 30),
        ("DeliverDueNotifications", 30)]
    sweep = gateway.requests[0][1]
    assert (sweep.older_than_seconds, sweep.limit) == (90, 50)
    assert all(request.limit == 50 for _, request, _ in gateway.requests)


async def test_notifications_not_implemented_yet_mean_nothing_to_do() -> None:
    job = by_name(registry(JobsConfig()))["deliver_notifications"]
    await job.run(stubs_of(FakeGateway(grpc.StatusCode.UNIMPLEMENTED)))  # no error


async def test_other_notification_errors_fail_the_run() -> None:
    job = by_name(registry(JobsConfig()))["deliver_notifications"]
    with pytest.raises(grpc.aio.AioRpcError):
        await job.run(stubs_of(FakeGateway(grpc.StatusCode.UNAVAILABLE)))


def test_config_defaults_and_environment() -> None:
    assert JobsConfig.from_env({}) == JobsConfig()
    assert JobsConfig() == JobsConfig(5.0, 60, 30.0, 60.0, 5.0, 200, 120.0)
    config = JobsConfig.from_env({"PAYMESH_JOBS_SWEEP_PAYING_INTERVAL": "1",
                                  "PAYMESH_JOBS_PAYING_AGE": "1",
                                  "PAYMESH_JOBS_EXPIRE_INTERVAL": "0.5",
                                  "PAYMESH_JOBS_REFUND_INTERVAL": "2",
                                  "PAYMESH_JOBS_NOTIFY_INTERVAL": "3",
                                  "PAYMESH_JOBS_BATCH": "10",
                                  "PAYMESH_JOBS_RUN_TIMEOUT": "15"})
    assert config == JobsConfig(1.0, 1, 0.5, 2.0, 3.0, 10, 15.0)


@pytest.mark.parametrize(("name", "value"), [
    ("PAYMESH_JOBS_SWEEP_PAYING_INTERVAL", "0"), ("PAYMESH_JOBS_EXPIRE_INTERVAL", "-1"),
    ("PAYMESH_JOBS_REFUND_INTERVAL", "soon"), ("PAYMESH_JOBS_NOTIFY_INTERVAL", "nan"),
    ("PAYMESH_JOBS_PAYING_AGE", "1.5"), ("PAYMESH_JOBS_PAYING_AGE", "0"),
    ("PAYMESH_JOBS_BATCH", "0"), ("PAYMESH_JOBS_BATCH", "1001"),
    ("PAYMESH_JOBS_RUN_TIMEOUT", "inf")])
def test_config_refuses_bad_values_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        JobsConfig.from_env({name: value})
