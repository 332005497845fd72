"""The jobs process reconciles yesterday by itself (PAYMESH_JOBS_RECONCILE_AT=now in the test
mesh): a config whose bill cannot be had ends in ERROR and is retried until it can, then its batch
matches yesterday's payment end to end."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest

from paymesh.merchant.v1 import merchant_pb2 as mpb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.reconciliation.v1 import reconciliation_pb2_grpc
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_execute
from tests.e2e.test_reconciliation import db_execute, order, sandbox_shop

pytestmark = pytest.mark.e2e


def china_yesterday() -> str:
    return (datetime.now(UTC) + timedelta(hours=8) - timedelta(days=1)).date().isoformat()


async def batch_of(mesh: RunningMesh, key: str, bill_date: str, wanted: Any,
                   timeout: float = 30.0) -> pb.Batch:
    """Polls the batch of (key, date) until ``wanted(batch)`` (bounded)."""
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(mesh.config.addrs["reconciliation"]) as channel:
        stub = reconciliation_pb2_grpc.ReconciliationServiceStub(channel)
        while True:
            listed = await stub.ListBatches(pb.ListBatchesRequest(
                channel_config_key=key, bill_date_from=bill_date, bill_date_to=bill_date))
            if listed.batches and wanted(listed.batches[0]):
                return listed.batches[0]
            assert time.monotonic() < deadline, f"no such batch of {key} {bill_date}: {listed}"
            await asyncio.sleep(0.3)


async def test_the_scheduled_job_retries_a_failed_day_then_reconciles_it(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds, key = await sandbox_shop(mesh, {"feeRate": "not a rate"})
    yesterday = china_yesterday()
    paid = await order(http, mesh, creds, 2500)
    # Age the payment into yesterday on both sides (the platform's order, the sandbox's book).
    for table, columns in (("pay_order", ("created_at", "success_at", "updated_at")),):
        sets = ", ".join(f"{c} = :{c}" for c in columns)
        moment = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)
        assert gateway_execute(mesh, f"UPDATE {table} SET {sets} WHERE pay_order_id = :i",
                               i=paid, **{c: moment for c in columns}) == 1
    assert db_execute(mesh, "channel", "UPDATE sandbox_payment SET paid_at = :t, created_at = :t"
                      " WHERE pay_order_id = :i", i=paid,
                      t=datetime.now(UTC).replace(tzinfo=None) - timedelta(days=1)) == 1

    # Its second attempt, once over (it is RUNNING meanwhile).
    failing = await batch_of(mesh, key, yesterday,
                             lambda b: b.attempts >= 2 and b.state != pb.BATCH_STATE_RUNNING)
    assert failing.state == pb.BATCH_STATE_ERROR
    assert failing.error_reason == "CHANNEL_CONFIG_INVALID", failing

    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        await merchant_pb2_grpc.MerchantServiceStub(channel).PutChannelConfig(
            mpb.PutChannelConfigRequest(app_id=creds.app_id, if_code="sandbox",
                                        params_json='{"feeRate": "0.006"}'))
    done = await batch_of(mesh, key, yesterday, lambda b: b.state == pb.BATCH_STATE_SUCCESS)
    assert done.batch_id == failing.batch_id and done.attempts > failing.attempts
    assert (done.platform.pay_count, done.platform.pay_amount) == (1, 2500)
    assert (done.channel.pay_count, done.channel.pay_amount, done.channel.fee) == (1, 2500, 15)
    assert (done.matched_count, done.mistake_count) == (1, 0)
    await asyncio.sleep(2.5)  # more ticks: a finished batch is not run again
    after = await batch_of(mesh, key, yesterday, lambda b: True)
    assert after.attempts == done.attempts and after.state == pb.BATCH_STATE_SUCCESS
