"""Passage routing through the real mesh: failover, daily and per-order limits, on/off."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import order_params, signed_post

pytestmark = pytest.mark.e2e


def merchant_with(mesh: RunningMesh, *passages: list[str]) -> MerchantCredentials:
    created: Any = mesh.cli_json("merchant", "create", "--name", "Routing Shop")
    app_id = created["app"]["appId"]
    # A WeChat config that cannot work: the channel refuses before taking any order.
    mesh.cli_json("channel-config", "put", app_id, "wxpay", "--params", '{"mchId": "1"}')
    for args in passages:
        mesh.cli_json("passage", "put", app_id, "WX_NATIVE", *args)
    return MerchantCredentials(created["merchant"]["mchNo"], app_id, created["appSecret"])


async def pay(mesh: RunningMesh, http: httpx.AsyncClient, creds: MerchantCredentials,
              amount: int) -> dict[str, Any]:
    answer = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                               order_params(wayCode="WX_NATIVE", amount=amount), creds)
    return answer


def route_of(mesh: RunningMesh, pay_order_id: str) -> list[dict[str, str]]:
    order: Any = mesh.cli_json("order", "get", pay_order_id)
    attempts: list[dict[str, str]] = json.loads(order["routeAttempts"])
    return attempts


async def test_refusing_channel_fails_over_to_the_next_passage(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds = merchant_with(mesh, ["--if-code", "wxpay", "--priority", "10"],
                          ["--if-code", "sandbox", "--priority", "1"])
    answer = await pay(mesh, http, creds, 300)
    assert answer["code"] == 0, answer
    assert answer["data"]["orderState"] == 1
    assert [a["ifCode"] for a in route_of(mesh, answer["data"]["payOrderId"])] == \
        ["wxpay", "sandbox"]
    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": answer["data"]["payOrderId"]}, creds)
    assert queried["data"]["ifCode"] == "sandbox"


async def test_disabled_passage_is_never_chosen(mesh: RunningMesh,
                                                http: httpx.AsyncClient) -> None:
    creds = merchant_with(mesh, ["--if-code", "wxpay", "--priority", "10", "--disabled"],
                          ["--if-code", "sandbox"])
    for _ in range(3):
        answer = await pay(mesh, http, creds, 300)
        assert [a["ifCode"] for a in route_of(mesh, answer["data"]["payOrderId"])] == ["sandbox"]


async def test_per_order_limit(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds = merchant_with(mesh, ["--if-code", "sandbox", "--max-amount", "1000"])
    assert (await pay(mesh, http, creds, 1000))["code"] == 0
    refused = await pay(mesh, http, creds, 1001)
    assert refused["code"] == 9999
    assert "above the per-order limit" in refused["msg"]


async def test_daily_limit_fails_an_order_over_it_and_close_gives_the_amount_back(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds = merchant_with(mesh, ["--if-code", "sandbox", "--daily-limit", "1000"])
    first = await pay(mesh, http, creds, 600)
    assert first["data"]["orderState"] == 1
    second = await pay(mesh, http, creds, 600)
    assert second["code"] == 0
    assert second["data"]["orderState"] == 3
    assert second["data"]["errCode"] == "PASSAGE_DAILY_LIMIT"
    closed = await signed_post(http, mesh, "/api/pay/close",
                               {"payOrderId": first["data"]["payOrderId"]}, creds)
    assert closed["code"] == 0
    third = await pay(mesh, http, creds, 600)
    assert third["data"]["orderState"] == 1, third


async def test_passage_at_its_daily_limit_is_skipped(mesh: RunningMesh,
                                                     http: httpx.AsyncClient) -> None:
    creds = merchant_with(mesh, ["--if-code", "sandbox", "--priority", "10",
                                 "--daily-limit", "1000"],
                          ["--if-code", "wxpay", "--priority", "1"])
    assert (await pay(mesh, http, creds, 600))["data"]["orderState"] == 1
    second = await pay(mesh, http, creds, 600)
    assert route_of(mesh, second["data"]["payOrderId"]) == [
        {"ifCode": "sandbox", "result": "DAILY_LIMIT"},
        {"ifCode": "wxpay", "result": "CONFIRM_FAIL"}]
