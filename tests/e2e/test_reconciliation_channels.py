"""One reconciliation batch per real bill format, through the channel simulators: WeChat Pay's
CSV, Alipay's GBK zip, UnionPay's fixed-width file. Payments and a refund made through the real
adapters, one amount planted wrong in the simulator's bill: exactly that mistake is found."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.simulators.alipay import AlipaySimulator
from paymesh.services.simulators.wxpay import WxpaySimulator
from paymesh.services.simulators.ysfpay import YsfpaySimulator
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import merchant_with_channel, order_params, signed_post, wait_for_state
from tests.e2e.test_reconciliation import china_today

pytestmark = pytest.mark.e2e
TODAY_READY = -86_400.0  # a bill delay that makes today's bill ready at once


@dataclass
class Format:
    """How a simulator is made, paid, refunded and told to misreport an amount."""

    way_code: str
    start: Callable[[], Any]
    plant_amount: Callable[[Any, str, int], None]
    finish_refund: Callable[[Any, str], None] | None = None


FORMATS = {
    "wxpay": Format(
        "WX_NATIVE", lambda: WxpaySimulator(time_scale=0.001),
        lambda sim, ref, fen: sim.plant_bill_mistake("amount", ref, amount=fen),
        lambda sim, refund_id: sim.finish_refund(refund_id)),
    "alipay": Format(
        "ALI_QR", lambda: AlipaySimulator(time_scale=1e-5, bill_delay=TODAY_READY),
        lambda sim, ref, fen: sim.bills.plant({"kind": "amount", "out_trade_no": ref,
                                               "fen": fen})),
    "ysfpay": Format(
        "UP_QR", lambda: YsfpaySimulator(time_scale=0.001, bill_delay=TODAY_READY),
        lambda sim, ref, fen: sim.reconciliation.plant({"kind": "amount", "orderId": ref,
                                                        "fen": fen})),
}


@pytest.fixture(params=sorted(FORMATS))
def bill_format(request: pytest.FixtureRequest) -> Iterator[tuple[str, Format, Any]]:
    if_code = request.param
    found = FORMATS[if_code]
    with found.start() as sim:
        if if_code == "wxpay":
            sim.bills.close_day()  # today's bill is ready now
        yield if_code, found, sim


async def pay(mesh: RunningMesh, http: httpx.AsyncClient, creds: MerchantCredentials,
              found: Format, sim: Any, amount: int) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode=found.way_code, amount=amount), creds)
    assert created["code"] == 0, created
    pay_order_id: str = created["data"]["payOrderId"]
    await asyncio.to_thread(sim.pay, pay_order_id)
    paid = await wait_for_state(http, mesh, creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2, paid
    return pay_order_id


async def refund(mesh: RunningMesh, http: httpx.AsyncClient, creds: MerchantCredentials,
                 found: Format, sim: Any, pay_order_id: str, amount: int) -> str:
    asked = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": f"RF{time.time_ns()}",
        "refundAmount": amount, "currency": "cny", "refundReason": "returned"}, creds)
    assert asked["code"] == 0, asked
    refund_order_id: str = asked["data"]["refundOrderId"]
    if asked["data"]["state"] == 1 and found.finish_refund is not None:
        await asyncio.to_thread(found.finish_refund, sim, refund_order_id)
    deadline = time.monotonic() + 10
    while True:
        queried = await signed_post(http, mesh, "/api/refund/query",
                                    {"refundOrderId": refund_order_id}, creds)
        if queried["data"]["state"] == 2 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert queried["data"]["state"] == 2, queried
    return refund_order_id


async def test_each_bill_format_finds_exactly_the_planted_mistake(
        mesh: RunningMesh, http: httpx.AsyncClient,
        bill_format: tuple[str, Format, Any]) -> None:
    if_code, found, sim = bill_format
    creds = await merchant_with_channel(mesh, if_code, sim.adapter_params(), [found.way_code])
    key = f"{creds.app_id}.{if_code}"
    first = await pay(mesh, http, creds, found, sim, 1000)
    wrong = await pay(mesh, http, creds, found, sim, 2000)
    third = await pay(mesh, http, creds, found, sim, 3000)
    refunded = await refund(mesh, http, creds, found, sim, first, 400)
    found.plant_amount(sim, wrong, 2100)

    run = mesh.cli_json("recon", "run", key, china_today())
    batch = run["batch"]
    assert batch["state"] == "BATCH_STATE_SUCCESS", batch
    listed = mesh.cli_json("recon", "mistakes", "--batch", batch["batchId"])
    assert [(m["type"], m["payOrderId"], m["platformAmount"], m["channelAmount"])
            for m in listed.get("mistakes", [])] == [
        ("MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH", wrong, "2000", "2100")]
    assert int(batch["matchedCount"]) == 3  # the other two payments and the refund
    channel, platform = batch["channel"], batch["platform"]
    assert (int(channel["payCount"]), int(channel["payAmount"])) == (3, 1000 + 2100 + 3000)
    assert (int(channel["refundCount"]), int(channel["refundAmount"])) == (1, 400)
    assert (int(platform["payCount"]), int(platform["payAmount"])) == (3, 6000)
    assert (int(platform["refundCount"]), int(platform["refundAmount"])) == (1, 400)
    assert third and refunded
