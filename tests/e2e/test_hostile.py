"""Hostile input through the real Envoy: each case refused (or stored verbatim), nothing changed.

Replays and stale clocks, oversized bodies, unicode tricks, SQL-looking text, one merchant reaching
for another's orders, admin calls without the token, internal RPCs asked through the edge, and
channel callbacks sent to the wrong route, forged or about orders that do not exist. "Nothing
changed" is read from the gateway's own tables before and after.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import grpc
import httpx
import pytest

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.channel.adapters.sandbox_protocol import sign as sandbox_sign
from paymesh.services.client.merchant import MerchantCredentials, signed_params, verify_response
from paymesh.services.simulators.wxpay import WxpaySimulator
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_rows,
    merchant_with_channel,
    order_params,
    pay_on_sandbox_page,
    post,
    signed_post,
)

pytestmark = pytest.mark.e2e

TWO_MIB = 2 * 1024 * 1024


# --- what the gateway holds -----------------------------------------------------------------------


def order_state(mesh: RunningMesh, pay_order_id: str) -> list[Any]:
    """Everything the gateway keeps about one pay order: its row and its refunds."""
    order = gateway_rows(mesh, "SELECT * FROM pay_order WHERE pay_order_id = :id", id=pay_order_id)
    refunds = gateway_rows(mesh, "SELECT * FROM refund_order WHERE pay_order_id = :id "
                                 "ORDER BY refund_order_id", id=pay_order_id)
    assert order, f"no order {pay_order_id}"
    return [tuple(row) for row in order + refunds]


def all_orders(mesh: RunningMesh) -> list[tuple[Any, ...]]:
    """Every order's identity and merchant text (what an injected statement would touch)."""
    return [tuple(row) for row in gateway_rows(
        mesh, "SELECT pay_order_id, mch_no, app_id, mch_order_no, amount, currency, subject, "
              "body, ext_param FROM pay_order ORDER BY pay_order_id")]


def counts(mesh: RunningMesh) -> tuple[int, int]:
    return (int(gateway_rows(mesh, "SELECT COUNT(*) FROM pay_order")[0][0]),
            int(gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order")[0][0]))


def new_merchant(mesh: RunningMesh, name: str) -> MerchantCredentials:
    created: Any = mesh.cli_json("merchant", "create", "--name", name)
    app_id = created["app"]["appId"]
    mesh.cli_json("passage", "put", app_id, "WX_H5", "--if-code", "sandbox")
    return MerchantCredentials(created["merchant"]["mchNo"], app_id, created["appSecret"])


@pytest.fixture(scope="module")
def intruder(mesh: RunningMesh) -> MerchantCredentials:
    return new_merchant(mesh, "Intruder Shop")


async def create(http: httpx.AsyncClient, mesh: RunningMesh, creds: MerchantCredentials | None,
                 **fields: Any) -> dict[str, Any]:
    answer = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(**fields), creds)
    assert answer["code"] == 0, answer
    data: dict[str, Any] = answer["data"]
    return data


async def paid_order_with_refund(http: httpx.AsyncClient, mesh: RunningMesh
                                 ) -> tuple[str, str, str, str]:
    """A paid order of the demo merchant with one partial refund: the ids and numbers."""
    number = f"HX{secrets.token_hex(6)}"
    created = await create(http, mesh, None, mchOrderNo=number, amount=500)
    await pay_on_sandbox_page(http, created["payData"])
    refund_no = f"HR{secrets.token_hex(6)}"
    refunded = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": created["payOrderId"], "mchRefundNo": refund_no, "refundAmount": 100,
        "currency": "cny", "refundReason": "partly returned"})
    assert refunded["code"] == 0, refunded
    return created["payOrderId"], number, refunded["data"]["refundOrderId"], refund_no


def refused_envelope(answer: dict[str, Any], code: int | None = None) -> str:
    assert answer["code"] != 0, answer
    assert "data" not in answer and "sign" not in answer, answer
    if code is not None:
        assert answer["code"] == code, answer
    msg: str = answer["msg"]
    return msg


# --- replays and the clock ------------------------------------------------------------------------


