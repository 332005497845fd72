"""Metrics: RPC counts by method and code, business figures read from the database, the port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.common.grpcserver import build_server, start
from paymesh.services.common.metrics import GatewayFigures, MetricsServer, render
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.notify_models import NotifyRecord, NotifyState
from paymesh.services.gateway.outbox import PAY_SUCCEEDED, outbox_event

CHECK = "/grpc.health.v1.Health/Check"


def count(code: str) -> float:
    return REGISTRY.get_sample_value("paymesh_rpc_requests_total",
                                     {"method": CHECK, "code": code}) or 0.0


async def test_every_call_is_counted_by_method_and_status_code() -> None:
    server, health = build_server([])
    running = await start(server, health, "127.0.0.1:0", [])
    before = {code: count(code) for code in ("OK", "NOT_FOUND")}
    latency_before = REGISTRY.get_sample_value("paymesh_rpc_duration_seconds_count",
                                               {"method": CHECK}) or 0.0
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(2):
                await stub.Check(health_pb2.HealthCheckRequest(service=""))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await running.stop(0)
    assert count("OK") - before["OK"] == 2
    assert count("NOT_FOUND") - before["NOT_FOUND"] == 1
    assert REGISTRY.get_sample_value("paymesh_rpc_duration_seconds_count",
                                     {"method": CHECK}) == latency_before + 3


@pytest.fixture
async def engine(config: MeshConfig) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(config.db_urls["gateway"])
    yield engine
    await engine.dispose()


def order(pid: str, way_code: str, state: int, paid: bool, amount: int = 100) -> PayOrder:
    now = utc_now()
    return PayOrder(
        pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=pid, if_code="sandbox",
        way_code=way_code, amount=amount, currency="cny", state=state, subject="s", body="b",
        expire_at=now + timedelta(hours=2), fee_rate="0", fee_amount=0, late_success=False,
        refunded_amount=0, refund_reserved=0, refund_times=0,
        success_at=now if paid else None, created_at=now, updated_at=now)


def samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode())
            for s in family.samples}


async def test_gateway_figures_come_from_its_database(engine: AsyncEngine) -> None:
    now = utc_now()
    old_event = outbox_event(PAY_SUCCEEDED, "P1")
    old_event.created_at = now - timedelta(seconds=90)
    async with sessions(engine).begin() as session:
        session.add_all([
            order("P1", "WX_NATIVE", St.SUCCESS, True, 1234),
            order("P2", "WX_NATIVE", St.PAYING, False),
            order("P3", "ALI_QR", St.REFUND, True, 500),
            old_event,
            NotifyRecord(notify_id="N1", order_id="P1", order_type=1, mch_no="M1", app_id="A1",
                         mch_order_no="P1", notify_url="https://shop.example/n",
                         params_json="{}", state=NotifyState.SENDING, attempts=1,
                         attempt_limit=14, next_attempt_at=now, created_at=now, updated_at=now),
            NotifyRecord(notify_id="N2", order_id="P3", order_type=1, mch_no="M1", app_id="A1",
                         mch_order_no="P3", notify_url="https://shop.example/n",
                         params_json="{}", state=NotifyState.FAILED, attempts=14,
                         attempt_limit=14, created_at=now, updated_at=now)])
    got = samples(await render([GatewayFigures(engine)]))
    wx = (("if_code", "sandbox"), ("way_code", "WX_NATIVE"))
    assert got[("paymesh_pay_orders_created_total", wx)] == 2
    assert got[("paymesh_pay_orders_paid_total", wx)] == 1
    assert got[("paymesh_pay_orders_paid_total",
                (("if_code", "sandbox"), ("way_code", "ALI_QR")))] == 1
    assert got[("paymesh_pay_orders_paid_fen_total", (("currency", "cny"), *wx))] == 1234
    assert got[("paymesh_pay_orders", (("state", "paying"),))] == 1
    assert got[("paymesh_notify_backlog", ())] == 1
    assert got[("paymesh_notify_failed", ())] == 1
    assert 89 <= got[("paymesh_ledger_posting_lag_seconds", ())] < 300
    assert got[("paymesh_outbox_undelivered", (("topic", PAY_SUCCEEDED),))] == 1
    assert got[("paymesh_figures_up", ())] == 1


class Broken:
    async def families(self) -> list[object]:
        raise OSError("database down")

    async def close(self) -> None:
        return None


async def test_the_metrics_port_serves_text_and_survives_a_database_outage() -> None:
    server = MetricsServer([Broken()])  # type: ignore[list-item]
    port = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/metrics")
            missing = await client.get(f"http://127.0.0.1:{port}/other")
    finally:
        await server.close()
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert samples(answer.content)[("paymesh_figures_up", ())] == 0
    assert missing.status_code == 404
