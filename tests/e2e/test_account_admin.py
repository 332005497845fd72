"""The ledger's admin REST API through the real Envoy, and ``paymesh ledger`` against the mesh:
balances, entries, the daily statement, settlement, a withdrawal, terms; refused without the
admin token."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import grpc
import httpx
import pytest

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.services.common.errors import reason_of
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import order_params, pay_on_sandbox_page, signed_post
from tests.e2e.test_ledger import FROZEN, PENDING, balance, fresh_shop, until

pytestmark = pytest.mark.e2e
CHINA = timezone(timedelta(hours=8))
# WX_H5 at 0.006: 1234 pays 7 (7.404), 1000 pays 6; refunding 600 of 1234 returns 3 of the 7.
# The refund's 597 went through FROZEN: held when it was asked, then paid out to clearing.
PENDING_AFTER = (1234 - 7) + (1000 - 6) - (600 - 3)


@pytest.fixture
async def ledger(mesh: RunningMesh) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


def auth(mesh: RunningMesh) -> dict[str, str]:
    return {"authorization": f"Bearer {mesh.demo['adminToken']}"}


async def admin(http: httpx.AsyncClient, mesh: RunningMesh, method: str, path: str,
                **kwargs: Any) -> dict[str, Any]:
    answer = await http.request(method, mesh.rest_url + path, headers=auth(mesh), **kwargs)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def paid_and_refunded_shop(mesh: RunningMesh, http: httpx.AsyncClient,
                                 ledger: account_pb2_grpc.AccountServiceStub) -> str:
    """A fresh merchant with two sandbox payments and one partial refund in its pending."""
    shop = await fresh_shop(mesh)
    orders = []
    for amount in (1234, 1000):
        created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                    order_params(amount=amount), shop)
        await pay_on_sandbox_page(http, created["data"]["payData"])
        orders.append(created["data"]["payOrderId"])
    await until(lambda: balance(ledger, shop.mch_no, PENDING), 1227 + 994)
    refunded = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": orders[0], "mchRefundNo": f"AD{orders[0][-10:]}", "refundAmount": 600,
        "currency": "cny", "refundReason": "returned"}, shop)
    assert refunded["data"]["state"] == 2, refunded
    await until(lambda: balance(ledger, shop.mch_no, PENDING), PENDING_AFTER)
    await until(lambda: balance(ledger, shop.mch_no, FROZEN), 0)  # the refund is booked
    return shop.mch_no


def kinds(balances: dict[str, Any]) -> dict[str, int]:
    return {a["kind"]: int(a["balance"]) for a in balances["accounts"] if a["currency"] == "CNY"}


async def test_operators_see_and_move_a_merchants_money_over_rest(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    mch = await paid_and_refunded_shop(mesh, http, ledger)
    today = datetime.now(CHINA).date()
    balances = await admin(http, mesh, "GET", f"/admin/v1/ledger/merchants/{mch}/balances")
    assert kinds(balances) == {"ACCOUNT_KIND_PENDING": PENDING_AFTER, "ACCOUNT_KIND_FROZEN": 0}
    pending_id = balances["accounts"][0]["accountId"]
    one = await admin(http, mesh, "GET", f"/admin/v1/ledger/accounts/{pending_id}")
    assert one["accounts"][0]["balance"] == str(PENDING_AFTER)

    entries_path = f"/admin/v1/ledger/accounts/{pending_id}/entries"
    every = await admin(http, mesh, "GET", entries_path)
    assert [(e["transfer"]["code"], int(e["amount"])) for e in every["entries"]] == [
        ("REFUND_HOLD", -597), ("PAY_SUCCESS", 994), ("PAY_SUCCESS", 1227)]
    assert all(e["transfer"]["valueDate"] == today.isoformat() for e in every["entries"])
    pays = await admin(http, mesh, "GET", entries_path,
                       params={"code": "PAY_SUCCESS", "page.pageSize": 1})
    assert [int(e["amount"]) for e in pays["entries"]] == [994] and pays["page"]["hasMore"]
    older = await admin(http, mesh, "GET", entries_path, params={
        "code": "PAY_SUCCESS", "page.pageSize": 1,
        "page.pageToken": pays["page"]["nextPageToken"]})
    assert [int(e["amount"]) for e in older["entries"]] == [1227]
    assert not older["page"]["hasMore"]
    dated = await admin(http, mesh, "GET", entries_path, params={
        "valueDateFrom": (today + timedelta(days=1)).isoformat()})
    assert dated["entries"] == []
    recent = await admin(http, mesh, "GET", entries_path, params={
        "createdAfter": (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00",
                                                                                     "Z")})
    assert len(recent["entries"]) == 3

    statement = await admin(http, mesh, "GET",
                            f"/admin/v1/ledger/merchants/{mch}/statements/{today.isoformat()}",
                            params={"currency": "CNY"})
    pending, frozen = statement["accounts"]
    assert (pending["kind"], pending["openingBalance"], pending["credits"], pending["debits"],
            pending["closingBalance"], pending["entryCount"]) == (
        "ACCOUNT_KIND_PENDING", "0", str(1227 + 994), "597", str(PENDING_AFTER), "3")
    assert {c["code"]: (c["credits"], c["debits"], c["entryCount"]) for c in pending["codes"]} \
        == {"PAY_SUCCESS": (str(1227 + 994), "0", "2"), "REFUND_HOLD": ("0", "597", "1")}
    assert (frozen["kind"], frozen["credits"], frozen["debits"], frozen["closingBalance"]) == (
        "ACCOUNT_KIND_FROZEN", "597", "597", "0")
    assert {c["code"]: (c["credits"], c["debits"]) for c in frozen["codes"]} == {
        "REFUND_HOLD": ("597", "0"), "REFUND": ("0", "597")}

    # Settlement run by an operator, as if it were tomorrow: today's pending becomes available.
    run_body = {"today": (today + timedelta(days=1)).isoformat(),
                "reconciledThrough": today.isoformat(), "owners": [mch]}
    run = await admin(http, mesh, "POST", "/admin/v1/ledger/settlements:run", json=run_body)
    assert run["postingsMade"] == 1 and run["merchantsExamined"] == 1
    assert [(p["owner"], p["valueDate"], p["amount"], p["postingId"]) for p in run["postings"]] \
        == [(mch, today.isoformat(), str(PENDING_AFTER), f"settle:{mch}:CNY:{today}")]
    after = kinds(await admin(http, mesh, "GET", f"/admin/v1/ledger/merchants/{mch}/balances"))
    assert after == {"ACCOUNT_KIND_PENDING": 0, "ACCOUNT_KIND_AVAILABLE": PENDING_AFTER,
                     "ACCOUNT_KIND_FROZEN": 0}
    again = await admin(http, mesh, "POST", "/admin/v1/ledger/settlements:run", json=run_body)
    assert again["postingsMade"] == 0 and again["postings"] == []

    # A withdrawal requested by an operator for the merchant, approved, paid out.
    withdrawal_id = f"WD{secrets.token_hex(6)}"
    requested = await admin(http, mesh, "POST", "/admin/v1/ledger/withdrawals", json={
        "withdrawalId": withdrawal_id, "owner": mch, "currency": "CNY", "amount": 1000,
        "operator": "ops:alice", "note": "weekly payout"})
    assert requested["withdrawal"]["state"] == "WITHDRAWAL_STATE_REQUESTED"
    base = f"/admin/v1/ledger/withdrawals/{withdrawal_id}"
    approved = await admin(http, mesh, "POST", f"{base}/approve", json={"operator": "ops:bob"})
    assert approved["withdrawal"]["state"] == "WITHDRAWAL_STATE_APPROVED"
    paid = await admin(http, mesh, "POST", f"{base}/paid", json={"operator": "payout"})
    assert paid["withdrawal"]["state"] == "WITHDRAWAL_STATE_PAID"
    fetched = await admin(http, mesh, "GET", base)
    assert [s["operator"] for s in fetched["withdrawal"]["steps"]] == ["ops:alice", "ops:bob",
                                                                       "payout"]
    listed = await admin(http, mesh, "GET", "/admin/v1/ledger/withdrawals",
                         params={"owner": mch, "state": "WITHDRAWAL_STATE_PAID"})
    assert [w["withdrawalId"] for w in listed["withdrawals"]] == [withdrawal_id]
    final = kinds(await admin(http, mesh, "GET", f"/admin/v1/ledger/merchants/{mch}/balances"))
    assert final == {"ACCOUNT_KIND_PENDING": 0, "ACCOUNT_KIND_AVAILABLE": PENDING_AFTER - 1000,
                     "ACCOUNT_KIND_FROZEN": 0}

    terms_path = f"/admin/v1/ledger/merchants/{mch}/settlement-terms"
    assert (await admin(http, mesh, "GET", terms_path))["terms"]["isDefault"] is True
    put = await admin(http, mesh, "PUT", terms_path,
                      json={"settleDays": 2, "operator": "ops:alice", "note": "risk"})
    assert put["changed"] is True and put["terms"]["settleDays"] == 2
    assert (await admin(http, mesh, "GET", terms_path))["terms"]["settleDays"] == 2
    checked = await admin(http, mesh, "GET", "/admin/v1/ledger/check")
    assert checked["sound"] is True

    # The same figures on the command line.
    cli = mesh.cli_json("ledger", "balances", mch)
    assert kinds(cli) == final
    cli_statement = mesh.cli_json("ledger", "statement", mch, today.isoformat(),
                                  "--currency", "CNY")
    assert [(a["kind"], a["closingBalance"]) for a in cli_statement["accounts"]] == [  # type: ignore[union-attr]
        ("ACCOUNT_KIND_PENDING", "0"), ("ACCOUNT_KIND_AVAILABLE", str(PENDING_AFTER - 1000)),
        ("ACCOUNT_KIND_FROZEN", "0")]
    refunds = mesh.cli_json("ledger", "entries", str(pending_id), "--code", "REFUND_HOLD")
    assert [e["amount"] for e in refunds["entries"]] == ["-597"]  # type: ignore[index]
    paged = mesh.cli_json("ledger", "entries", str(pending_id), "--from", today.isoformat(),
                          "--to", today.isoformat(), "--limit", "2")
    assert len(paged["entries"]) == 2 and paged["page"]["hasMore"] is True  # type: ignore
    rest = mesh.cli_json("ledger", "entries", str(pending_id), "--limit", "2", "--cursor",
                         paged["page"]["nextPageToken"])  # type: ignore[index]
    assert [e["transfer"]["code"] for e in rest["entries"]] == [  # type: ignore[index]
        "PAY_SUCCESS", "PAY_SUCCESS"]
    got = mesh.cli_json("ledger", "withdraw", "get", withdrawal_id)
    assert got["withdrawal"]["state"] == "WITHDRAWAL_STATE_PAID"  # type: ignore[index]
    terms = mesh.cli_json("ledger", "terms", "get", mch)
    assert terms["terms"]["settleDays"] == 2  # type: ignore[index]
    nothing = mesh.cli_json("ledger", "settle", "--today", (today + timedelta(days=1)).isoformat(),
                            "--reconciled-through", today.isoformat(), "--only", mch)
    assert nothing["postingsMade"] == 0 and nothing["merchantsExamined"] == 1
    refused = mesh.cli("ledger", "withdraw", "paid", withdrawal_id + "X")
    assert refused.returncode != 0 and "NOT_FOUND" in refused.stderr
    assert "Traceback" not in refused.stderr


async def test_the_ledger_api_is_refused_without_the_token(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    mch = mesh.demo["mchNo"]
    before = (await ledger.GetBalances(apb.GetBalancesRequest(owner=mch))).accounts
    today = datetime.now(CHINA).date()
    calls = [
        ("GET", f"/admin/v1/ledger/merchants/{mch}/balances", None),
        ("GET", f"/admin/v1/ledger/merchants/{mch}/statements/{today}", None),
        ("GET", "/admin/v1/ledger/withdrawals", None),
        ("GET", "/admin/v1/ledger/check", None),
        ("POST", "/admin/v1/ledger/settlements:run",
         {"today": (today + timedelta(days=1)).isoformat(), "reconciledThrough": str(today)}),
        ("POST", "/admin/v1/ledger/withdrawals",
         {"withdrawalId": "nope", "owner": mch, "currency": "CNY", "amount": 1,
          "operator": "x"}),
        ("POST", "/admin/v1/ledger/adjustments",
         {"adjustmentId": "nope", "debitAccountId": 1, "creditAccountId": 2, "amount": 1,
          "reason": "x", "operator": "x"}),
        ("PUT", f"/admin/v1/ledger/merchants/{mch}/settlement-terms",
         {"settleDays": 0, "operator": "x"}),
    ]
    for method, path, body in calls:
        for headers in ({}, {"authorization": "Bearer wrong"}):
            answer = await http.request(method, mesh.rest_url + path, json=body,
                                        headers=headers)
            assert answer.status_code == 401, (path, answer.text)
            assert "ADMIN_TOKEN_INVALID" in answer.text and "Traceback" not in answer.text
            assert answer.headers["content-type"].startswith("application/json")
    bad = await http.get(f"{mesh.rest_url}/admin/v1/ledger/merchants/{mch}/statements/someday",
                         headers=auth(mesh))
    assert bad.status_code == 400 and "date" in bad.text and "Traceback" not in bad.text
    after = (await ledger.GetBalances(apb.GetBalancesRequest(owner=mch))).accounts
    assert [a.kind for a in after] == [a.kind for a in before]  # nothing opened or moved
    assert (await ledger.GetSettlementTerms(apb.GetSettlementTermsRequest(owner=mch))
            ).terms.is_default
    # Writes that only the mesh makes are refused at the edge, token or not.
    async with grpc.aio.insecure_channel(f"127.0.0.1:{mesh.config.http_port}") as channel:
        edge = account_pb2_grpc.AccountServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await edge.Post(apb.PostRequest(posting_id="edge", transfers=[apb.TransferRequest(
                debit_account_id=1, credit_account_id=2, amount=1, code="X")]),
                metadata=tuple(auth(mesh).items()), timeout=10)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(refused.value) == "INTERNAL_ONLY"
