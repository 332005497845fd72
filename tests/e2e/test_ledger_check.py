"""``paymesh ledger check`` across the gateway and the ledger on a real mesh: sound after payments
and refunds through the edge, and failing, naming them, on each way the two are made to disagree.
Every breakage is of one merchant of its own and is repaired before the test ends, so the rest of
the suite, and the check the session ends with (conftest), find the books sound."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import pytest

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_execute,
    gateway_rows,
    order_params,
    pay_on_sandbox_page,
    signed_post,
)
from tests.e2e.test_ledger import PENDING, balance, fresh_shop, until

pytestmark = pytest.mark.e2e
CLEARING, FEE = apb.ACCOUNT_KIND_CHANNEL_CLEARING, apb.ACCOUNT_KIND_FEE_INCOME


@pytest.fixture
async def ledger(mesh: RunningMesh) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


def check(mesh: RunningMesh, *args: str) -> tuple[int, dict[str, Any]]:
    done = mesh.cli("ledger", "check", *args)
    assert done.stdout, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert done.returncode == (0 if report["sound"] else 1)
    return done.returncode, report


def examples(report: dict[str, Any], fault: str, key: str) -> set[Any]:
    return {example[key] for example in report["orders"]["faults"][fault]["examples"]}


async def account_id(ledger: account_pb2_grpc.AccountServiceStub, owner: str, kind: int) -> int:
    opened = await ledger.OpenAccount(apb.OpenAccountRequest(owner=owner, currency="CNY",
                                                             kind=kind))
    return int(opened.account.account_id)


async def ledger_delivered(mesh: RunningMesh, pay_order_id: str) -> bool:
    return bool(gateway_rows(
        mesh, "SELECT 1 FROM outbox_delivery d JOIN outbox_event e ON e.event_id = d.event_id "
        "WHERE e.order_id = :p AND e.topic = 'pay.succeeded' AND d.consumer = 'ledger'",
        p=pay_order_id))


async def test_the_check_holds_the_ledger_against_the_orders_and_names_what_disagrees(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    shop = await fresh_shop(mesh)
    paid = []
    for amount in (1234, 1000):
        created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                    order_params(amount=amount), shop)
        await pay_on_sandbox_page(http, created["data"]["payData"])
        paid.append(created["data"]["payOrderId"])
    await until(lambda: balance(ledger, shop.mch_no, PENDING), 1227 + 994)
    refunded = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": paid[0], "mchRefundNo": f"LC{paid[0][-10:]}", "refundAmount": 600,
        "currency": "cny", "refundReason": "returned"}, shop)
    assert refunded["data"]["state"] == 2, refunded
    await until(lambda: balance(ledger, shop.mch_no, PENDING), 1227 + 994 - 597)
    code, report = check(mesh, "--mch-no", shop.mch_no)
    assert code == 0, report
    orders = report["orders"]
    assert (orders["mchNo"], orders["paidOrders"], orders["succeededRefunds"]) == (
        shop.mch_no, 2, 1)
    assert all(fault["count"] == 0 for fault in orders["faults"].values())

    # 1. An order marked paid straight in the gateway's database: no event, so no posting.
    unpaid = (await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=500),
                                shop))["data"]["payOrderId"]
    now = datetime.now(UTC).replace(tzinfo=None)
    assert gateway_execute(mesh, "UPDATE pay_order SET state = 2, success_at = :t "
                           "WHERE pay_order_id = :p", t=now, p=unpaid) == 1
    # 2. A stray payment posting straight to the ledger, for an order nobody has.
    stray = f"PXXX{secrets.token_hex(6).upper()}"
    clearing = await account_id(ledger, f"channel:{shop.app_id}.sandbox", CLEARING)
    pending = await account_id(ledger, shop.mch_no, PENDING)
    await ledger.Post(apb.PostRequest(posting_id=f"pay:{stray}", transfers=[
        apb.TransferRequest(debit_account_id=clearing, credit_account_id=pending, amount=300,
                            code="PAY_SUCCESS")]))
    # 3. A payment whose posting was made, under its id, with other figures than the order's:
    #    the outbox's own posting is then refused for good (POSTING_ID_REUSED).
    other = (await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=2000),
                               shop))
    other_id = other["data"]["payOrderId"]
    fee_income = await account_id(ledger, "platform", FEE)
    await ledger.Post(apb.PostRequest(posting_id=f"pay:{other_id}", transfers=[
        apb.TransferRequest(debit_account_id=clearing, credit_account_id=pending, amount=1900,
                            code="PAY_SUCCESS"),
        apb.TransferRequest(debit_account_id=clearing, credit_account_id=fee_income,
                            amount=100, code="PAY_FEE")]))
    await pay_on_sandbox_page(http, other["data"]["payData"])
    await until(lambda: ledger_delivered(mesh, other_id), True)

    for scope in (("--mch-no", shop.mch_no), ()):
        code, report = check(mesh, *scope)
        assert code == 1 and report["sound"] is False
        assert report["invariantsSound"] is True  # the ledger agrees with itself all along
        assert unpaid in examples(report, "paidOrdersWithoutPosting", "payOrderId")
        assert f"pay:{stray}" in examples(report, "payPostingsWithoutOrder", "postingId")
        mismatched = {e["payOrderId"]: e for e in
                      report["orders"]["faults"]["payPostingsMismatched"]["examples"]}
        assert {k: mismatched[other_id][k] for k in ("expectedNet", "postedNet", "expectedFee",
                                                      "postedFee")} == {
            "expectedNet": 2000 - 12, "postedNet": 1900, "expectedFee": 12, "postedFee": 100}
    scoped = check(mesh, "--mch-no", shop.mch_no)[1]["orders"]["faults"]
    assert {name: f["count"] for name, f in scoped.items() if f["count"]} == {
        "paidOrdersWithoutPosting": 1, "payPostingsMismatched": 1, "payPostingsWithoutOrder": 1}

    # Repairs, as an operator would make them: the order back to what it was, the stray
    # payment taken back by a reconciliation posting naming it, the order's fee as booked.
    assert gateway_execute(mesh, "UPDATE pay_order SET state = 6, success_at = NULL "
                           "WHERE pay_order_id = :p", p=unpaid) == 1
    mistake = f"E2E{secrets.token_hex(6)}"
    await ledger.Post(apb.PostRequest(posting_id=f"recon:{mistake}", transfers=[
        apb.TransferRequest(debit_account_id=pending, credit_account_id=clearing, amount=300,
                            code="RECON_PAY_REVERSAL",
                            memo=f"reconciliation {mistake}: BANK_MISS of {stray}")]))
    assert gateway_execute(mesh, "UPDATE pay_order SET fee_amount = 100 "
                           "WHERE pay_order_id = :p", p=other_id) == 1
    deadline = time.monotonic() + 10
    while (result := check(mesh, "--mch-no", shop.mch_no))[0] != 0:
        assert time.monotonic() < deadline, result
    assert result[1]["orders"]["paidOrders"] == 3
