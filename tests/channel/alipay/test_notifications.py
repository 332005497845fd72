"""Asynchronous notifications: delivered by the simulator, verified by the adapter."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.alipay.notifications import ACK_OK, ACK_RETRY
from paymesh.services.channel.adapters.base import CallbackKind, ChannelState, RefundOrder
from paymesh.services.simulators.alipay import APP_ID, SUB_MERCHANT_APP_ID, AlipaySimulator

from . import Receiver, callback, order, order_id, receiver

S = ChannelState
BAR = '{"authCode":"287951669607283456"}'


async def paid_and_notified(adapter: AlipayAdapter, sim: AlipaySimulator, notify: Receiver,
                            params: dict[str, Any], amount: int = 12345) -> tuple[str, bytes]:
    pay_order = order("ALI_QR", amount=amount)
    await adapter.pay(params, pay_order, notify.url)
    sim.pay(pay_order.pay_order_id)
    return pay_order.pay_order_id, notify.wait_for(1)[0]


@pytest.mark.parametrize("isv", [False, True])
async def test_a_payment_notification_is_verified_and_acknowledged(
        adapter: AlipayAdapter, sim: AlipaySimulator, isv: bool) -> None:
    params = sim.adapter_params(isv=isv)
    with receiver() as notify:
        pay_order_id, body = await paid_and_notified(adapter, sim, notify, params)
    result = await adapter.verify_callback(params, callback(body))
    assert result.verified, result.reject_reason
    assert (result.kind, result.state) == (CallbackKind.PAY, S.CONFIRM_SUCCESS)
    assert (result.pay_order_id, result.amount, result.currency) == (pay_order_id, 12345, "cny")
    assert result.channel_order_no == sim.trade(pay_order_id)["trade_no"]
    assert b"auth_app_id=" + (SUB_MERCHANT_APP_ID if isv else APP_ID).encode() in body
    assert (result.ack_ok.status, result.ack_ok.content_type, result.ack_ok.body) == (
        200, "text/plain", b"success")
    assert result.ack_retry.body == b"fail"
    identity = await adapter.identify_callback(callback(body))
    assert identity is not None and (identity.kind, identity.pay_order_id) == (
        CallbackKind.PAY, pay_order_id)


async def test_the_adapters_acknowledgements_stop_or_continue_alipays_retries(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    with receiver([ACK_RETRY.body, ACK_RETRY.body, ACK_OK.body]) as notify:
        pay_order_id, _ = await paid_and_notified(adapter, sim, notify, params)
        notify.wait_for(3)
    log = [e for e in sim.control("deliveries")["deliveries"]
           if e["out_trade_no"] == pay_order_id]
    assert [e["acknowledged"] for e in log] == [False, False, True]


@pytest.mark.parametrize(("variant", "reason"), [
    ("tamper", "signature"), ("wrongkey", "signature"), ("stale", "stale"),
    ("other_app", "app_id"),
])
async def test_forged_replayed_or_foreign_notifications_are_rejected(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any], variant: str,
        reason: str) -> None:
    with receiver() as notify:
        pay_order_id, _ = await paid_and_notified(adapter, sim, notify, params)
        sent = sim.control("notify", out_trade_no=pay_order_id, variant=variant)
        assert sent["acknowledged"]  # the receiver here is not the adapter
        body = notify.wait_for(2)[1]
    assert body.decode() == sent["form"]
    result = await adapter.verify_callback(params, callback(body))
    assert not result.verified and reason in result.reject_reason
    assert result.state is None and result.pay_order_id == ""


async def test_a_duplicate_notification_verifies_to_the_same_result(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    with receiver() as notify:
        pay_order_id, first = await paid_and_notified(adapter, sim, notify, params)
        sim.control("notify", out_trade_no=pay_order_id, variant="duplicate")
        second = notify.wait_for(2)[1]
    assert first == second
    one = await adapter.verify_callback(params, callback(first))
    two = await adapter.verify_callback(params, callback(second))
    assert one == two and one.verified


async def test_closed_and_finished_trades_are_reported(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    with receiver() as notify:
        unpaid = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}')
        await adapter.pay(params, unpaid, notify.url)
        sim.control("fail", out_trade_no=unpaid.pay_order_id)
        closed = await adapter.verify_callback(params, callback(notify.wait_for(1)[0]))
        pay_order_id, _ = await paid_and_notified(adapter, sim, notify, params)
        sim.control("finish", out_trade_no=pay_order_id)
        finished = await adapter.verify_callback(params, callback(notify.wait_for(3)[2]))
    assert (closed.kind, closed.state, closed.err_code) == (
        CallbackKind.PAY, S.CONFIRM_FAIL, "TRADE_CLOSED")
    assert (finished.state, finished.pay_order_id) == (S.CONFIRM_SUCCESS, pay_order_id)


async def test_a_refund_notification_is_a_refund_to_confirm_by_query(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    with receiver() as notify:
        pay_order = order("ALI_BAR", amount=300, extra=BAR)
        await adapter.pay(params, pay_order, notify.url)
        refund_id = order_id("R")
        await adapter.refund(params, RefundOrder(pay_order.pay_order_id, refund_id, 300, 300,
                                                 "cny"), "")
        body = notify.wait_for(2)[1]
    result = await adapter.verify_callback(params, callback(body))
    assert result.verified, result.reject_reason
    assert (result.kind, result.state, result.refund_order_id) == (
        CallbackKind.REFUND, S.UNKNOWN, refund_id)
    # A full refund closes the trade; it must not read as a failed payment.
    assert b"trade_status=TRADE_CLOSED" in body
    identity = await adapter.identify_callback(callback(body))
    assert identity is not None and identity.refund_order_id == refund_id


@pytest.mark.parametrize("body", [
    b"", b"\xff\xfe", b"a=1&a=2", b"out_trade_no=P1&total_amount=1.00&trade_status=TRADE_SUCCESS",
    b"out_trade_no=P1&sign=AAAA&sign_type=RSA", b"out_trade_no=P1&sign=%%%",
    b"charset=latin-9&out_trade_no=P1&sign=AAAA",
])
async def test_malformed_notifications_are_rejected_without_raising(
        adapter: AlipayAdapter, params: dict[str, Any], body: bytes) -> None:
    result = await adapter.verify_callback(params, callback(body))
    assert not result.verified and result.reject_reason
    assert result.ack_retry.body == b"fail"


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["out_trade_no", "sign", "sign_type", "app_id",
                                        "total_amount", "trade_status", "notify_time"]),
                       st.text(max_size=20)))
async def test_arbitrary_forms_never_verify(adapter: AlipayAdapter, params: dict[str, Any],
                                            fields: dict[str, str]) -> None:
    result = await adapter.verify_callback(params, callback(urlencode(fields)))
    assert not result.verified


async def test_identify_ignores_what_names_no_order(adapter: AlipayAdapter) -> None:
    assert await adapter.identify_callback(callback(b"\xff")) is None
    assert await adapter.identify_callback(callback(b"trade_status=TRADE_SUCCESS")) is None
