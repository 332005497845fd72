"""Small helpers for the end-to-end tests."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import grpc
import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials, signed_params
from tests.e2e.conftest import RunningMesh


def order_no() -> str:
    return f"E2E{int(time.time() * 1000)}{secrets.token_hex(3)}"


def order_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"mchOrderNo": order_no(), "wayCode": "WX_H5", "amount": 1234,
                              "currency": "cny", "subject": "Coffee", "body": "One flat white"}
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


async def post(http: httpx.AsyncClient, mesh: RunningMesh, path: str,
               body: dict[str, Any]) -> dict[str, Any]:
    answer = await http.post(mesh.rest_url + path, json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def signed_post(http: httpx.AsyncClient, mesh: RunningMesh, path: str,
                      params: dict[str, Any], credentials: MerchantCredentials | None = None,
                      **kwargs: Any) -> dict[str, Any]:
    body = signed_params(credentials or mesh.credentials, params, **kwargs)
    return await post(http, mesh, path, body)


def gateway_rows(mesh: RunningMesh, sql: str, **bind: Any) -> list[Any]:
    """Reads the gateway's database directly, to prove what a refusal did not change."""
    url = make_url(mesh.config.db_urls["gateway"])
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), bind))
    finally:
        engine.dispose()


def gateway_execute(mesh: RunningMesh, sql: str, **bind: Any) -> int:
    """Changes the gateway's database directly (to age an order without waiting); rows hit."""
    url = make_url(mesh.config.db_urls["gateway"])
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.begin() as conn:
            return int(conn.execute(text(sql), bind).rowcount)
    finally:
        engine.dispose()


def order_count(mesh: RunningMesh) -> int:
    return int(gateway_rows(mesh, "SELECT COUNT(*) FROM pay_order")[0][0])


async def pay_on_sandbox_page(http: httpx.AsyncClient, pay_url: str,
                              result: str = "success") -> dict[str, Any]:
    answer = await http.post(pay_url, data={"result": result},
                             headers={"accept": "application/json"})
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


async def merchant_with_channel(mesh: RunningMesh, if_code: str, params: dict[str, Any],
                                way_codes: list[str]) -> MerchantCredentials:
    """A new merchant whose app takes ``way_codes`` through one channel config."""
    import grpc

    from paymesh.merchant.v1 import merchant_pb2 as pb
    from paymesh.merchant.v1 import merchant_pb2_grpc

    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        created = await stub.CreateMerchant(pb.CreateMerchantRequest(name=f"{if_code} shop"))
        app_id = created.app.app_id
        await stub.PutChannelConfig(pb.PutChannelConfigRequest(
            app_id=app_id, if_code=if_code, params_json=json.dumps(params)))
        for way_code in way_codes:
            await stub.PutPayPassage(pb.PutPayPassageRequest(
                app_id=app_id, way_code=way_code, if_code=if_code, fee_rate="0.006"))
    return MerchantCredentials(created.merchant.mch_no, app_id, created.app_secret)


async def wait_for_state(http: httpx.AsyncClient, mesh: RunningMesh,
                         creds: MerchantCredentials, pay_order_id: str, state: int,
                         timeout: float = 10.0) -> dict[str, Any]:
    """Queries through the edge until the order reaches ``state`` (bounded)."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        answer = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id},
                                   creds)
        if answer["data"]["state"] == state or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def fresh_app(mesh: RunningMesh) -> MerchantCredentials:
    """A new merchant and app (so no process has its pay context cached yet)."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        merchant = await stub.CreateMerchant(merchant_pb2.CreateMerchantRequest(
            name="Traced Tea", contact="ops@example.com"))
        app = await stub.CreateApp(merchant_pb2.CreateAppRequest(
            mch_no=merchant.merchant.mch_no, name="traced", allow_private_notify_url=True))
        for way_code in ("WX_NATIVE", "WX_BAR"):
            await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
                app_id=app.app.app_id, way_code=way_code, if_code="sandbox",
                fee_rate="0.006"))
    return MerchantCredentials(merchant.merchant.mch_no, app.app.app_id, app.app_secret)
