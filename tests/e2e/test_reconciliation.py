"""Reconciliation end to end on the sandbox: real orders, a bill with planted mistakes, a batch run
from the command line, mistakes handled over admin REST and the CLI, the orders and the ledger
changed as declared and only once, and re-runs idempotent."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post

pytestmark = pytest.mark.e2e
PENDING = apb.ACCOUNT_KIND_PENDING


def china_today() -> str:
    return (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()


def auth(mesh: RunningMesh) -> dict[str, str]:
    return {"authorization": f"Bearer {mesh.demo['adminToken']}"}


def db_execute(mesh: RunningMesh, service: str, sql: str, **bind: Any) -> int:
    """Changes a service's database directly (planting a bill mistake in the sandbox's book,
    ageing rows); rows hit."""
    url = make_url(mesh.config.db_urls[service])
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    try:
        with engine.begin() as conn:
            return int(conn.execute(text(sql), bind).rowcount)
    finally:
        engine.dispose()


def plant(mesh: RunningMesh, ref: str, kind: str, *, amount: int | None = None,
          fee: int | None = None, status: str = "", bill_date: str | None = None) -> None:
    """A sandbox bill mistake (services/channel/models.py SandboxBillMistake)."""
    db_execute(mesh, "channel", "INSERT INTO sandbox_bill_mistake (ref, kind, amount, fee, "
               "status, bill_date, created_at) VALUES (:ref, :kind, :amount, :fee, :status, "
               ":bill_date, :now)", ref=ref, kind=kind, amount=amount, fee=fee, status=status,
               bill_date=bill_date, now=datetime.now(UTC).replace(tzinfo=None))


async def sandbox_shop(mesh: RunningMesh, params: dict[str, Any]) -> tuple[MerchantCredentials,
                                                                             str]:
    """A merchant of its own paying WX_H5 through its sandbox config (fee 0.6 %, channel cost
    0.6 %); returns its credentials and the config's key."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        merchant = await stub.CreateMerchant(mpb.CreateMerchantRequest(name="Recon Shop"))
        app = await stub.CreateApp(mpb.CreateAppRequest(mch_no=merchant.merchant.mch_no,
                                                        name="recon"))
        app_id = app.app.app_id
        await stub.PutPayPassage(mpb.PutPayPassageRequest(
            app_id=app_id, way_code="WX_H5", if_code="sandbox", fee_rate="0.006",
            channel_cost_rate="0.006"))
        await stub.PutChannelConfig(mpb.PutChannelConfigRequest(
            app_id=app_id, if_code="sandbox", params_json=json.dumps(params)))
    return (MerchantCredentials(merchant.merchant.mch_no, app_id, app.app_secret),
            f"{app_id}.sandbox")


async def order(http: httpx.AsyncClient, mesh: RunningMesh, creds: MerchantCredentials,
                amount: int, pay: bool = True) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(amount=amount), creds)
    assert created["code"] == 0, created
    if pay:
        await pay_on_sandbox_page(http, created["data"]["payData"])
    return str(created["data"]["payOrderId"])


def pay_row(mesh: RunningMesh, pay_order_id: str) -> Any:
    return gateway_rows(mesh, "SELECT state, amount, fee_amount, channel_fee_amount FROM "
                        "pay_order WHERE pay_order_id = :i", i=pay_order_id)[0]


@pytest.fixture
async def ledger(mesh: RunningMesh) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


async def pending(ledger: account_pb2_grpc.AccountServiceStub, owner: str) -> int:
    accounts = (await ledger.GetBalances(apb.GetBalancesRequest(owner=owner))).accounts
    return sum(a.balance for a in accounts if a.kind == PENDING and a.currency == "CNY")


async def settled_to(ledger: account_pb2_grpc.AccountServiceStub, owner: str,
                     expected: int) -> int:
    """The merchant's pending balance once the outbox has posted what it owes (bounded)."""
    deadline = time.monotonic() + 15
    while (value := await pending(ledger, owner)) != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return value


def mistakes_by_order(listed: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["type"].removeprefix("MISTAKE_TYPE_"), m.get("refundOrderId") or m["payOrderId"]):
            m for m in listed.get("mistakes", [])}


