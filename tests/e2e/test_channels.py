"""Each real channel adapter through the real edge, against its local simulator.

Unified order → the simulator → the payer pays there → its signed callback comes back through
Envoy → the order is paid → query; closing an unpaid order; and callbacks that must be refused
(tampered, a signature probe, stale, another merchant's, a wrong amount) change nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.simulators.alipay import AlipaySimulator
from paymesh.services.simulators.wxpay import WxpaySimulator
from paymesh.services.simulators.ysfpay import YsfpaySimulator
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_rows,
    merchant_with_channel,
    order_params,
    signed_post,
    wait_for_state,
)

pytestmark = pytest.mark.e2e


@dataclass
class Channel:
    """A simulator and a merchant whose app pays through it."""

    sim: Any
    creds: MerchantCredentials
    way_code: str


@pytest.fixture(scope="module")
def wxpay_sim() -> Iterator[WxpaySimulator]:
    with WxpaySimulator(time_scale=0.001) as sim:
        yield sim


@pytest.fixture(scope="module")
def alipay_sim() -> Iterator[AlipaySimulator]:
    with AlipaySimulator(time_scale=1e-5) as sim:
        yield sim


@pytest.fixture(scope="module")
def ysfpay_sim() -> Iterator[YsfpaySimulator]:
    with YsfpaySimulator(time_scale=0.001) as sim:
        yield sim


async def order(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel,
                amount: int = 1234) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode=channel.way_code, amount=amount),
                                channel.creds)
    assert created["code"] == 0, created
    assert created["data"]["orderState"] == 1, created
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


async def state(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel,
                pay_order_id: str) -> int:
    answer = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id},
                               channel.creds)
    value: int = answer["data"]["state"]
    return value


@pytest.fixture
async def wxpay(mesh: RunningMesh, wxpay_sim: WxpaySimulator) -> Channel:
    creds = await merchant_with_channel(mesh, "wxpay", wxpay_sim.adapter_params(),
                                        ["WX_NATIVE"])
    return Channel(wxpay_sim, creds, "WX_NATIVE")


@pytest.fixture
async def alipay(mesh: RunningMesh, alipay_sim: AlipaySimulator) -> Channel:
    creds = await merchant_with_channel(mesh, "alipay", alipay_sim.adapter_params(), ["ALI_QR"])
    return Channel(alipay_sim, creds, "ALI_QR")


@pytest.fixture
async def ysfpay(mesh: RunningMesh, ysfpay_sim: YsfpaySimulator) -> Channel:
    creds = await merchant_with_channel(mesh, "ysfpay", ysfpay_sim.adapter_params(), ["UP_QR"])
    return Channel(ysfpay_sim, creds, "UP_QR")


async def pays_end_to_end(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel) -> str:
    pay_order_id = await order(mesh, http, channel)
    await asyncio.to_thread(channel.sim.pay, pay_order_id)
    paid = await wait_for_state(http, mesh, channel.creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2, paid
    assert paid["data"]["channelOrderNo"]
    assert paid["data"]["amount"] == 1234
    return pay_order_id


async def refunds(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel,
                  pay_order_id: str, finish: Any = None) -> None:
    """A partial refund, then the rest; each settled (by the channel, then a query)."""
    for amount, pay_state in ((500, 2), (734, 5)):
        asked = await signed_post(http, mesh, "/api/refund/refundOrder", {
            "payOrderId": pay_order_id, "mchRefundNo": f"RF{time.time_ns()}",
            "refundAmount": amount, "currency": "cny", "refundReason": "returned"},
            channel.creds)
        assert asked["code"] == 0, asked
        refund_order_id = asked["data"]["refundOrderId"]
        if asked["data"]["state"] == 1 and finish is not None:
            await asyncio.to_thread(finish, refund_order_id)
        deadline = time.monotonic() + 10
        while True:
            queried = await signed_post(http, mesh, "/api/refund/query",
                                        {"refundOrderId": refund_order_id}, channel.creds)
            if queried["data"]["state"] == 2 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        assert (queried["data"]["state"], queried["data"]["refundAmount"]) == (2, amount)
        assert await state(mesh, http, channel, pay_order_id) == pay_state


async def closes(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel) -> None:
    pay_order_id = await order(mesh, http, channel)
    closed = await signed_post(http, mesh, "/api/pay/close", {"payOrderId": pay_order_id},
                               channel.creds)
    assert closed["code"] == 0, closed
    assert await state(mesh, http, channel, pay_order_id) == 6


async def test_wxpay_pays_refunds_and_closes(mesh: RunningMesh, http: httpx.AsyncClient,
                                     wxpay: Channel) -> None:
    pay_order_id = await pays_end_to_end(mesh, http, wxpay)
    await refunds(mesh, http, wxpay, pay_order_id, wxpay.sim.finish_refund)
    await closes(mesh, http, wxpay)


async def test_alipay_pays_refunds_and_closes(mesh: RunningMesh, http: httpx.AsyncClient,
                                      alipay: Channel) -> None:
    pay_order_id = await pays_end_to_end(mesh, http, alipay)
    await refunds(mesh, http, alipay, pay_order_id)
    await closes(mesh, http, alipay)


async def test_ysfpay_pays_refunds_and_closes(mesh: RunningMesh, http: httpx.AsyncClient,
                                      ysfpay: Channel) -> None:
    pay_order_id = await pays_end_to_end(mesh, http, ysfpay)
    await refunds(mesh, http, ysfpay, pay_order_id)
    await closes(mesh, http, ysfpay)


@pytest.mark.parametrize("variant", ["signtest", "tampered", "stale", "wrong_key",
                                     "unknown_serial", "other_merchant", "amount"])
async def test_wxpay_refuses_bad_callbacks(mesh: RunningMesh, http: httpx.AsyncClient,
                                           wxpay: Channel, variant: str) -> None:
    pay_order_id = await order(mesh, http, wxpay)
    await asyncio.to_thread(wxpay.sim.pay, pay_order_id)  # paid there: the real callback moves it
    paid = await wait_for_state(http, mesh, wxpay.creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2
    status = await asyncio.to_thread(wxpay.sim.send_callback, pay_order_id, variant)
    assert status is not None and status >= 400, f"{variant} was acknowledged ({status})"
    again = await wait_for_state(http, mesh, wxpay.creds, pay_order_id, 2, timeout=0)
    assert again["data"] == paid["data"]  # nothing changed


async def test_wxpay_refused_callback_does_not_pay_an_unpaid_order(
        mesh: RunningMesh, http: httpx.AsyncClient, wxpay: Channel) -> None:
    pay_order_id = await order(mesh, http, wxpay)
    for variant in ("signtest", "tampered", "stale", "wrong_key"):
        status = await asyncio.to_thread(wxpay.sim.send_callback, pay_order_id, variant)
        assert status is not None and status >= 400, variant
    assert await state(mesh, http, wxpay, pay_order_id) == 1


@pytest.mark.parametrize("variant", ["tamper", "stale", "other_app", "wrongkey"])
async def test_alipay_refuses_bad_notifications(mesh: RunningMesh, http: httpx.AsyncClient,
                                                alipay: Channel, variant: str) -> None:
    pay_order_id = await order(mesh, http, alipay)
    await asyncio.to_thread(alipay.sim.pay, pay_order_id)
    paid = await wait_for_state(http, mesh, alipay.creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2
    result = await asyncio.to_thread(alipay.sim.control, "notify", out_trade_no=pay_order_id,
                                     variant=variant)
    assert result["acknowledged"] is False, result
    assert result["body"] != "success"
    again = await wait_for_state(http, mesh, alipay.creds, pay_order_id, 2, timeout=0)
    assert again["data"] == paid["data"]


@pytest.mark.parametrize("variant", ["tampered", "stale", "rogue", "unsigned"])
async def test_ysfpay_refuses_bad_notifications(mesh: RunningMesh, http: httpx.AsyncClient,
                                                ysfpay: Channel, variant: str) -> None:
    pay_order_id = await order(mesh, http, ysfpay)
    await asyncio.to_thread(ysfpay.sim.notification, pay_order_id, variant, True)
    attempts: list[dict[str, Any]] = []
    for _ in range(100):  # the simulator delivers on a thread: wait for the first answer
        attempts = [a for a in ysfpay.sim.deliveries()
                    if a["order_id"] == pay_order_id and a["variant"] == variant]
        if attempts:
            break
        await asyncio.sleep(0.05)
    assert attempts and attempts[0]["status"] >= 400, attempts
    assert await state(mesh, http, ysfpay, pay_order_id) == 1


async def test_duplicate_callbacks_move_the_order_once(mesh: RunningMesh, http: httpx.AsyncClient,
                                                       wxpay: Channel) -> None:
    pay_order_id = await order(mesh, http, wxpay)
    await asyncio.to_thread(wxpay.sim.pay, pay_order_id)
    paid = await wait_for_state(http, mesh, wxpay.creds, pay_order_id, 2)
    started = time.monotonic()
    statuses = await asyncio.gather(*(asyncio.to_thread(
        wxpay.sim.send_callback, pay_order_id, "duplicate") for _ in range(5)))
    assert all(s is not None and s < 300 for s in statuses), statuses
    again = await wait_for_state(http, mesh, wxpay.creds, pay_order_id, 2, timeout=0)
    assert again["data"] == paid["data"]
    assert time.monotonic() - started < 10


async def cashier_through(mesh: RunningMesh, http: httpx.AsyncClient, channel: Channel,
                          agent: str, payer_field: str) -> None:
    """QR_CASHIER: the wallet's OAuth at the simulator, then the JSAPI payment, then paid."""
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode="QR_CASHIER", amount=1234), channel.creds)
    pay_order_id, link = created["data"]["payOrderId"], created["data"]["payData"]
    page = await http.get(link, headers={"user-agent": agent}, follow_redirects=False)
    assert page.status_code == 302, page.text
    authorize = page.headers["location"]
    assert authorize.startswith(channel.sim.base_url)
    consent = await http.get(authorize, follow_redirects=False)  # the wallet asks the payer
    assert consent.status_code == 302, consent.text
    back = consent.headers["location"]
    assert back.startswith(f"{link}/return?")
    wallet = await http.get(back, headers={"user-agent": agent}, follow_redirects=False)
    assert wallet.status_code == 200, wallet.text
    assert "JSBridge" in wallet.text  # hands the payment to the wallet's own page API
    [(extra,)] = gateway_rows(mesh, "SELECT channel_extra FROM pay_order WHERE "
                                    "pay_order_id = :i", i=pay_order_id)
    assert json.loads(extra)[payer_field]
    await asyncio.to_thread(channel.sim.pay, pay_order_id)
    paid = await wait_for_state(http, mesh, channel.creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2, paid


async def test_cashier_in_the_wechat_app(mesh: RunningMesh, http: httpx.AsyncClient,
                                         wxpay_sim: WxpaySimulator) -> None:
    params = wxpay_sim.adapter_params()
    creds = await merchant_with_channel(mesh, "wxpay", params, ["WX_JSAPI"])
    await cashier_through(mesh, http, Channel(wxpay_sim, creds, "WX_JSAPI"),
                          "Mozilla/5.0 (iPhone) MicroMessenger/8.0.49", "openid")
    # The OAuth token call carries the app secret in its URL: it must not reach any log.
    for log in (mesh.config.data_dir / "logs").glob("*.log"):
        assert params["appSecret"] not in log.read_text(errors="replace"), log.name


async def test_cashier_in_the_alipay_app(mesh: RunningMesh, http: httpx.AsyncClient,
                                         alipay_sim: AlipaySimulator) -> None:
    creds = await merchant_with_channel(mesh, "alipay", alipay_sim.adapter_params(),
                                        ["ALI_JSAPI"])
    await cashier_through(mesh, http, Channel(alipay_sim, creds, "ALI_JSAPI"),
                          "Mozilla/5.0 (Linux; Android 13) AlipayClient/10.5.36", "buyerUserId")
