"""A merchant's happy paths through the real Envoy, gateway, merchant and channel processes."""

from __future__ import annotations

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials, verify_response
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_rows,
    order_params,
    pay_on_sandbox_page,
    signed_post,
)

pytestmark = pytest.mark.e2e


async def test_order_paid_on_sandbox_page_is_seen_paid_by_query(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    params = order_params(amount=1234, notifyUrl="https://shop.example.com/notify")
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", params)
    assert created["code"] == 0, created
    assert verify_response(created, mesh.credentials)
    data = created["data"]
    assert data["orderState"] == 1
    assert data["payDataType"] == "payurl"
    assert data["payData"].startswith(mesh.rest_url + "/sandbox/pay/")

    page = await http.get(data["payData"])
    assert page.status_code == 200
    assert "¥12.34" in page.text

    paid = await pay_on_sandbox_page(http, data["payData"])
    assert paid["callbackDelivered"] is True

    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": data["payOrderId"]})
    assert queried["code"] == 0, queried
    assert verify_response(queried, mesh.credentials)
    order = queried["data"]
    assert order["state"] == 2
    assert order["amount"] == 1234
    assert order["mchOrderNo"] == params["mchOrderNo"]
    assert order["ifCode"] == "sandbox"
    assert order["channelOrderNo"].startswith("SB")
    assert order["successTime"] >= order["createdAt"]
    fee = gateway_rows(mesh, "SELECT fee_rate, fee_amount FROM pay_order WHERE pay_order_id=:i",
                       i=data["payOrderId"])
    assert fee == [("0.006", 7)]  # 1234 × 0.6 % = 7.404 → 7 fen


async def test_payer_failing_on_the_page_fails_the_order(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    page = await pay_on_sandbox_page(http, created["data"]["payData"], "fail")
    assert page["state"] == "FAIL"
    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": created["data"]["payOrderId"]})
    assert queried["data"]["state"] == 3


async def test_close_unpaid_order_then_payer_cannot_pay(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = created["data"]["payOrderId"]
    closed = await signed_post(http, mesh, "/api/pay/close", {"payOrderId": pay_order_id})
    assert closed["code"] == 0, closed
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert queried["data"]["state"] == 6
    refused = await http.post(created["data"]["payData"], data={"result": "success"})
    assert refused.status_code >= 400
    again = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert again["data"]["state"] == 6
    closing_paid = await signed_post(http, mesh, "/api/pay/close", {"payOrderId": pay_order_id})
    assert closing_paid["code"] == 9999
    assert "closed" in closing_paid["msg"]


async def test_qr_way_code_returns_code_url(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode="WX_NATIVE"))
    assert created["data"]["payDataType"] == "codeUrl"
    assert created["data"]["payData"].startswith(mesh.rest_url + "/sandbox/pay/")


async def test_barcode_payment_succeeds_at_once(mesh: RunningMesh,
                                                http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_BAR", channelExtra='{"authCode":"134567890123456789"}'))
    assert created["code"] == 0, created
    assert created["data"]["orderState"] == 2
    assert created["data"]["payDataType"] == "none"


async def test_hmac_sha256_requests_and_answers(mesh: RunningMesh,
                                                http: httpx.AsyncClient) -> None:
    creds = MerchantCredentials(mesh.demo["mchNo"], mesh.demo["appId"], mesh.demo["appSecret"],
                                "HMAC-SHA256")
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(),
                                credentials=creds)
    assert created["code"] == 0, created
    assert verify_response(created, creds)
    assert not verify_response(created, mesh.credentials)  # not an MD5 signature


async def test_form_encoded_request_is_accepted(mesh: RunningMesh,
                                                http: httpx.AsyncClient) -> None:
    from paymesh.services.client.merchant import signed_params

    body = signed_params(mesh.credentials, order_params(subject="表单 order"))
    answer = await http.post(mesh.rest_url + "/api/pay/unifiedOrder",
                             data={k: str(v) for k, v in body.items()})
    assert answer.status_code == 200
    assert answer.json()["code"] == 0, answer.text


async def test_repeated_order_number_with_same_parameters_returns_the_same_order(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    params = order_params()
    first = await signed_post(http, mesh, "/api/pay/unifiedOrder", params)
    second = await signed_post(http, mesh, "/api/pay/unifiedOrder", params)
    assert second["code"] == 0, second
    assert second["data"]["payOrderId"] == first["data"]["payOrderId"]
    assert second["data"]["payData"] == first["data"]["payData"]
    rows = gateway_rows(mesh, "SELECT COUNT(*) FROM pay_order WHERE mch_order_no=:n",
                        n=params["mchOrderNo"])
    assert rows[0][0] == 1


async def test_zero_valued_field_is_part_of_the_signature(mesh: RunningMesh,
                                                          http: httpx.AsyncClient) -> None:
    from paymesh.services.client.merchant import signed_params

    body = signed_params(mesh.credentials, order_params(divisionMode=0))
    accepted = await http.post(mesh.rest_url + "/api/pay/unifiedOrder", json=body)
    assert accepted.json()["code"] == 0, accepted.text
    body = signed_params(mesh.credentials, order_params(divisionMode=0))
    body.pop("divisionMode")  # signed with divisionMode=0, sent without it
    refused = await http.post(mesh.rest_url + "/api/pay/unifiedOrder", json=body)
    assert refused.json()["code"] == 9999
    assert "sign" in refused.json()["msg"]


@pytest.mark.parametrize(("auth_code", "way_code"), [("134567890123456789", "WX_BAR"),
                                                     ("2845678901234567", "ALI_BAR"),
                                                     ("6212345678901234567", "YSF_BAR")])
async def test_auto_bar_routes_the_payer_code_to_its_channel(
        mesh: RunningMesh, http: httpx.AsyncClient, auth_code: str, way_code: str) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="AUTO_BAR", channelExtra=f'{{"authCode":"{auth_code}"}}'))
    assert created["code"] == 0, created
    assert created["data"]["orderState"] == 2
    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": created["data"]["payOrderId"]})
    assert queried["data"]["wayCode"] == way_code


async def test_auto_bar_with_an_unknown_code_is_refused(mesh: RunningMesh,
                                                        http: httpx.AsyncClient) -> None:
    from tests.e2e.helpers import order_count

    before = order_count(mesh)
    answer = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="AUTO_BAR", channelExtra='{"authCode":"164567890123456789"}'))
    assert answer["code"] == 11
    assert "unsupported barcode" in answer["msg"]
    assert order_count(mesh) == before