async def test_a_sandbox_day_with_planted_mistakes_is_found_handled_and_rerun(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    creds, key = await sandbox_shop(mesh, {"billToday": True, "feeRate": "0.006"})
    today = china_today()
    short_cash = await order(http, mesh, creds, 10000)
    over_status = await order(http, mesh, creds, 2000)
    fee_wrong = await order(http, mesh, creds, 3000)
    omitted = await order(http, mesh, creds, 4000)
    clean = await order(http, mesh, creds, 5000)
    unpaid = await order(http, mesh, creds, 600, pay=False)
    stranger = f"P9{secrets.randbelow(10**17):017d}"
    plant(mesh, short_cash, "AMOUNT", amount=10100)
    plant(mesh, short_cash, "FEE", fee=61)  # the channel's fee of what it took
    plant(mesh, over_status, "STATUS", status="FAILED")
    plant(mesh, fee_wrong, "FEE", fee=19)  # the platform expects 18 (0.6 % of 3000)
    plant(mesh, omitted, "OMIT")
    plant(mesh, unpaid, "EXTRA", amount=600, bill_date=today)  # paid at the channel after all
    plant(mesh, stranger, "EXTRA", amount=500, bill_date=today)
    owner = creds.mch_no
    paid_net = sum(a - round(a * 0.006) for a in (10000, 2000, 3000, 4000, 5000))
    assert await settled_to(ledger, owner, paid_net) == paid_net

    run = mesh.cli_json("recon", "run", key, today)
    batch = run["batch"]
    assert run["ran"] is True and batch["state"] == "BATCH_STATE_SUCCESS", batch
    assert batch["channelConfigKey"] == key and batch["ifCode"] == "sandbox"
    assert int(batch["matchedCount"]) == 1  # the clean order
    assert int(batch["poolAdded"]) == 1  # the omitted one waits for a later bill
    listed = mesh.cli_json("recon", "mistakes", "--batch", batch["batchId"], "--page-size", "50")
    found = mistakes_by_order(listed)
    assert set(found) == {
        ("PLATFORM_SHORT_CASH_MISMATCH", short_cash), ("PLATFORM_OVER_STATUS_MISMATCH",
                                                       over_status),
        ("FEE_MISMATCH", fee_wrong), ("PLATFORM_SHORT_STATUS_MISMATCH", unpaid),
        ("PLATFORM_MISS", stranger)}
    assert all(order_id not in (clean, omitted) for _, order_id in found)
    summary = mesh.cli_json("recon", "summary", batch["batchId"])
    assert sum(int(s["count"]) for s in summary["mistakes"]) == 5

    # The channel says B failed: over admin REST, the order fails and the merchant gives back.
    url = f"{mesh.rest_url}/admin/v1/recon/mistakes"
    b = found[("PLATFORM_OVER_STATUS_MISMATCH", over_status)]
    decide = {"decision": "DECISION_CHANNEL_AUTHORITATIVE", "operator": "e2e",
              "remark": "the channel's bill"}
    unauthorized = await http.post(f"{url}/{b['mistakeId']}/handle", json=decide)
    assert unauthorized.status_code == 401
    answer = await http.post(f"{url}/{b['mistakeId']}/handle", json=decide, headers=auth(mesh))
    assert answer.status_code == 200, answer.text
    handled = answer.json()["mistake"]
    assert handled["state"] == "MISTAKE_STATE_HANDLED"
    assert handled["correctionAction"] == "CORRECTION_ACTION_MARK_PAY_FAILED"
    assert handled["postingId"] == f"recon:{b['mistakeId']}"
    assert pay_row(mesh, over_status)[0] == 3
    after_b = paid_net - (2000 - 12)
    assert await pending(ledger, owner) == after_b
    again = await http.post(f"{url}/{b['mistakeId']}/handle", json=decide, headers=auth(mesh))
    assert again.json()["replayed"] is True
    assert await pending(ledger, owner) == after_b

    # The channel took 10100 for A: the CLI corrects the amount, the ledger the difference.
    a = found[("PLATFORM_SHORT_CASH_MISMATCH", short_cash)]
    mesh.cli_json("recon", "handle", a["mistakeId"], "channel", "--operator", "e2e")
    state, amount, fee, _ = pay_row(mesh, short_cash)
    assert (state, amount, fee) == (2, 10100, 61)
    after_a = after_b + (10100 - 61) - (10000 - 60)
    assert await pending(ledger, owner) == after_a
    mesh.cli_json("recon", "handle", a["mistakeId"], "channel", "--operator", "e2e")
    assert await pending(ledger, owner) == after_a

    # The channel was paid for E after all: the order succeeds and the outbox credits it.
    e = found[("PLATFORM_SHORT_STATUS_MISMATCH", unpaid)]
    mesh.cli_json("recon", "handle", e["mistakeId"], "channel", "--operator", "e2e")
    assert pay_row(mesh, unpaid)[0] == 2
    assert await settled_to(ledger, owner, after_a + 600 - 4) == after_a + 600 - 4

    # The channel's fee for C is right: the platform's cost is corrected, the merchant untouched.
    c = found[("FEE_MISMATCH", fee_wrong)]
    mesh.cli_json("recon", "handle", c["mistakeId"], "channel", "--operator", "e2e")
    assert pay_row(mesh, fee_wrong)[3] == 19

    # Nobody knows the stranger: the channel cannot be followed, the platform's word closes it.
    x = found[("PLATFORM_MISS", stranger)]
    refused = await http.post(f"{url}/{x['mistakeId']}/handle", json=decide, headers=auth(mesh))
    assert refused.status_code == 400 and "MISTAKE_NOT_CORRECTABLE" in refused.text
    closed = mesh.cli_json("recon", "handle", x["mistakeId"], "platform", "--operator", "e2e",
                           "--remark", "foreign traffic")
    assert closed["mistake"]["state"] == "MISTAKE_STATE_HANDLED"

    # Running the day again returns the batch; forcing it finds nothing open any more.
    rerun = mesh.cli_json("recon", "run", key, today)
    assert rerun["ran"] is False and rerun["batch"]["batchId"] == batch["batchId"]
    forced = mesh.cli_json("recon", "run", key, today, "--force")
    assert forced["ran"] is True and forced["batch"]["state"] == "BATCH_STATE_SUCCESS"
    still_open = mesh.cli_json("recon", "mistakes", "--batch", batch["batchId"], "--open")
    assert still_open.get("mistakes", []) == []
    assert int(forced["batch"]["openMistakeCount"]) == 0
    assert int(forced["batch"]["mistakeCount"]) == 5  # the handled ones are kept
    assert int(forced["batch"]["matchedCount"]) == 5
    assert mesh.cli("ledger", "check").returncode == 0

    got = await http.get(f"{mesh.rest_url}/admin/v1/recon/batches/{batch['batchId']}/summary",
                         headers=auth(mesh))
    assert got.status_code == 200 and got.json()["batch"]["attempts"] == 2
