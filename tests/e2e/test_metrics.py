"""Every process serves Prometheus metrics on its own port; a payment moves the counters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from paymesh.services.common.config import METRICS_PORTS
from paymesh.services.mesh.supervisor import START_ORDER
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    fresh_app,
    order_params,
    pay_on_sandbox_page,
    signed_post,
    wait_for_state,
)
from tests.e2e.merchant_endpoint import MerchantEndpoint

pytestmark = pytest.mark.e2e
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
PROCESSES = [name for name in START_ORDER if name in METRICS_PORTS]


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MerchantEndpoint]:
    with MerchantEndpoint() as running:
        yield running


async def scrape(http: httpx.AsyncClient, mesh: RunningMesh, process: str) -> Samples:
    port = mesh.config.metrics_port(process)
    answer = await http.get(f"http://{mesh.config.metrics_host}:{port}/metrics")
    assert answer.status_code == 200, (process, answer.text)
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def rpc(samples: Samples, method: str, code: str = "OK") -> float:
    return value(samples, "paymesh_rpc_requests_total", method=method, code=code)


async def test_a_payment_moves_the_counters_of_every_service(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    creds = await fresh_app(mesh)
    before = {p: await scrape(http, mesh, p) for p in PROCESSES}
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_NATIVE", amount=4321, notifyUrl=endpoint.url("/metrics-paid")), creds)
    assert created["code"] == 0, created
    await pay_on_sandbox_page(http, created["data"]["payData"])
    await endpoint.wait_for("/metrics-paid", 1)
    paid = await wait_for_state(http, mesh, creds, created["data"]["payOrderId"], 2)
    assert paid["data"]["state"] == 2

    deadline = time.monotonic() + 15
    while True:  # the ledger posting and the notification's record land just after
        after = {p: await scrape(http, mesh, p) for p in PROCESSES}
        gateway, account = after["gateway"], after["account"]
        if (value(gateway, "paymesh_notify_delivered_total")
                > value(before["gateway"], "paymesh_notify_delivered_total")
                and rpc(account, "/paymesh.account.v1.AccountService/Post")
                > rpc(before["account"], "/paymesh.account.v1.AccountService/Post")) \
                or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)

    def moved(process: str, method: str) -> float:
        return rpc(after[process], method) - rpc(before[process], method)

    assert moved("gateway", "/paymesh.gateway.v1.MerchantApiService/UnifiedOrder") == 1
    assert moved("gateway", "/paymesh.gateway.v1.ChannelCallbackService/ReceivePayNotify") >= 1
    assert moved("merchant", "/paymesh.merchant.v1.MerchantService/ResolvePayContext") >= 1
    assert moved("channel", "/paymesh.channel.v1.ChannelService/Pay") == 1
    assert moved("account", "/paymesh.account.v1.AccountService/Post") >= 1
    latency = "paymesh_rpc_duration_seconds_count"
    method = "/paymesh.channel.v1.ChannelService/Pay"
    assert value(after["channel"], latency, method=method) \
        - value(before["channel"], latency, method=method) == 1

    wx = {"if_code": "sandbox", "way_code": "WX_NATIVE"}
    for name, delta in (("paymesh_pay_orders_created_total", 1),
                        ("paymesh_pay_orders_paid_total", 1)):
        assert value(after["gateway"], name, **wx) - value(before["gateway"], name, **wx) \
            == delta, name
    fen = "paymesh_pay_orders_paid_fen_total"
    assert value(after["gateway"], fen, currency="cny", **wx) \
        - value(before["gateway"], fen, currency="cny", **wx) == 4321
    for name in ("paymesh_notify_delivered_total", "paymesh_notify_attempts_total"):
        assert value(after["gateway"], name) - value(before["gateway"], name) >= 1, name
    postings = "paymesh_ledger_postings_total"
    assert value(after["account"], postings, status="POSTED") \
        - value(before["account"], postings, status="POSTED") >= 1
    assert 0 <= value(after["gateway"], "paymesh_ledger_posting_lag_seconds") < 60
    for process in ("gateway", "account", "reconciliation"):
        if process in after:
            assert value(after[process], "paymesh_figures_up") == 1, process


async def test_the_jobs_process_counts_its_runs(mesh: RunningMesh,
                                               http: httpx.AsyncClient) -> None:
    name = "paymesh_job_runs_total"
    labels = {"job": "sweep_paying_orders", "outcome": "ok"}
    first = value(await scrape(http, mesh, "jobs"), name, **labels)
    deadline = time.monotonic() + 10
    while value(await scrape(http, mesh, "jobs"), name, **labels) <= first:
        assert time.monotonic() < deadline, "no job run counted"
        await asyncio.sleep(0.3)
    last = value(await scrape(http, mesh, "jobs"), "paymesh_job_last_success_timestamp_seconds",
                 job="sweep_paying_orders")
    assert time.time() - last < 30
