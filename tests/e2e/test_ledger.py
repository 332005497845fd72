"""Money events reach the ledger through the gateway's outbox, once each, to the fen."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2 as mpb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.common.db import open_engine
from paymesh.services.gateway.ledger_events import LedgerEvents
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_execute,
    gateway_rows,
    order_params,
    pay_on_sandbox_page,
    signed_post,
)

pytestmark = pytest.mark.e2e
PENDING, CLEARING, FEE = (apb.ACCOUNT_KIND_PENDING, apb.ACCOUNT_KIND_CHANNEL_CLEARING,
                          apb.ACCOUNT_KIND_FEE_INCOME)
FROZEN = apb.ACCOUNT_KIND_FROZEN


@pytest.fixture
async def ledger(mesh: RunningMesh) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


async def fresh_shop(mesh: RunningMesh) -> MerchantCredentials:
    """A merchant of its own (so its pending balance is this test's alone), paying WX_H5 through
    the sandbox at the demo's rate 0.006."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        merchant = await stub.CreateMerchant(mpb.CreateMerchantRequest(name="Ledger Shop"))
        app = await stub.CreateApp(mpb.CreateAppRequest(mch_no=merchant.merchant.mch_no,
                                                        name="ledger"))
        await stub.PutPayPassage(mpb.PutPayPassageRequest(
            app_id=app.app.app_id, way_code="WX_H5", if_code="sandbox", fee_rate="0.006"))
    return MerchantCredentials(merchant.merchant.mch_no, app.app.app_id, app.app_secret)


async def balance(ledger: account_pb2_grpc.AccountServiceStub, owner: str, kind: int) -> int:
    accounts = (await ledger.GetBalances(apb.GetBalancesRequest(owner=owner))).accounts
    return sum(a.balance for a in accounts if a.kind == kind and a.currency == "CNY")


async def moved_by(ledger: account_pb2_grpc.AccountServiceStub, owner: str, kind: int,
                   postings: set[str]) -> int:
    """What these postings moved on a shared account (others' tests post to it too)."""
    [account] = [a for a in (await ledger.GetBalances(apb.GetBalancesRequest(owner=owner)))
                 .accounts if a.kind == kind and a.currency == "CNY"]
    total, token = 0, ""
    while True:
        page = await ledger.ListEntries(apb.ListEntriesRequest(
            account_id=account.account_id, page={"page_size": 100, "page_token": token}))
        total += sum(e.amount for e in page.entries if e.transfer.posting_id in postings)
        if not page.page.has_more:
            return total
        token = page.page.next_page_token


async def until(probe: Any, expected: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while (value := await probe()) != expected:
        assert time.monotonic() < deadline, f"{value!r} never became {expected!r}"
        await asyncio.sleep(0.1)


async def test_payment_and_refunds_post_once_each_to_the_fen(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    shop = await fresh_shop(mesh)
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(amount=1234), shop)
    pay_order_id = created["data"]["payOrderId"]
    await pay_on_sandbox_page(http, created["data"]["payData"])
    await until(lambda: balance(ledger, shop.mch_no, PENDING), 1227)
    postings = {f"pay:{pay_order_id}"}
    # The money went through the app's own sandbox config: its clearing account, by key.
    clearing = f"channel:{shop.app_id}.sandbox"
    assert gateway_rows(mesh, "SELECT channel_config_key FROM pay_order WHERE pay_order_id = :p",
                        p=pay_order_id) == [(f"{shop.app_id}.sandbox",)]
    assert await moved_by(ledger, "platform", FEE, postings) == 7
    assert await balance(ledger, clearing, CLEARING) == -1234

    refunds = []
    for amount, pending_after, share in ((600, 630, 3), (634, 0, 4)):  # 3 (3.40), the 4 left
        answer = await signed_post(http, mesh, "/api/refund/refundOrder", {
            "payOrderId": pay_order_id, "mchRefundNo": f"LG{amount}{pay_order_id[-8:]}",
            "refundAmount": amount, "currency": "cny", "refundReason": "returned"}, shop)
        assert answer["data"]["state"] == 2, answer
        refunds.append(answer["data"]["refundOrderId"])
        # Held in FROZEN when the refund is asked, out to clearing once it is booked.
        await until(lambda: balance(ledger, shop.mch_no, PENDING), pending_after)
        await until(lambda: moved_by(ledger, "platform", FEE, {f"refund:{refunds[-1]}"}),
                    -share)
        assert await balance(ledger, shop.mch_no, FROZEN) == 0
    postings |= {f"refund:{r}" for r in refunds}
    assert await moved_by(ledger, "platform", FEE, postings) == 0
    assert await balance(ledger, clearing, CLEARING) == 0
    assert await moved_by(ledger, "platform", FEE, {f"refund:{refunds[0]}"}) == -3
    assert gateway_rows(mesh, "SELECT DISTINCT channel_config_key FROM refund_order "
                        "WHERE pay_order_id = :p", p=pay_order_id) == [(f"{shop.app_id}.sandbox",)]

    # The same events delivered again, straight to a consumer: nothing moves twice.
    engine = open_engine(mesh.config.db_urls["gateway"])
    try:
        events = LedgerEvents(ledger, PayOrderRepository(engine), RefundRepository(engine))
        await events.on_event("pay.succeeded", pay_order_id)
        for refund_order_id in refunds:
            await events.on_event("refund.succeeded", refund_order_id)
    finally:
        await engine.dispose()
    # And through the outbox: the ledger consumer's deliveries forgotten, the events due again.
    event_ids = [row[0] for row in gateway_rows(
        mesh, "SELECT event_id FROM outbox_event WHERE order_id IN (:p, :r1, :r2)",
        p=pay_order_id, r1=refunds[0], r2=refunds[1])]
    assert len(event_ids) == 3
    for event_id in event_ids:
        assert gateway_execute(mesh, "DELETE FROM outbox_delivery WHERE event_id = :e AND "
                               "consumer = 'ledger'", e=event_id) == 1
        gateway_execute(mesh, "UPDATE outbox_event SET delivered_at = NULL WHERE event_id = :e",
                        e=event_id)

    async def redelivered() -> int:
        return len(gateway_rows(mesh, "SELECT 1 FROM outbox_delivery WHERE consumer = 'ledger' "
                                "AND event_id IN (:a, :b, :c)", a=event_ids[0],
                                b=event_ids[1], c=event_ids[2]))

    await until(redelivered, 3)
    assert await balance(ledger, shop.mch_no, PENDING) == 0
    assert await moved_by(ledger, "platform", FEE, postings) == 0
    assert await balance(ledger, clearing, CLEARING) == 0
    for posting in postings:  # one transfer set per event (two transfers each), never a second
        assert await _transfers_of(ledger, clearing, posting) == 2, posting

    checked = mesh.cli("ledger", "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["sound"] is True


async def _transfers_of(ledger: account_pb2_grpc.AccountServiceStub, owner: str,
                       posting: str) -> int:
    """How many transfers of ``posting`` touch the clearing account of ``owner``."""
    [account] = [a for a in (await ledger.GetBalances(apb.GetBalancesRequest(
        owner=owner))).accounts if a.currency == "CNY"]
    count, token = 0, ""
    while True:
        page = await ledger.ListEntries(apb.ListEntriesRequest(
            account_id=account.account_id, page={"page_size": 100, "page_token": token}))
        count += sum(1 for e in page.entries if e.transfer.posting_id == posting)
        if not page.page.has_more:
            return count
        token = page.page.next_page_token


def account_execute(mesh: RunningMesh, sql: str, **bind: Any) -> None:
    url = make_url(mesh.config.db_urls["account"])
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), bind)
    finally:
        engine.dispose()


async def test_ledger_check_fails_when_a_balance_disagrees_with_its_transfers(
        mesh: RunningMesh, ledger: account_pb2_grpc.AccountServiceStub) -> None:
    opened = await ledger.OpenAccount(apb.OpenAccountRequest(
        owner="e2e-tampered", currency="CNY", kind=apb.ACCOUNT_KIND_FEE_INCOME))
    account_id = opened.account.account_id
    account_execute(mesh, "UPDATE account SET balance = 5 WHERE id = :a", a=account_id)
    try:
        checked = mesh.cli("ledger", "check")
        assert checked.returncode == 1, checked.stdout + checked.stderr
        report = json.loads(checked.stdout)
        assert report["sound"] is False
        assert {"accountId": str(account_id), "storedBalance": "5", "transfersBalance": "0",
                "disallowedNegative": False} in report["discrepancies"]
        assert any(t["currency"] == "CNY" and t["total"] == "5" for t in report["totals"])
    finally:
        account_execute(mesh, "UPDATE account SET balance = 0 WHERE id = :a", a=account_id)
    assert mesh.cli("ledger", "check").returncode == 0
