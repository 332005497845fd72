"""The aggregated-QR cashier (聚合码) through the real edge, with the sandbox as every wallet."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post

pytestmark = pytest.mark.e2e
WECHAT = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.49 NetType/WIFI"
ALIPAY = "Mozilla/5.0 (Linux; Android 13) AlipayClient/10.5.36.8100"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"


async def cashier_order(mesh: RunningMesh, http: httpx.AsyncClient) -> tuple[str, str]:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode="QR_CASHIER", amount=880))
    assert created["code"] == 0, created
    data = created["data"]
    assert (data["orderState"], data["payDataType"]) == (0, "payurl")
    assert data["payData"].startswith(f"{mesh.rest_url}/cashier/")
    return data["payOrderId"], data["payData"]


@pytest.mark.parametrize(("agent", "way_code", "payer_field"),
                         [(WECHAT, "WX_JSAPI", "openid"), (ALIPAY, "ALI_JSAPI", "buyerUserId")])
async def test_wallet_payer_is_identified_and_pays_as_the_jsapi_way_code(
        mesh: RunningMesh, http: httpx.AsyncClient, agent: str, way_code: str,
        payer_field: str) -> None:
    pay_order_id, link = await cashier_order(mesh, http)
    first = await http.get(link, headers={"user-agent": agent}, follow_redirects=False)
    assert first.status_code == 302, first.text
    back = first.headers["location"]
    assert back.startswith(f"{link}/return?way={way_code}&code=sbx.")
    second = await http.get(back, headers={"user-agent": agent}, follow_redirects=False)
    assert second.status_code == 302, second.text
    pay_url = second.headers["location"]
    assert pay_url.startswith(f"{mesh.rest_url}/sandbox/pay/")
    assert (await pay_on_sandbox_page(http, pay_url))["callbackDelivered"] is True
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert (queried["data"]["state"], queried["data"]["wayCode"]) == (2, way_code)
    order = mesh.cli_json("order", "get", pay_order_id)
    assert order["ifCode"] == "sandbox"
    again = await http.get(link, headers={"user-agent": agent})
    assert "This order is paid" in again.text
    [(extra,)] = gateway_rows(mesh, "SELECT channel_extra FROM pay_order WHERE "
                                    "pay_order_id = :i", i=pay_order_id)
    assert json.loads(extra)[payer_field].startswith("sandbox-user-")  # the identified payer


async def test_an_ordinary_browser_is_told_what_to_do(mesh: RunningMesh,
                                                      http: httpx.AsyncClient) -> None:
    pay_order_id, link = await cashier_order(mesh, http)
    page = await http.get(link, headers={"user-agent": BROWSER})
    assert page.status_code == 200
    assert "WeChat, Alipay or the UnionPay app" in page.text
    assert "¥8.80" in page.text
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert queried["data"]["state"] == 0


async def test_a_changed_link_is_refused(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    _, link = await cashier_order(mesh, http)
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    page = await http.get(forged, headers={"user-agent": WECHAT}, follow_redirects=False)
    assert page.status_code == 404
    assert "not valid" in page.text


async def test_an_oauth_return_without_a_valid_code_changes_nothing(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id, link = await cashier_order(mesh, http)
    for query in ("way=WX_JSAPI", "way=WX_JSAPI&code=sbx.1.forged", "way=WX_NOPE&code=x"):
        page = await http.get(f"{link}/return?{query}", headers={"user-agent": WECHAT},
                              follow_redirects=False)
        assert page.status_code == 400, (query, page.text)
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert (queried["data"]["state"], queried["data"]["wayCode"]) == (0, "QR_CASHIER")
