"""Channel callbacks through the real edge: verified, cross-checked, applied once, acked right."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import grpc
import httpx
import pytest

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.channel.adapters.sandbox_protocol import sign
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import order_params, signed_post

pytestmark = pytest.mark.e2e


async def sandbox_key(mesh: RunningMesh) -> str:
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        context = await merchant_pb2_grpc.MerchantServiceStub(channel).ResolvePayContext(
            merchant_pb2.ResolvePayContextRequest(app_id=mesh.demo["appId"]), timeout=10)
    params = next(p.channel_params_json for p in context.passages
                  if p.passage.if_code == "sandbox")
    key: str = json.loads(params)["key"]
    return key


def callback(pay_order_id: str, amount: int, key: str, **overrides: str) -> dict[str, str]:
    fields = {"payOrderId": pay_order_id, "channelOrderNo": f"SBX{secrets.token_hex(4)}",
              "amount": str(amount), "currency": "cny", "result": "SUCCESS",
              "timestamp": str(int(time.time() * 1000)), "nonce": secrets.token_hex(8)}
    fields.update(overrides)
    fields["sign"] = sign(fields, key)
    return fields


async def new_order(mesh: RunningMesh, http: httpx.AsyncClient, amount: int = 500) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=amount))
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


async def state_of(mesh: RunningMesh, http: httpx.AsyncClient, pay_order_id: str) -> int:
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    state: int = queried["data"]["state"]
    return state


async def test_forged_callback_is_refused_with_a_retry_status(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await new_order(mesh, http)
    forged = callback(pay_order_id, 500, "not-the-key")
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}",
                             data=forged)
    assert answer.status_code == 400
    assert answer.text == "fail"
    assert await state_of(mesh, http, pay_order_id) == 1


async def test_signed_callback_with_a_wrong_amount_is_refused(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    key = await sandbox_key(mesh)
    pay_order_id = await new_order(mesh, http, amount=500)
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}",
                             data=callback(pay_order_id, 1, key))
    assert answer.status_code == 400
    assert await state_of(mesh, http, pay_order_id) == 1


async def test_callback_naming_another_order_is_refused(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    key = await sandbox_key(mesh)
    victim = await new_order(mesh, http, amount=500)
    other = await new_order(mesh, http, amount=500)
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{victim}",
                             data=callback(other, 500, key))
    assert answer.status_code == 400
    assert await state_of(mesh, http, victim) == 1
    assert await state_of(mesh, http, other) == 1


async def test_the_same_callback_ten_times_at_once_moves_the_order_once(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    key = await sandbox_key(mesh)
    pay_order_id = await new_order(mesh, http, amount=500)
    body = callback(pay_order_id, 500, key)
    url = f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}"
    answers = await asyncio.gather(*(http.post(url, data=body) for _ in range(10)))
    assert [a.status_code for a in answers] == [200] * 10
    assert all(a.text == "success" for a in answers)
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert queried["data"]["state"] == 2
    assert queried["data"]["channelOrderNo"] == body["channelOrderNo"]


async def test_stale_callback_is_refused(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    key = await sandbox_key(mesh)
    pay_order_id = await new_order(mesh, http)
    stale = callback(pay_order_id, 500, key, timestamp=str(int((time.time() - 600) * 1000)))
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}",
                             data=stale)
    assert answer.status_code == 400
    assert await state_of(mesh, http, pay_order_id) == 1


async def test_success_after_close_is_kept_and_flagged(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    key = await sandbox_key(mesh)
    pay_order_id = await new_order(mesh, http)
    closed = await signed_post(http, mesh, "/api/pay/close", {"payOrderId": pay_order_id})
    assert closed["code"] == 0
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}",
                             data=callback(pay_order_id, 500, key, channelOrderNo="SBLATE1"))
    assert answer.status_code == 200
    order = mesh.cli_json("order", "get", pay_order_id)
    assert order["stateCode"] == 6
    assert order["lateSuccess"] is True
    assert order["channelOrderNo"] == "SBLATE1"
