"""Merchant notifications (商户通知) through the real mesh, to a real merchant HTTP endpoint.

The e2e mesh runs the retry schedule 100 times faster (PAYMESH_NOTIFY_SCHEDULE_SCALE=0.01).
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import grpc
import httpx
import pytest

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.common import signing
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post
from tests.e2e.merchant_endpoint import MerchantEndpoint

pytestmark = pytest.mark.e2e
PAY_FIELDS = {"payOrderId", "mchNo", "appId", "mchOrderNo", "ifCode", "wayCode", "amount",
              "currency", "state", "clientIp", "subject", "body", "channelOrderNo", "errCode",
              "errMsg", "extParam", "successTime", "createdAt"}
REFUND_FIELDS = {"refundOrderId", "payOrderId", "mchNo", "appId", "mchRefundNo", "payAmount",
                 "refundAmount", "currency", "state", "channelOrderNo", "errCode", "errMsg",
                 "extParam", "successTime", "createdAt"}
PRIVATE = "notify_url points at a private address"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MerchantEndpoint]:
    with MerchantEndpoint() as running:
        yield running


def path() -> str:
    return f"/notify/{secrets.token_hex(6)}"


def auth(mesh: RunningMesh) -> dict[str, str]:
    return {"authorization": f"Bearer {mesh.demo['adminToken']}"}


async def pay(mesh: RunningMesh, http: httpx.AsyncClient, creds: MerchantCredentials | None = None,
              **params: Any) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(**params),
                                creds)
    assert created["code"] == 0, created
    await pay_on_sandbox_page(http, created["data"]["payData"])
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


async def notification(mesh: RunningMesh, http: httpx.AsyncClient, order_id: str,
                       state: str = "", timeout: float = 15.0) -> dict[str, Any]:
    """The order's record with its attempts (admin REST), once it is in ``state``."""
    deadline = time.monotonic() + timeout
    while True:
        listed = await http.get(f"{mesh.rest_url}/admin/v1/notifications",
                                params={"order_id": order_id}, headers=auth(mesh))
        assert listed.status_code == 200, listed.text
        records = listed.json()["notifications"]
        if records and (not state or records[0]["state"] == f"NOTIFY_STATE_{state}"):
            got = await http.get(f"{mesh.rest_url}/admin/v1/notifications/"
                                 f"{records[0]['notifyId']}", headers=auth(mesh))
            assert got.status_code == 200, got.text
            result: dict[str, Any] = got.json()
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"no {state or 'any'} notification of {order_id}: {records}")
        await asyncio.sleep(0.1)


def verified(form: dict[str, str], creds: MerchantCredentials) -> bool:
    """JeePay's merchant-side check: every received field but sign, recomputed."""
    return signing.verify(form, creds.secret, "MD5", form["sign"])