async def test_replayed_unified_order_creates_nothing(mesh: RunningMesh,
                                                      http: httpx.AsyncClient) -> None:
    body = signed_params(mesh.credentials, order_params())
    first = await post(http, mesh, "/api/pay/unifiedOrder", body)
    assert first["code"] == 0, first
    before, order = counts(mesh), order_state(mesh, first["data"]["payOrderId"])
    again = await post(http, mesh, "/api/pay/unifiedOrder", body)
    assert "replay" in refused_envelope(again, 9999)
    assert counts(mesh) == before
    assert order_state(mesh, first["data"]["payOrderId"]) == order


async def test_replayed_refund_moves_no_money(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await create(http, mesh, None, amount=300)
    await pay_on_sandbox_page(http, created["payData"])
    body = signed_params(mesh.credentials, {
        "payOrderId": created["payOrderId"], "mchRefundNo": f"HR{secrets.token_hex(6)}",
        "refundAmount": 100, "currency": "cny", "refundReason": "once", "nonce": "n-hostile"})
    first = await post(http, mesh, "/api/refund/refundOrder", body)
    assert first["code"] == 0, first
    before = order_state(mesh, created["payOrderId"])
    for _ in range(3):
        assert "replay" in refused_envelope(await post(http, mesh, "/api/refund/refundOrder", body))
    assert order_state(mesh, created["payOrderId"]) == before


@pytest.mark.parametrize("offset_seconds", [-301, 301, -86400, 86400 * 365, -time.time()])
async def test_req_time_outside_the_window_is_refused(mesh: RunningMesh, http: httpx.AsyncClient,
                                                      offset_seconds: float) -> None:
    before = counts(mesh)
    req_time = int((time.time() + offset_seconds) * 1000)
    body = signed_params(mesh.credentials, order_params(), req_time_ms=req_time)
    answer = await post(http, mesh, "/api/pay/unifiedOrder", body)
    assert "reqTime" in refused_envelope(answer, 11)
    assert counts(mesh) == before


# --- oversized bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["json", "form"])
async def test_two_mebibyte_body_gets_the_envelope(mesh: RunningMesh, http: httpx.AsyncClient,
                                                   encoding: str) -> None:
    before = counts(mesh)
    params = {k: str(v) for k, v in signed_params(
        mesh.credentials, order_params(extParam="x" * TWO_MIB)).items()}
    if encoding == "json":
        content, media = json.dumps(params).encode(), "application/json"
    else:
        content = "&".join(f"{k}={quote(v)}" for k, v in params.items()).encode()
        media = "application/x-www-form-urlencoded"
    answer = await http.post(mesh.rest_url + "/api/pay/unifiedOrder", content=content,
                             headers={"content-type": media})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert refused_envelope(answer.json(), 11) == "request body is larger than 1 MiB"
    assert counts(mesh) == before


async def test_a_body_under_the_limit_reaches_the_field_checks(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    body = signed_params(mesh.credentials, order_params(extParam="x" * 900_000))
    answer = await post(http, mesh, "/api/pay/unifiedOrder", body)
    assert refused_envelope(answer, 11) == "extParam is longer than 512 characters"


@pytest.mark.parametrize("path", ["/admin/v1/merchants", "/api/pay/notify/sandbox/P1"])
async def test_two_mebibyte_admin_and_callback_bodies_are_refused_as_json(
        mesh: RunningMesh, http: httpx.AsyncClient, path: str) -> None:
    before = counts(mesh)
    answer = await http.post(mesh.rest_url + path, content=b'{"name":"' + b"x" * TWO_MIB + b'"}',
                             headers={"content-type": "application/json",
                                      "authorization": f"Bearer {mesh.env['PAYMESH_ADMIN_TOKEN']}"})
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["code"] == 413 and answer.json()["message"]
    assert counts(mesh) == before


# --- unicode tricks -------------------------------------------------------------------------------

TRICKS = {
    "rtl override": "Invoice \u202egnp.exe",
    "zero-width joiner": "Caf\u200de \u200b\u2060\ufeff",
    "nul bytes": "a\x00b\x00",
    "astral": "\U0001f600\U0001d54f",
    "combining": "e\u0301\u0301\u0301",
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
async def test_unicode_in_text_fields_is_stored_and_echoed_verbatim(
        mesh: RunningMesh, http: httpx.AsyncClient, trick: str) -> None:
    text = TRICKS[trick]
    created = await create(http, mesh, None, subject=text, body=text * 2, extParam=text)
    queried = await signed_post(http, mesh, "/api/pay/query",
                                {"payOrderId": created["payOrderId"]})
    assert queried["code"] == 0 and verify_response(queried, mesh.credentials), queried
    data = queried["data"]
    assert (data["subject"], data["body"], data["extParam"]) == (text, text * 2, text)
    row = gateway_rows(mesh, "SELECT subject, body, ext_param FROM pay_order "
                             "WHERE pay_order_id = :id", id=created["payOrderId"])
    assert tuple(row[0]) == (text, text * 2, text)


@pytest.mark.parametrize(("field", "value"), [
    ("mchOrderNo", "AB\u202eC123"),
    ("mchOrderNo", "AB\u200dC123"),
    ("mchOrderNo", "AB\x00C123"),
    ("mchOrderNo", "ＡＢＣ１２３"),
    ("amount", "１２３４"),
    ("amount", "١٢٣٤"),
    ("amount", "12\u200d34"),
    ("amount", "1234\x00"),
    ("amount", "¹²³"),
    ("amount", " 1234"),
    ("amount", "+1234"),
    ("amount", "1e3"),
])
async def test_unicode_tricks_in_order_number_and_amount_are_refused(
        mesh: RunningMesh, http: httpx.AsyncClient, field: str, value: str) -> None:
    before = counts(mesh)
    answer = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(**{field: value}))
    msg = refused_envelope(answer, 11)
    assert msg.startswith(f"{field} must be"), msg
    assert counts(mesh) == before


async def test_overlong_utf8_in_a_json_body_is_refused(mesh: RunningMesh,
                                                       http: httpx.AsyncClient) -> None:
    before = counts(mesh)
    params = signed_params(mesh.credentials, order_params(subject="SUBJECT"))
    raw = json.dumps(params).encode().replace(b"SUBJECT", b"\xc0\xaf\xe0\x80\xaf")
    answer = await http.post(mesh.rest_url + "/api/pay/unifiedOrder", content=raw,
                             headers={"content-type": "application/json"})
    assert refused_envelope(answer.json(), 11) == "request body is not valid UTF-8"
    assert counts(mesh) == before


async def test_overlong_utf8_in_a_form_body_is_refused(mesh: RunningMesh,
                                                       http: httpx.AsyncClient) -> None:
    before = counts(mesh)
    # Signed over what a lenient decoder makes of the bytes: only a strict one refuses it.
    params = signed_params(mesh.credentials, order_params(subject="\ufffd\ufffd"))
    form = "&".join(f"{k}={quote(str(v))}" for k, v in params.items() if k != "subject")
    answer = await http.post(mesh.rest_url + "/api/pay/unifiedOrder",
                             content=(form + "&subject=%C0%AF").encode(),
                             headers={"content-type": "application/x-www-form-urlencoded"})
    refused_envelope(answer.json(), 11)
    assert counts(mesh) == before


async def test_markup_in_text_fields_is_escaped_on_the_payer_page(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    script, attribute = "<script>alert(1)</script>", '"><img src=x onerror=alert(2)>'
    created = await create(http, mesh, None, subject=script, body=attribute)
    page = await http.get(created["payData"])
    assert page.status_code == 200
    assert script not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


# --- SQL-looking text -----------------------------------------------------------------------------


async def test_sql_looking_strings_are_stored_verbatim_and_touch_nothing_else(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    before = all_orders(mesh)
    number = f"'OR'1'='1--{secrets.token_hex(4)}"
    texts = {"subject": "x'; DROP TABLE pay_order; --",
             "body": "\" OR \"\"=\" ; UPDATE pay_order SET amount = 1 WHERE 1=1; --",
             "extParam": "1 UNION SELECT app_secret FROM app -- \\'; \\\"; %; _"}
    created = await create(http, mesh, None, mchOrderNo=number, amount=777, **texts)
    after = all_orders(mesh)
    new = [row for row in after if row[0] == created["payOrderId"]]
    assert [row for row in after if row[0] != created["payOrderId"]] == before
    assert new[0][3:] == (number, 777, "cny", texts["subject"], texts["body"], texts["extParam"])
    queried = await signed_post(http, mesh, "/api/pay/query", {"mchOrderNo": number})
    assert queried["data"]["payOrderId"] == created["payOrderId"]
    assert {k: queried["data"][k] for k in texts} == texts


@pytest.mark.parametrize("number", ["%", "_", "%%", "' OR '1'='1", "1' OR 1=1 --", "*"])
async def test_sql_wildcards_in_lookups_match_nothing(mesh: RunningMesh, http: httpx.AsyncClient,
                                                      number: str) -> None:
    await create(http, mesh, None)  # so that a pattern would have something to match
    for path, field in (("/api/pay/query", "mchOrderNo"), ("/api/pay/query", "payOrderId"),
                        ("/api/refund/query", "mchRefundNo"),
                        ("/api/refund/query", "refundOrderId")):
        answer = await signed_post(http, mesh, path, {field: number})
        assert "not found" in refused_envelope(answer, 9999), (path, field, answer)


# --- one merchant reaching for another's orders -------------------------------------------------


@pytest.mark.parametrize("by", ["payOrderId", "mchOrderNo"])
async def test_another_merchant_cannot_query_refund_or_close_an_order(
        mesh: RunningMesh, http: httpx.AsyncClient, intruder: MerchantCredentials,
        by: str) -> None:
    paid_id, paid_no, _, _ = await paid_order_with_refund(http, mesh)
    open_no = f"HO{secrets.token_hex(6)}"
    open_order = await create(http, mesh, None, mchOrderNo=open_no)
    paid_before = order_state(mesh, paid_id)
    open_before = order_state(mesh, open_order["payOrderId"])
    paid_ref = {"payOrderId": paid_id} if by == "payOrderId" else {"mchOrderNo": paid_no}
    open_ref = ({"payOrderId": open_order["payOrderId"]} if by == "payOrderId"
                else {"mchOrderNo": open_no})
    attempts = [
        ("/api/pay/query", paid_ref), ("/api/pay/query", open_ref),
        ("/api/pay/close", open_ref),
        ("/api/refund/refundOrder", {**paid_ref, "mchRefundNo": f"HI{secrets.token_hex(6)}",
                                     "refundAmount": 1, "currency": "cny",
                                     "refundReason": "not mine"}),
    ]
    for path, params in attempts:
        answer = await signed_post(http, mesh, path, params, intruder)
        assert "not found" in refused_envelope(answer, 9999), (path, answer)
    assert order_state(mesh, paid_id) == paid_before
    assert order_state(mesh, open_order["payOrderId"]) == open_before


async def test_another_merchant_cannot_query_a_refund(
        mesh: RunningMesh, http: httpx.AsyncClient, intruder: MerchantCredentials) -> None:
    _, _, refund_id, refund_no = await paid_order_with_refund(http, mesh)
    for params in ({"refundOrderId": refund_id}, {"mchRefundNo": refund_no}):
        answer = await signed_post(http, mesh, "/api/refund/query", params, intruder)
        assert "not found" in refused_envelope(answer, 9999), answer
        mine = await signed_post(http, mesh, "/api/refund/query", params)
        assert mine["data"]["refundOrderId"] == refund_id


async def test_the_same_order_number_in_two_merchants_stays_apart(
        mesh: RunningMesh, http: httpx.AsyncClient, intruder: MerchantCredentials) -> None:
    number = f"HS{secrets.token_hex(6)}"
    mine = await create(http, mesh, None, mchOrderNo=number, amount=100)
    theirs = await create(http, mesh, intruder, mchOrderNo=number, amount=200)
    assert mine["payOrderId"] != theirs["payOrderId"]
    for creds, expected in ((None, (mine["payOrderId"], 100)),
                            (intruder, (theirs["payOrderId"], 200))):
        queried = await signed_post(http, mesh, "/api/pay/query", {"mchOrderNo": number}, creds)
        assert (queried["data"]["payOrderId"], queried["data"]["amount"]) == expected


# --- the admin API and internal RPCs --------------------------------------------------------------


def _bad_authorizations(token: str) -> list[dict[str, str]]:
    return [{}, {"authorization": "Bearer"}, {"authorization": "Bearer wrong-token"},
            {"authorization": f"Bearer {token[:-1]}"}, {"authorization": f"Bearer {token}x"},
            {"authorization": token}, {"authorization": f"Basic {token}"},
            {"authorization": f"Bearer {token.upper() if token != token.upper() else 'x'}"},
            {"x-admin-token": token}]


async def test_admin_api_without_a_valid_token_is_refused_and_changes_nothing(
        mesh: RunningMesh, http: httpx.AsyncClient, intruder: MerchantCredentials) -> None:
    token = mesh.env["PAYMESH_ADMIN_TOKEN"]
    name = f"Sneaky {secrets.token_hex(4)}"
    for headers in _bad_authorizations(token):
        calls = [
            http.get(mesh.rest_url + "/admin/v1/merchants", headers=headers),
            http.get(f"{mesh.rest_url}/admin/v1/apps/{intruder.app_id}", headers=headers),
            http.post(mesh.rest_url + "/admin/v1/merchants", json={"name": name},
                      headers=headers),
            http.post(f"{mesh.rest_url}/admin/v1/apps/{intruder.app_id}/state",
                      json={"state": "ENTITY_STATE_DISABLED"}, headers=headers),
            http.post(f"{mesh.rest_url}/admin/v1/apps/{intruder.app_id}/secret", json={},
                      headers=headers),
        ]
        for answer in await asyncio.gather(*calls):
            assert answer.status_code == 401, (headers, answer.text)
            assert answer.json()["message"] == "a valid admin bearer token is required"
            assert intruder.app_id not in answer.text and "merchants" not in answer.json()
    # The intruder's app is still enabled with its old secret, and nobody was created.
    still = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(), intruder)
    assert still["code"] == 0, still
    listed = await http.get(mesh.rest_url + "/admin/v1/merchants",
                            params={"page.pageSize": 100},
                            headers={"authorization": f"Bearer {token}"})
    assert listed.status_code == 200
    assert name not in listed.text


async def test_internal_rpcs_are_refused_through_the_edge(mesh: RunningMesh) -> None:
    target = mesh.rest_url.removeprefix("http://")
    async with grpc.aio.insecure_channel(target) as channel:
        merchant = merchant_pb2_grpc.MerchantServiceStub(channel)
        orders = gateway_pb2_grpc.PayOrderServiceStub(channel)
        recon = gateway_pb2_grpc.ReconciliationSourceServiceStub(channel)
        sweeps = gateway_pb2_grpc.OrderSweepServiceStub(channel)
        calls = [
            merchant.ResolvePayContext(merchant_pb2.ResolvePayContextRequest(
                app_id=mesh.demo["appId"]), timeout=10),
            orders.GetPayOrder(gateway_pb2.GetPayOrderRequest(pay_order_id="P1"), timeout=10),
            recon.ApplyCorrection(gateway_pb2.ApplyCorrectionRequest(
                correction_id=f"H{secrets.token_hex(4)}", action=1, pay_order_id="P1"),
                timeout=10),
            sweeps.ExpireOrders(gateway_pb2.ExpireOrdersRequest(), timeout=10),
        ]
        for call in calls:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert refused.value.details() == "this RPC is internal to the mesh"
        with pytest.raises(grpc.aio.AioRpcError) as listing:
            await merchant.ListMerchants(merchant_pb2.ListMerchantsRequest(), timeout=10)
        assert listing.value.code() == grpc.StatusCode.UNAUTHENTICATED


# --- channel callbacks ----------------------------------------------------------------------------


async def sandbox_key(mesh: RunningMesh) -> str:
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        context = await merchant_pb2_grpc.MerchantServiceStub(channel).ResolvePayContext(
            merchant_pb2.ResolvePayContextRequest(app_id=mesh.demo["appId"]), timeout=10)
    params = next(p.channel_params_json for p in context.passages
                  if p.passage.if_code == "sandbox")
    key: str = json.loads(params)["key"]
    return key


def sandbox_callback(pay_order_id: str, amount: int, key: str) -> dict[str, str]:
    fields = {"payOrderId": pay_order_id, "channelOrderNo": f"SBX{secrets.token_hex(4)}",
              "amount": str(amount), "currency": "cny", "result": "SUCCESS",
              "timestamp": str(int(time.time() * 1000)), "nonce": secrets.token_hex(8)}
    fields["sign"] = sandbox_sign(fields, key)
    return fields


async def test_sandbox_callback_on_another_channels_route_is_refused(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await create(http, mesh, None, amount=500)
    pay_order_id = created["payOrderId"]
    body = sandbox_callback(pay_order_id, 500, await sandbox_key(mesh))
    before = order_state(mesh, pay_order_id)
    for if_code in ("wxpay", "alipay", "ysfpay", "stripe"):
        for url in (f"{mesh.rest_url}/api/pay/notify/{if_code}/{pay_order_id}",
                    f"{mesh.rest_url}/api/pay/notify/{if_code}"):
            answer = await http.post(url, data=body)
            assert answer.status_code == 404, (url, answer.text)
            assert "order" in answer.json()["message"]
    assert order_state(mesh, pay_order_id) == before
    # The very same callback on its own route is genuine: it pays the order.
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{pay_order_id}", data=body)
    assert (answer.status_code, answer.text) == (200, "success")
    assert gateway_rows(mesh, "SELECT state FROM pay_order WHERE pay_order_id = :id",
                        id=pay_order_id)[0][0] == 2


@pytest.fixture(scope="module")
def wxpay_sim() -> Iterator[WxpaySimulator]:
    with WxpaySimulator(time_scale=0.001) as sim:
        yield sim


async def test_wxpay_callback_with_a_bad_signature_is_refused(
        mesh: RunningMesh, http: httpx.AsyncClient, wxpay_sim: WxpaySimulator) -> None:
    creds = await merchant_with_channel(mesh, "wxpay", wxpay_sim.adapter_params(), ["WX_NATIVE"])
    created = await create(http, mesh, creds, wayCode="WX_NATIVE", amount=1234)
    pay_order_id = created["payOrderId"]
    with wxpay_sim.lock:
        order = wxpay_sim.book.find_order(pay_order_id)
        assert order is not None
        # What WeChat would say once paid, on a copy: the simulator's order stays unpaid, so the
        # jobs' polling cannot settle it behind this test's back.
        paid = copy.deepcopy(order)
    paid.move("SUCCESS", wxpay_sim.now())
    resource = paid.transaction()
    body = wxpay_sim.notifier.envelope("TRANSACTION.SUCCESS", resource)
    headers = wxpay_sim.notifier.headers(body)
    url = f"{mesh.rest_url}/api/pay/notify/wxpay/{pay_order_id}"
    before = order_state(mesh, pay_order_id)
    signature = headers["Wechatpay-Signature"]
    flipped = ("B" if signature[10] == "A" else "A").join((signature[:10], signature[11:]))
    forgeries = [{**headers, "Wechatpay-Signature": flipped},
                 {**headers, "Wechatpay-Signature": ""},
                 {**headers, "Wechatpay-Timestamp": str(int(headers["Wechatpay-Timestamp"]) + 1)}]
    for forged in forgeries:
        answer = await http.post(url, content=body, headers=forged)
        assert answer.status_code >= 400, answer.text
    tampered = body.replace(b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCESS "')
    answer = await http.post(url, content=tampered, headers=headers)
    assert answer.status_code >= 400, answer.text
    assert order_state(mesh, pay_order_id) == before
    genuine = await http.post(url, content=body, headers=headers)
    assert genuine.status_code in (200, 204), genuine.text
    assert gateway_rows(mesh, "SELECT state FROM pay_order WHERE pay_order_id = :id",
                        id=pay_order_id)[0][0] == 2


async def test_callback_naming_an_unknown_order_is_refused(mesh: RunningMesh,
                                                           http: httpx.AsyncClient) -> None:
    unknown = f"P{secrets.randbelow(10**18):018d}"
    before = counts(mesh)
    body = sandbox_callback(unknown, 500, await sandbox_key(mesh))
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/sandbox/{unknown}", data=body)
    assert answer.status_code == 404
    assert answer.json()["message"] == f"no sandbox order {unknown}"
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/stripe",
                             content=json.dumps({"type": "payment_intent.succeeded",
                                                 "data": {"object": {"metadata": {
                                                     "payOrderId": unknown}}}}),
                             headers={"content-type": "application/json"})
    assert 400 <= answer.status_code < 500, answer.text
    assert counts(mesh) == before
