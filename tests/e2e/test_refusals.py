"""Every refusal of the merchant API: a clear msg in the envelope, and nothing changed."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials, signed_params
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import order_count, order_params, post, signed_post

pytestmark = pytest.mark.e2e


def new_merchant(mesh: RunningMesh, name: str) -> MerchantCredentials:
    created: Any = mesh.cli_json("merchant", "create", "--name", name)
    app_id = created["app"]["appId"]
    mesh.cli_json("passage", "put", app_id, "WX_H5", "--if-code", "sandbox")
    return MerchantCredentials(created["merchant"]["mchNo"], app_id, created["appSecret"])


@pytest.fixture(scope="module")
def other(mesh: RunningMesh) -> MerchantCredentials:
    return new_merchant(mesh, "Other Shop")


async def refused(http: httpx.AsyncClient, mesh: RunningMesh, body: dict[str, Any],
                  path: str = "/api/pay/unifiedOrder") -> dict[str, Any]:
    """Posts ``body`` and checks that it was refused without data and changed nothing."""
    before = order_count(mesh)
    answer = await post(http, mesh, path, body)
    assert answer["code"] != 0, answer
    assert "data" not in answer and "sign" not in answer
    assert order_count(mesh) == before
    return answer


async def test_bad_sign(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    body = signed_params(mesh.credentials, order_params())
    body["amount"] = 1  # signed for 1234
    answer = await refused(http, mesh, body)
    assert answer["code"] == 9999
    assert "sign is invalid" in answer["msg"]


async def test_req_time_ten_minutes_old(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    old = int((time.time() - 600) * 1000)
    answer = await refused(http, mesh, signed_params(mesh.credentials, order_params(),
                                                     req_time_ms=old))
    assert "reqTime" in answer["msg"] and "±300 s" in answer["msg"]


async def test_unknown_app(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds = MerchantCredentials(mesh.demo["mchNo"], "ffffffffffffffffffffffff", "x" * 128)
    answer = await refused(http, mesh, signed_params(creds, order_params()))
    assert "app ffffffffffffffffffffffff does not exist" in answer["msg"]


async def test_app_of_another_merchant(mesh: RunningMesh, http: httpx.AsyncClient,
                                       other: MerchantCredentials) -> None:
    creds = MerchantCredentials(mesh.demo["mchNo"], other.app_id, other.secret)
    answer = await refused(http, mesh, signed_params(creds, order_params()))
    assert "does not belong to merchant" in answer["msg"]


async def test_disabled_merchant_is_refused_at_once(mesh: RunningMesh,
                                                    http: httpx.AsyncClient) -> None:
    creds = new_merchant(mesh, "Soon Disabled")
    ok = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(), creds)
    assert ok["code"] == 0, ok  # the gateway now has this app's context cached
    mesh.cli_json("merchant", "state", creds.mch_no, "disabled")
    answer = await refused(http, mesh, signed_params(creds, order_params()))
    assert f"merchant {creds.mch_no} is disabled" in answer["msg"]
    mesh.cli_json("merchant", "state", creds.mch_no, "active")
    again = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(), creds)
    assert again["code"] == 0, again


async def test_disabled_app(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    creds = new_merchant(mesh, "App Disabled")
    mesh.cli_json("app", "state", creds.app_id, "disabled")
    answer = await refused(http, mesh, signed_params(creds, order_params()))
    assert f"app {creds.app_id} is disabled" in answer["msg"]


@pytest.mark.parametrize("field", ["mchOrderNo", "wayCode", "amount", "currency", "subject",
                                   "body"])
async def test_missing_required_field(mesh: RunningMesh, http: httpx.AsyncClient,
                                      field: str) -> None:
    params = order_params()
    params.pop(field)
    answer = await refused(http, mesh, signed_params(mesh.credentials, params))
    assert answer["code"] == 11
    assert answer["msg"] == f"{field} is required"


async def test_amount_zero(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    answer = await refused(http, mesh, signed_params(mesh.credentials, order_params(amount=0)))
    assert answer["code"] == 11
    assert "amount must be an integer from 1" in answer["msg"]


async def test_unknown_way_code(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    answer = await refused(http, mesh, signed_params(mesh.credentials,
                                                     order_params(wayCode="WX_MAGIC")))
    assert "wayCode 'WX_MAGIC' is not supported" in answer["msg"]


async def test_way_code_without_passage(mesh: RunningMesh, http: httpx.AsyncClient,
                                        other: MerchantCredentials) -> None:
    answer = await refused(http, mesh, signed_params(other, order_params(wayCode="ALI_QR")))
    assert "no pay passage is enabled for wayCode ALI_QR" in answer["msg"]


async def test_repeated_order_number_with_a_different_amount(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    params = order_params(amount=100)
    first = await signed_post(http, mesh, "/api/pay/unifiedOrder", params)
    assert first["code"] == 0, first
    answer = await refused(http, mesh, signed_params(mesh.credentials, {**params, "amount": 200}))
    assert f"mchOrderNo {params['mchOrderNo']} was already used" in answer["msg"]
    assert "amount differs" in answer["msg"]
    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": first["data"]["payOrderId"]})
    assert queried["data"]["amount"] == 100


async def test_query_of_another_merchants_order(mesh: RunningMesh, http: httpx.AsyncClient,
                                                other: MerchantCredentials) -> None:
    mine = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = mine["data"]["payOrderId"]
    answer = await refused(http, mesh, signed_params(other, {"payOrderId": pay_order_id}),
                           "/api/pay/query")
    assert answer["msg"] == f"order {pay_order_id} not found"
    close = await refused(http, mesh, signed_params(other, {"payOrderId": pay_order_id}),
                          "/api/pay/close")
    assert "not found" in close["msg"]
    still = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert still["data"]["state"] == 1


async def test_replayed_request(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    body = signed_params(mesh.credentials, {"payOrderId": "P1"})
    first = await post(http, mesh, "/api/pay/query", body)
    assert "not found" in first["msg"]
    answer = await refused(http, mesh, body, "/api/pay/query")
    assert "replay" in answer["msg"]


async def test_nonce_reused(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    first = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": "P1", "nonce": "n-1"})
    assert "not found" in first["msg"]
    answer = await refused(http, mesh, signed_params(
        mesh.credentials, {"payOrderId": "P1", "nonce": "n-1"},
        req_time_ms=int(time.time() * 1000) + 1), "/api/pay/query")
    assert "replay" in answer["msg"]


@pytest.mark.parametrize(("content_type", "data", "expected"), [
    ("application/json", b"{not json", "request body is not valid JSON"),
    ("application/json", b"[1, 2]", "must be a JSON object"),
    ("application/json", b"", "request body is empty"),
    ("text/xml", b"<xml/>", "unsupported Content-Type 'text/xml'"),
    ("application/x-www-form-urlencoded", b"mchNo=M1&mchNo=M2", "mchNo is given twice"),
    ("application/json", b'{"mchNo":"M1","channelExtra":{"a":1}}', "JSON text inside a string"),
])
async def test_malformed_bodies_get_the_envelope(mesh: RunningMesh, http: httpx.AsyncClient,
                                                 content_type: str, data: bytes,
                                                 expected: str) -> None:
    before = order_count(mesh)
    answer = await http.post(mesh.rest_url + "/api/pay/unifiedOrder", content=data,
                             headers={"content-type": content_type})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    envelope = answer.json()
    assert envelope["code"] == 11
    assert expected in envelope["msg"]
    assert order_count(mesh) == before


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/pay/unifiedOrder"),
                                              ("POST", "/api/pay/nothing")])
async def test_unknown_endpoint_gets_the_envelope(mesh: RunningMesh, http: httpx.AsyncClient,
                                                  method: str, path: str) -> None:
    answer = await http.request(method, mesh.rest_url + path)
    assert answer.status_code == 404
    assert answer.json()["code"] == 11
    assert "no such endpoint" in answer.json()["msg"]