async def test_a_paid_order_is_notified_once_with_a_valid_signature(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    where = path()
    pay_order_id = await pay(mesh, http, amount=321, notifyUrl=endpoint.url(where))
    [got] = await endpoint.wait_for(where, 1)
    assert got.content_type.startswith("application/x-www-form-urlencoded")
    assert verified(got.form, mesh.credentials)
    assert not verified({**got.form, "amount": "1"}, mesh.credentials)
    assert set(got.form) - {"reqTime", "sign"} <= PAY_FIELDS
    assert {"payOrderId", "mchNo", "appId", "mchOrderNo", "ifCode", "wayCode", "amount",
            "currency", "state", "subject", "body", "successTime", "createdAt"} <= set(got.form)
    assert (got.form["payOrderId"], got.form["amount"], got.form["state"]) == (
        pay_order_id, "321", "2")
    assert abs(int(got.form["reqTime"]) - time.time() * 1000) < 60_000
    record = await notification(mesh, http, pay_order_id, "SUCCESS")
    await asyncio.sleep(1.0)  # nothing more is sent once acknowledged
    assert len(endpoint.received(where)) == 1
    assert record["notification"]["attempts"] == 1
    assert [a["httpStatus"] for a in record["attempts"]] == [200]


async def test_an_order_without_notify_url_gets_no_record(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await pay(mesh, http)
    deadline = time.monotonic() + 10
    while not gateway_rows(mesh, "SELECT 1 FROM outbox_event WHERE order_id = :o AND "
                                 "delivered_at IS NOT NULL", o=pay_order_id):
        assert time.monotonic() < deadline, "the pay.succeeded event was never consumed"
        await asyncio.sleep(0.1)
    assert gateway_rows(mesh, "SELECT notify_id FROM notify_record WHERE order_id = :o",
                        o=pay_order_id) == []


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


async def test_retries_follow_the_schedule_until_the_merchant_says_success(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    where = path()
    endpoint.script(where, (500, "busy"), (500, "busy"), (500, "busy"))
    pay_order_id = await pay(mesh, http, notifyUrl=endpoint.url(where))
    received = await endpoint.wait_for(where, 4)
    record = await notification(mesh, http, pay_order_id, "SUCCESS")
    await asyncio.sleep(1.5)
    assert len(endpoint.received(where)) == 4
    assert all(r.form == received[0].form for r in received)  # frozen: same reqTime and sign
    attempts = record["attempts"]
    assert [(a["attempt"], a["httpStatus"], a["responseExcerpt"]) for a in attempts] == [
        (1, 500, "busy"), (2, 500, "busy"), (3, 500, "busy"), (4, 200, "SUCCESS")]
    times = [_seconds(a["time"]) for a in attempts]
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    for gap, expected in zip(gaps, (0.3, 0.6, 0.9), strict=True):  # 30, 60, 90 s scaled
        assert expected - 0.02 <= gap <= expected + 0.7, gaps
    assert (record["notification"]["attempts"], record["notification"]["attemptLimit"]) == (4, 14)


async def test_the_success_rule_trims_the_body_and_needs_a_2xx(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    trimmed, wrong_status = path(), path()
    endpoint.script(trimmed, (200, "success\n"))
    endpoint.script(wrong_status, (500, "SUCCESS"))
    first = await pay(mesh, http, notifyUrl=endpoint.url(trimmed))
    second = await pay(mesh, http, notifyUrl=endpoint.url(wrong_status))
    counted = await notification(mesh, http, first, "SUCCESS")
    retried = await notification(mesh, http, second, "SUCCESS")
    assert [a["httpStatus"] for a in counted["attempts"]] == [200]
    assert [(a["httpStatus"], a["responseExcerpt"]) for a in retried["attempts"]] == [
        (500, "SUCCESS"), (200, "SUCCESS")]


async def test_a_failed_payment_is_notified(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    where = path()
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_BAR", channelExtra='{"authCode":"134567890123450002"}',
        notifyUrl=endpoint.url(where)))
    assert created["data"]["orderState"] == 3
    [got] = await endpoint.wait_for(where, 1)
    assert got.form["payOrderId"] == created["data"]["payOrderId"]
    assert got.form["state"] == "3" and verified(got.form, mesh.credentials)


async def test_a_refund_is_notified_with_the_refund_query_fields(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    pay_order_id = await pay(mesh, http, amount=500)
    where = path()
    refund_no = f"RN{secrets.token_hex(5)}"
    refund = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": refund_no, "refundAmount": 200,
        "currency": "cny", "refundReason": "returned", "notifyUrl": endpoint.url(where)})
    assert refund["data"]["state"] == 2, refund
    [got] = await endpoint.wait_for(where, 1)
    assert verified(got.form, mesh.credentials)
    assert set(got.form) - {"reqTime", "sign"} <= REFUND_FIELDS
    assert (got.form["refundOrderId"], got.form["payOrderId"], got.form["mchRefundNo"],
            got.form["refundAmount"], got.form["payAmount"], got.form["state"]) == (
        refund["data"]["refundOrderId"], pay_order_id, refund_no, "200", "500", "2")
    record = await notification(mesh, http, refund["data"]["refundOrderId"], "SUCCESS")
    assert record["notification"]["orderType"] == "NOTIFY_ORDER_TYPE_REFUND"
    assert record["notification"]["mchOrderNo"] == refund_no


@pytest.fixture(scope="module")
async def strict_app(mesh: RunningMesh) -> MerchantCredentials:
    """A new merchant whose app may NOT notify private addresses (the default)."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        created = await stub.CreateMerchant(merchant_pb2.CreateMerchantRequest(name="Strict"))
        assert not created.app.allow_private_notify_url
        await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
            app_id=created.app.app_id, way_code="WX_H5", if_code="sandbox", fee_rate="0.006"))
    return MerchantCredentials(created.merchant.mch_no, created.app.app_id, created.app_secret)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/n", "http://2130706433/n",
                                 "http://localhost:9/n", "http://[::1]/n", "http://10.1.2.3/n"])
async def test_private_notify_urls_are_refused_at_order_time(
        mesh: RunningMesh, http: httpx.AsyncClient, strict_app: MerchantCredentials,
        url: str) -> None:
    params = order_params(notifyUrl=url)
    answer = await signed_post(http, mesh, "/api/pay/unifiedOrder", params, strict_app)
    assert answer["code"] == 11 and "notifyUrl" in answer["msg"], answer
    assert gateway_rows(mesh, "SELECT 1 FROM pay_order WHERE mch_order_no = :n",
                        n=params["mchOrderNo"]) == []


async def test_private_notify_urls_are_refused_at_refund_time(
        mesh: RunningMesh, http: httpx.AsyncClient, strict_app: MerchantCredentials) -> None:
    pay_order_id = await pay(mesh, http, strict_app)
    answer = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": f"RP{secrets.token_hex(5)}",
        "refundAmount": 1, "currency": "cny", "refundReason": "x",
        "notifyUrl": "http://192.168.0.1/refund"}, strict_app)
    assert answer["code"] == 11 and "notifyUrl" in answer["msg"], answer


def loopback_name() -> str:
    """A host name (not a literal) that resolves only to private addresses on this machine."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        pytest.skip(f"host name {name!r} does not resolve")
    if not all(ipaddress.ip_address(i[4][0]).is_private for i in infos):
        pytest.skip(f"host name {name!r} resolves to a public address")
    return name


async def test_a_name_resolving_privately_is_refused_at_delivery_and_resent_by_operators(
        mesh: RunningMesh, http: httpx.AsyncClient, strict_app: MerchantCredentials,
        endpoint: MerchantEndpoint) -> None:
    where = path()
    pay_order_id = await pay(mesh, http, strict_app, notifyUrl=endpoint.url(where,
                                                                            loopback_name()))
    record = await notification(mesh, http, pay_order_id, "FAILED")
    assert [(a["httpStatus"], a["error"]) for a in record["attempts"]] == [(0, PRIVATE)]
    notify_id = record["notification"]["notifyId"]
    resent = await http.post(f"{mesh.rest_url}/admin/v1/notifications/{notify_id}/resend",
                             headers=auth(mesh), json={})
    assert resent.status_code == 200, resent.text
    after = resent.json()["notification"]
    assert (after["state"], after["attempts"], after["attemptLimit"]) == (
        "NOTIFY_STATE_FAILED", 2, 15)  # one more than the schedule allowed
    assert endpoint.received(where) == []  # never sent, neither scheduled nor resent


async def test_operators_list_get_and_resend_over_rest(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    where = path()
    pay_order_id = await pay(mesh, http, notifyUrl=endpoint.url(where))
    record = await notification(mesh, http, pay_order_id, "SUCCESS")
    notify_id = record["notification"]["notifyId"]
    base = f"{mesh.rest_url}/admin/v1/notifications"
    assert (await http.get(base)).status_code == 401
    assert (await http.post(f"{base}/{notify_id}/resend", json={})).status_code == 401
    listed = await http.get(base, params={"state": "NOTIFY_STATE_SUCCESS", "page.page_size": 2},
                            headers=auth(mesh))
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert len(page["notifications"]) == 2 and page["page"]["hasMore"]
    assert all(n["state"] == "NOTIFY_STATE_SUCCESS" for n in page["notifications"])
    assert page["notifications"][0]["createTime"] >= page["notifications"][1]["createTime"]
    following = await http.get(base, params={"page.page_token": page["page"]["nextPageToken"],
                                             "page.page_size": 2}, headers=auth(mesh))
    assert not {n["notifyId"] for n in page["notifications"]} & {
        n["notifyId"] for n in following.json()["notifications"]}
    resent = await http.post(f"{base}/{notify_id}/resend", headers=auth(mesh), json={})
    assert resent.status_code == 200, resent.text
    assert (resent.json()["notification"]["state"], resent.json()["notification"]["attempts"]) \
        == ("NOTIFY_STATE_SUCCESS", 2)
    first, again = endpoint.received(where)
    assert again.form == first.form  # the same frozen, signed fields
    got = await http.get(f"{base}/{notify_id}", headers=auth(mesh))
    assert [a["attempt"] for a in got.json()["attempts"]] == [1, 2]


async def test_operators_use_the_cli(mesh: RunningMesh, http: httpx.AsyncClient,
                                     endpoint: MerchantEndpoint) -> None:
    where = path()
    pay_order_id = await pay(mesh, http, notifyUrl=endpoint.url(where))
    await notification(mesh, http, pay_order_id, "SUCCESS")
    listed = await asyncio.to_thread(mesh.cli_json, "notify", "list", "--order", pay_order_id,
                                     "--state", "success")
    [item] = listed["notifications"]  # type: ignore[misc]
    notify_id = item["notifyId"]
    got = await asyncio.to_thread(mesh.cli_json, "notify", "get", notify_id)
    assert got["notification"]["orderId"] == pay_order_id  # type: ignore[index]
    assert len(got["attempts"]) == 1  # type: ignore[arg-type]
    resent = await asyncio.to_thread(mesh.cli_json, "notify", "resend", notify_id)
    assert resent["notification"]["attempts"] == 2  # type: ignore[index]
    assert len(endpoint.received(where)) == 2
    empty = await asyncio.to_thread(mesh.cli_json, "notify", "list", "--order", pay_order_id,
                                    "--state", "failed")
    assert empty.get("notifications", []) == []  # proto JSON leaves an empty list out


async def test_delivering_due_notifications_is_internal_only(mesh: RunningMesh) -> None:
    async with grpc.aio.insecure_channel(mesh.config.addrs["gateway"]) as channel:
        stub = gateway_pb2_grpc.NotificationServiceStub(channel)
        answer = await stub.DeliverDueNotifications(
            gateway_pb2.DeliverDueNotificationsRequest(limit=10))
        assert answer.attempted >= answer.succeeded >= 0
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.DeliverDueNotifications(gateway_pb2.DeliverDueNotificationsRequest(),
                                               metadata=(("x-paymesh-edge", "1"),))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_payment_corrected_to_failed_is_notified_again(
        mesh: RunningMesh, http: httpx.AsyncClient, endpoint: MerchantEndpoint) -> None:
    """Reconciliation's corrections go through the order state machine, so the merchant who was
    told "paid" is told "failed" when the channel turns out never to have taken the money."""
    where = path()
    pay_order_id = await pay(mesh, http, amount=432, notifyUrl=endpoint.url(where))
    [paid] = await endpoint.wait_for(where, 1)
    assert paid.form["state"] == "2"
    async with grpc.aio.insecure_channel(mesh.config.addrs["gateway"]) as channel:
        source = gateway_pb2_grpc.ReconciliationSourceServiceStub(channel)
        request = gateway_pb2.ApplyCorrectionRequest(
            correction_id=f"test-{pay_order_id}", pay_order_id=pay_order_id,
            action=gateway_pb2.CORRECTION_ACTION_MARK_PAY_FAILED, reason="never at the channel")
        for _ in range(100):  # refused until the payment's own events are delivered
            try:
                await source.ApplyCorrection(request, timeout=10)
                break
            except grpc.aio.AioRpcError as error:
                assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
                await asyncio.sleep(0.1)
        else:
            pytest.fail("the correction was never accepted")
    await reverse_in_the_ledger(mesh, request.correction_id, pay_order_id)
    first, second = await endpoint.wait_for(where, 2)
    assert (second.form["payOrderId"], second.form["state"]) == (pay_order_id, "3")
    assert verified(second.form, mesh.credentials)
    assert first.form["state"] == "2"


async def reverse_in_the_ledger(mesh: RunningMesh, correction_id: str, pay_order_id: str) -> None:
    """What the reconciliation service posts with such a correction, so the books stay sound."""
    [(mch_no, amount, fee, key)] = gateway_rows(
        mesh, "SELECT mch_no, amount, fee_amount, channel_config_key FROM pay_order "
              "WHERE pay_order_id = :id", id=pay_order_id)
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        ledger = account_pb2_grpc.AccountServiceStub(channel)

        async def account(owner: str, kind: int) -> int:
            opened = await ledger.OpenAccount(account_pb2.OpenAccountRequest(
                owner=owner, currency="CNY", kind=kind), timeout=10)
            return int(opened.account.account_id)

        merchant = await account(mch_no, account_pb2.ACCOUNT_KIND_PENDING)
        clearing = await account(f"channel:{key}", account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING)
        fee_income = await account("platform", account_pb2.ACCOUNT_KIND_FEE_INCOME)
        transfers = [account_pb2.TransferRequest(
            debit_account_id=merchant, credit_account_id=clearing, amount=amount - fee,
            code="RECON_REVERSAL", memo=f"test reversal of {pay_order_id}")]
        if fee:
            transfers.append(account_pb2.TransferRequest(
                debit_account_id=fee_income, credit_account_id=clearing, amount=fee,
                code="RECON_REVERSAL", memo=f"test reversal of {pay_order_id}"))
        await ledger.Post(account_pb2.PostRequest(posting_id=f"recon:{correction_id}",
                                                  transfers=transfers), timeout=10)
