"""The registry's jobs call the gateway and the account service as configured; configuration
fails fast on bad values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from paymesh.account.v1 import account_pb2
from paymesh.gateway.v1 import gateway_pb2
from paymesh.jobs.config import JobsConfig
from paymesh.jobs.registry import Job, JobStubs, registry
from paymesh.reconciliation.v1 import reconciliation_pb2
from paymesh.services.common.config import ConfigError


class FakeGateway:
    """Answers every RPC the jobs make, recording the requests; one may raise instead."""

    def __init__(self, notify_error: grpc.StatusCode | None = None) -> None:
        self.requests: list[tuple[str, Any, float | None]] = []
        self._notify_error = notify_error
        self.gate = reconciliation_pb2.GetSettlementGateResponse()

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

    async def SettleDue(self, request: Any, timeout: float | None = None) -> Any:
        self._record("SettleDue", request, timeout)
        return account_pb2.SettleDueResponse(merchants_examined=3, postings_made=2)

    async def GetSettlementGate(self, request: Any, timeout: float | None = None) -> Any:
        self._record("GetSettlementGate", request, timeout)
        return self.gate


def stubs_of(gateway: FakeGateway) -> JobStubs:
    return JobStubs(sweeps=gateway, notifications=gateway, ledger=gateway,  # type: ignore[arg-type]
                    reconciliation=gateway)  # type: ignore[arg-type]


def by_name(jobs: list[Job]) -> dict[str, Job]:
    return {job.name: job for job in jobs}


async def test_every_job_calls_its_rpc_with_the_configured_values() -> None:
    config = JobsConfig(sweep_paying_interval=2, paying_age_seconds=90, expire_interval=3,
                        refund_interval=4, notify_interval=6, batch=50, run_timeout=30,
                        settle_interval=7, settlement_gate="none",
                        refund_stuck_age_seconds=45)
    jobs = registry(config)
    # Jobs with stubs of their own (reconcile) are tested beside them; these use the fake's.
    expected = [("sweep_paying_orders", 2), ("expire_orders", 3), ("sweep_pending_refunds", 4),
                ("deliver_notifications", 6), ("settle", 7)]
    names = {name for name, _ in expected}
    assert [(j.name, j.interval) for j in jobs if j.name in names] == expected
    jobs = [j for j in jobs if j.name in names]
    gateway = FakeGateway()
    for job in jobs:
        await job.run(stubs_of(gateway))
    assert [(name, timeout) for name, _, timeout in gateway.requests] == [
        ("SweepPayingOrders", 30), ("ExpireOrders", 30), ("SweepPendingRefunds", 30),
        ("DeliverDueNotifications", 30), ("SettleDue", 30)]
    sweep = gateway.requests[0][1]
    assert (sweep.older_than_seconds, sweep.limit) == (90, 50)
    assert gateway.requests[2][1].stuck_after_seconds == 45
    assert all(request.limit == 50 for _, request, _ in gateway.requests[:4])


@pytest.mark.parametrize(("now", "today", "yesterday"), [
    # 15:59:59 UTC is 23:59:59 in China: still the same day there.
    (datetime(2024, 3, 1, 15, 59, 59, tzinfo=UTC), "2024-03-01", "2024-02-29"),
    # 16:00 UTC is midnight in China: the next day has begun.
    (datetime(2024, 3, 1, 16, 0, 0, tzinfo=UTC), "2024-03-02", "2024-03-01"),
    (datetime(2025, 1, 1, 2, 0, 0, tzinfo=UTC), "2025-01-01", "2024-12-31"),
])
async def test_settle_without_a_gate_runs_for_the_china_day_with_yesterday_reconciled(
        now: datetime, today: str, yesterday: str) -> None:
    config = JobsConfig(run_timeout=15, settlement_gate="none")
    job = by_name(registry(config, clock=lambda: now))["settle"]
    gateway = FakeGateway()
    await job.run(stubs_of(gateway))
    [(name, request, timeout)] = gateway.requests
    assert (name, timeout) == ("SettleDue", 15)
    assert (request.today, request.reconciled_through) == (today, yesterday)
    assert list(request.held_owners) == [] and list(request.owners) == []


async def test_settle_releases_what_reconciliation_finished_and_holds_open_mistakes() -> None:
    now = datetime(2024, 3, 5, 2, 0, 0, tzinfo=UTC)
    job = by_name(registry(JobsConfig(run_timeout=15), clock=lambda: now))["settle"]
    gateway = FakeGateway()
    gateway.gate = reconciliation_pb2.GetSettlementGateResponse(
        reconciled_through="2024-03-02", blocked_merchants=[
            reconciliation_pb2.BlockedMerchant(mch_no="M2", open_mistakes=1,
                                               earliest_bill_date="2024-03-01")])
    await job.run(stubs_of(gateway))
    [(gate_call, asked, _), (settle_call, request, timeout)] = gateway.requests
    assert (gate_call, asked.today) == ("GetSettlementGate", "2024-03-05")
    assert (settle_call, timeout) == ("SettleDue", 15)
    assert (request.today, request.reconciled_through) == ("2024-03-05", "2024-03-02")
    assert list(request.held_owners) == ["M2"]


async def test_settle_does_nothing_before_any_day_is_reconciled() -> None:
    job = by_name(registry(JobsConfig()))["settle"]
    gateway = FakeGateway()  # the gate names no reconciled day
    await job.run(stubs_of(gateway))
    assert [name for name, _, _ in gateway.requests] == ["GetSettlementGate"]


async def test_notifications_not_implemented_yet_mean_nothing_to_do() -> None:
    job = by_name(registry(JobsConfig()))["deliver_notifications"]
    await job.run(stubs_of(FakeGateway(grpc.StatusCode.UNIMPLEMENTED)))  # no error


async def test_other_notification_errors_fail_the_run() -> None:
    job = by_name(registry(JobsConfig()))["deliver_notifications"]
    with pytest.raises(grpc.aio.AioRpcError):
        await job.run(stubs_of(FakeGateway(grpc.StatusCode.UNAVAILABLE)))


def test_config_defaults_and_environment() -> None:
    assert JobsConfig.from_env({}) == JobsConfig()
    assert JobsConfig() == JobsConfig(5.0, 60, 30.0, 60.0, 5.0, 200, 120.0, 3600.0,
                                      "reconciliation")
    config = JobsConfig.from_env({"PAYMESH_JOBS_SWEEP_PAYING_INTERVAL": "1",
                                  "PAYMESH_JOBS_PAYING_AGE": "1",
                                  "PAYMESH_JOBS_EXPIRE_INTERVAL": "0.5",
                                  "PAYMESH_JOBS_REFUND_INTERVAL": "2",
                                  "PAYMESH_JOBS_NOTIFY_INTERVAL": "3",
                                  "PAYMESH_JOBS_BATCH": "10",
                                  "PAYMESH_JOBS_RUN_TIMEOUT": "15",
                                  "PAYMESH_JOBS_SETTLE_INTERVAL": "1",
                                  "PAYMESH_SETTLEMENT_GATE": "none"})
    assert config == JobsConfig(1.0, 1, 0.5, 2.0, 3.0, 10, 15.0, 1.0, "none")
    assert JobsConfig.from_env({"PAYMESH_JOBS_REFUND_STUCK_AGE": "20"}
                               ).refund_stuck_age_seconds == 20
    for raw, expected in (("NONE", "none"), ("Reconciliation", "reconciliation"),
                          ("", "reconciliation")):
        assert JobsConfig.from_env({"PAYMESH_SETTLEMENT_GATE": raw}).settlement_gate == expected


@pytest.mark.parametrize(("name", "value"), [
    ("PAYMESH_JOBS_SWEEP_PAYING_INTERVAL", "0"), ("PAYMESH_JOBS_EXPIRE_INTERVAL", "-1"),
    ("PAYMESH_JOBS_REFUND_INTERVAL", "soon"), ("PAYMESH_JOBS_NOTIFY_INTERVAL", "nan"),
    ("PAYMESH_JOBS_PAYING_AGE", "1.5"), ("PAYMESH_JOBS_PAYING_AGE", "0"),
    ("PAYMESH_JOBS_REFUND_STUCK_AGE", "0"), ("PAYMESH_JOBS_REFUND_STUCK_AGE", "2.5"),
    ("PAYMESH_JOBS_BATCH", "0"), ("PAYMESH_JOBS_BATCH", "1001"),
    ("PAYMESH_JOBS_RUN_TIMEOUT", "inf"), ("PAYMESH_JOBS_SETTLE_INTERVAL", "0"),
    ("PAYMESH_SETTLEMENT_GATE", "maybe")])
def test_config_refuses_bad_values_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        JobsConfig.from_env({name: value})
