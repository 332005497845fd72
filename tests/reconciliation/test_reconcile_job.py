"""The jobs process's reconcile job: yesterday's batch of every active channel config, from the
configured time of day (UTC+8), with the retry pace passed along; and its settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest

from paymesh.common.v1 import common_pb2
from paymesh.jobs.config import JobsConfig
from paymesh.jobs.registry import JobStubs, registry
from paymesh.merchant.v1 import merchant_pb2 as mp
from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.services.common.config import ConfigError
from tests.reconciliation.conftest import rpc_error


class FakeRecon:
    """ResolveChannelConfigs and RunBatch, recording the batches asked for."""

    def __init__(self, states: dict[str, int] | None = None) -> None:
        self.runs: list[pb.RunBatchRequest] = []
        self.states = states or {}
        self.timeouts: list[float | None] = []

    async def ResolveChannelConfigs(self, request: Any, timeout: float | None = None) -> Any:
        active, disabled = common_pb2.ENTITY_STATE_ACTIVE, common_pb2.ENTITY_STATE_DISABLED
        return mp.ResolveChannelConfigsResponse(channel_configs=[
            mp.ResolvedChannelConfig(channel_config_key="a1.wxpay", state=active),
            mp.ResolvedChannelConfig(channel_config_key="a2.alipay", state=disabled),
            mp.ResolvedChannelConfig(channel_config_key="isv1.ysfpay", state=active)])

    async def RunBatch(self, request: pb.RunBatchRequest, timeout: float | None = None) -> Any:
        self.runs.append(request)
        self.timeouts.append(timeout)
        state = self.states.get(request.channel_config_key, pb.BATCH_STATE_SUCCESS)
        if state == -1:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "", "down")
        return pb.RunBatchResponse(batch=pb.Batch(state=state), ran=True)


def stubs(fake: FakeRecon) -> JobStubs:
    return JobStubs(sweeps=None, notifications=None, ledger=None,  # type: ignore[arg-type]
                    merchant=fake, reconciliation=fake)  # type: ignore[arg-type]


def job(config: JobsConfig, now: datetime) -> Any:
    return {j.name: j for j in registry(config, clock=lambda: now)}["reconcile"]


@pytest.mark.parametrize(("now", "runs", "bill_date"), [
    (datetime(2024, 6, 2, 1, 59, tzinfo=UTC), False, ""),            # 09:59 in China
    (datetime(2024, 6, 2, 2, 0, tzinfo=UTC), True, "2024-06-01"),    # 10:00 in China
    (datetime(2024, 6, 2, 15, 59, tzinfo=UTC), True, "2024-06-01"),  # 23:59 in China
    (datetime(2024, 6, 2, 16, 0, tzinfo=UTC), False, ""),            # 00:00 the next day
])
async def test_yesterday_of_every_active_config_from_the_time_of_day(
        now: datetime, runs: bool, bill_date: str) -> None:
    fake = FakeRecon()
    config = JobsConfig(reconcile_at="10:00", reconcile_retry=300, run_timeout=40)
    await job(config, now).run(stubs(fake))
    if not runs:
        assert fake.runs == []
        return
    assert [(r.channel_config_key, r.bill_date, r.retry_after_seconds, r.force)
            for r in fake.runs] == [("a1.wxpay", bill_date, 300, False),
                                    ("isv1.ysfpay", bill_date, 300, False)]
    assert fake.timeouts == [40, 40]


async def test_now_runs_at_every_tick_and_one_failing_config_does_not_stop_the_others() -> None:
    fake = FakeRecon({"a1.wxpay": -1})
    config = JobsConfig(reconcile_at="now")
    await job(config, datetime(2024, 6, 2, 0, 0, tzinfo=UTC)).run(stubs(fake))
    assert [r.channel_config_key for r in fake.runs] == ["a1.wxpay", "isv1.ysfpay"]
    assert {r.bill_date for r in fake.runs} == {"2024-06-01"}


async def test_without_the_stubs_the_job_does_nothing() -> None:
    plain = JobStubs(sweeps=None, notifications=None, ledger=None)  # type: ignore[arg-type]
    await job(JobsConfig(reconcile_at="now"), datetime.now(UTC)).run(plain)


def test_settings_from_the_environment() -> None:
    config = JobsConfig.from_env({"PAYMESH_JOBS_RECONCILE_AT": "09:30",
                                  "PAYMESH_JOBS_RECONCILE_INTERVAL": "1",
                                  "PAYMESH_JOBS_RECONCILE_RETRY": "2.5"})
    assert (config.reconcile_at, config.reconcile_interval, config.reconcile_retry) == \
        ("09:30", 1, 2.5)
    assert JobsConfig.from_env({}).reconcile_at == "10:00"
    assert JobsConfig.from_env({"PAYMESH_JOBS_RECONCILE_AT": "NOW"}).reconcile_at == "now"
    for bad in ("25:00", "9:30", "10-00", "soon"):
        with pytest.raises(ConfigError, match="PAYMESH_JOBS_RECONCILE_AT"):
            JobsConfig.from_env({"PAYMESH_JOBS_RECONCILE_AT": bad})
    with pytest.raises(ConfigError, match="PAYMESH_JOBS_RECONCILE_RETRY"):
        JobsConfig.from_env({"PAYMESH_JOBS_RECONCILE_RETRY": "0"})
