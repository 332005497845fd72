"""Callbacks as the simulator delivers them, verified by the adapter (reference §1.3–§1.5)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paymesh.services.channel.adapters.base import Callback, CallbackKind, ChannelState
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.channel.adapters.wxpay.config import WxpayConfig, load_config
from paymesh.services.channel.adapters.wxpay.notify import verify_notification
from paymesh.services.simulators.wxpay import WxpaySimulator

from .conftest import new_id, notify_url, order, refund_of
from .receiver import CallbackReceiver, Received

S = ChannelState


async def paid_with_callback(adapter: WxpayAdapter, sim: WxpaySimulator,
                             receiver: CallbackReceiver, params: dict[str, Any],
                             amount: int = 2500) -> tuple[Any, str, Received]:
    pay = order("WX_NATIVE", amount=amount)
    url = notify_url(receiver, pay.pay_order_id)
    await adapter.pay(params, pay, url)
    sim.pay(pay.pay_order_id)
    path = url.removeprefix(receiver.url)
    return pay, path, receiver.wait(path)[0]


async def test_a_payment_callback_verifies_and_reports_the_payment(
        adapter: WxpayAdapter, sim: WxpaySimulator, receiver: CallbackReceiver,
        params: dict[str, Any]) -> None:
    pay, _, got = await paid_with_callback(adapter, sim, receiver, params)
    assert json.loads(got.body)["event_type"] == "TRANSACTION.SUCCESS"
    result = await adapter.verify_callback(params, got.callback())
    assert result.verified, result.reject_reason
    assert (result.kind, result.state) == (CallbackKind.PAY, S.CONFIRM_SUCCESS)
    assert (result.pay_order_id, result.amount, result.currency) == (pay.pay_order_id, 2500, "cny")
    assert result.channel_order_no == sim.order(pay.pay_order_id)["transaction_id"]
    assert (result.ack_ok.status, result.ack_ok.body) == (204, b"")
    assert result.ack_retry.status == 500
    assert json.loads(result.ack_retry.body) == {"code": "FAIL", "message": "失败"}
    assert await adapter.identify_callback(got.callback()) is None


@pytest.mark.parametrize(("signer", "mode", "verified"), [
    ("certificate", "certificate", True), ("publickey", "publickey", True),
    ("certificate", "both", True), ("publickey", "certificate", False),
    ("certificate", "publickey", False),
])
async def test_both_key_modes(adapter: WxpayAdapter, sim: WxpaySimulator,
                              receiver: CallbackReceiver, signer: str, mode: str,
                              verified: bool) -> None:
    params = sim.adapter_params(mode=mode)
    pay, path, _ = await paid_with_callback(adapter, sim, receiver, params)
    assert sim.send_callback(pay.pay_order_id, signer=signer) == 204
    got = receiver.wait(path, 2)[-1]
    result = await adapter.verify_callback(params, got.callback())
    assert result.verified is verified
    if not verified:
        assert "unknown Wechatpay-Serial" in result.reject_reason


@pytest.mark.parametrize(("variant", "reason"), [
    ("signtest", "SIGNTEST"), ("stale", "away from now"), ("tampered", "does not verify"),
    ("unknown_serial", "unknown Wechatpay-Serial"), ("wrong_key", "does not verify"),
    ("bad_apiv3key", "does not decrypt"), ("other_merchant", "not this channel's"),
])
async def test_forged_callbacks_are_rejected(adapter: WxpayAdapter, sim: WxpaySimulator,
                                             receiver: CallbackReceiver, params: dict[str, Any],
                                             variant: str, reason: str) -> None:
    pay, path, _ = await paid_with_callback(adapter, sim, receiver, params)
    receiver.script(path, (500, b'{"code":"FAIL","message":"x"}'))
    assert sim.send_callback(pay.pay_order_id, variant) == 500
    got = receiver.wait(path, 2)[-1]
    result = await adapter.verify_callback(params, got.callback())
    assert not result.verified
    assert reason in result.reject_reason
    assert result.state is None and result.pay_order_id == ""


async def test_a_changed_amount_verifies_but_is_reported_as_sent(
        adapter: WxpayAdapter, sim: WxpaySimulator, receiver: CallbackReceiver,
        params: dict[str, Any]) -> None:
    """Authentic but for a different amount: the gateway's cross-check must catch it."""
    pay, path, _ = await paid_with_callback(adapter, sim, receiver, params)
    sim.send_callback(pay.pay_order_id, "amount")
    result = await adapter.verify_callback(params, receiver.wait(path, 2)[-1].callback())
    assert result.verified and result.amount == pay.amount + 1


async def test_a_duplicate_callback_verifies_the_same(
        adapter: WxpayAdapter, sim: WxpaySimulator, receiver: CallbackReceiver,
        params: dict[str, Any]) -> None:
    pay, path, _ = await paid_with_callback(adapter, sim, receiver, params)
    sim.send_callback(pay.pay_order_id, "duplicate")
    first, second = receiver.wait(path, 3)[-2:]
    assert first.body == second.body
    results = [await adapter.verify_callback(params, r.callback()) for r in (first, second)]
    assert results[0] == results[1] and results[0].verified


@pytest.mark.parametrize(("skew", "verified"), [(-290, True), (290, True), (-310, False),
                                                (310, False)])
async def test_the_five_minute_window(http: Any, sim: WxpaySimulator, receiver: CallbackReceiver,
                                      params: dict[str, Any], skew: int, verified: bool) -> None:
    adapter = WxpayAdapter(http)
    _, _, got = await paid_with_callback(adapter, sim, receiver, params)
    skewed = WxpayAdapter(http, clock=lambda: time.time() + skew)
    assert (await skewed.verify_callback(params, got.callback())).verified is verified


@pytest.mark.parametrize("status", ["SUCCESS", "ABNORMAL", "CLOSED"])
async def test_refund_callbacks_are_kind_refund(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                receiver: CallbackReceiver,
                                                params: dict[str, Any], status: str) -> None:
    pay, _, _ = await paid_with_callback(adapter, sim, receiver, params)
    refund = refund_of(pay, 700)
    url = f"{receiver.url}/api/refund/notify/wxpay/{refund.refund_order_id}"
    answer = await adapter.refund(params, refund, url)
    sim.finish_refund(refund.refund_order_id, status)
    got = receiver.wait(url.removeprefix(receiver.url))[0]
    assert json.loads(got.body)["event_type"] == f"REFUND.{status}"
    result = await adapter.verify_callback(params, got.callback())
    assert result.verified, result.reject_reason
    assert result.kind is CallbackKind.REFUND
    assert (result.pay_order_id, result.refund_order_id) == (pay.pay_order_id,
                                                             refund.refund_order_id)
    assert (result.refund_amount, result.amount) == (700, pay.amount)
    assert result.channel_refund_no == answer.channel_refund_no
    assert result.state is (S.CONFIRM_SUCCESS if status == "SUCCESS" else S.CONFIRM_FAIL)


async def test_retried_until_the_adapter_acknowledges(
        adapter: WxpayAdapter, sim: WxpaySimulator, receiver: CallbackReceiver,
        params: dict[str, Any]) -> None:
    pay = order("WX_NATIVE")
    url = notify_url(receiver, pay.pay_order_id)
    path = url.removeprefix(receiver.url)
    ack = (await adapter.verify_callback(params, Callback({}, b"", ""))).ack_retry
    receiver.script(path, (ack.status, ack.body), (ack.status, ack.body))
    await adapter.pay(params, pay, url)
    sim.pay(pay.pay_order_id)
    log = sim.wait_for_delivery(pay.pay_order_id)
    assert [e["status"] for e in log] == [500, 500, 204]


@pytest.mark.parametrize("headers", [
    {}, {"wechatpay-signature": "a, b"}, {"wechatpay-timestamp": "12a"},
    {"wechatpay-signature-type": "WECHATPAY2-SHA256-SM2"},
])
async def test_broken_headers_are_rejected(adapter: WxpayAdapter, sim: WxpaySimulator,
                                           receiver: CallbackReceiver, params: dict[str, Any],
                                           headers: dict[str, str]) -> None:
    _, _, got = await paid_with_callback(adapter, sim, receiver, params)
    changed = dict(got.headers) | headers if headers else {}
    result = await adapter.verify_callback(params, Callback(changed, got.body, "application/json"))
    assert not result.verified and result.reject_reason


@pytest.fixture(scope="module")
def wx_config(sim: WxpaySimulator) -> WxpayConfig:
    return load_config(sim.adapter_params())


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200),
       headers=st.dictionaries(st.sampled_from(["wechatpay-timestamp", "wechatpay-nonce",
                                                "wechatpay-signature", "wechatpay-serial",
                                                "wechatpay-signature-type"]),
                               st.text(max_size=40)))
def test_verify_never_raises(wx_config: WxpayConfig, body: bytes,
                             headers: dict[str, str]) -> None:
    config = wx_config
    headers.setdefault("wechatpay-timestamp", str(int(time.time())))
    result = verify_notification(config, Callback(headers, body, "application/json"),
                                 time.time())
    assert not result.verified and result.reject_reason


def test_new_ids_are_valid_out_trade_numbers() -> None:
    assert 6 <= len(new_id()) <= 32
