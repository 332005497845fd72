"""Back notifications: authentic ones verify; forged, stale, altered or foreign ones are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from paymesh.services.channel.adapters.base import CallbackKind, ChannelState, PaymentOrder
from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.simulators.ysfpay import YsfpaySimulator

from .support import Receiver, callback, wait_until

S = ChannelState


async def qr_order(adapter: YsfpayAdapter, params: dict[str, Any], pay_order_id: str,
                   notify_url: str = "http://127.0.0.1:9/notify") -> None:
    result = await adapter.pay(params, PaymentOrder(
        pay_order_id=pay_order_id, way_code="UP_QR", amount=888, currency="cny",
        subject="tea"), notify_url)
    assert result.state == S.WAITING


async def test_an_authentic_pay_notification_verifies(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    await qr_order(adapter, params, pay_order_id)
    paid = sim.pay(pay_order_id)
    body = sim.notification(pay_order_id)
    verdict = await adapter.verify_callback(params, callback(body))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state, verdict.pay_order_id, verdict.amount,
            verdict.currency) == (CallbackKind.PAY, S.CONFIRM_SUCCESS, pay_order_id, 888, "cny")
    assert verdict.channel_order_no == paid["query_id"]
    assert (verdict.ack_ok.status, verdict.ack_retry.status) == (200, 500)
    again = await adapter.verify_callback(params, callback(body))  # a duplicate: same verdict
    assert again == verdict
    identity = await adapter.identify_callback(callback(body))
    assert identity is not None and identity.pay_order_id == pay_order_id


@pytest.mark.parametrize(("variant", "reason"), [
    ("rogue", "not issued"), ("expired", "not valid now"), ("tampered", "signature"),
    ("stale", "stale"), ("unsigned", "signature"),
])
async def test_forged_or_stale_notifications_are_refused(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str], variant: str, reason: str) -> None:
    pay_order_id = new_id()
    await qr_order(adapter, params, pay_order_id)
    sim.pay(pay_order_id)
    verdict = await adapter.verify_callback(params, callback(sim.notification(pay_order_id,
                                                                              variant)))
    assert not verdict.verified
    assert reason in verdict.reject_reason
    assert verdict.ack_retry.status == 500


async def test_without_the_middle_certificate_the_chain_does_not_close(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    await qr_order(adapter, params, pay_order_id)
    sim.pay(pay_order_id)
    root_only = {k: v for k, v in params.items() if k != "ysfpayMiddleCert"}
    verdict = await adapter.verify_callback(root_only, callback(sim.notification(pay_order_id)))
    assert not verdict.verified and "not issued" in verdict.reject_reason


async def test_a_notification_for_another_sub_merchant_is_refused(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    await qr_order(adapter, params, pay_order_id)
    sim.pay(pay_order_id)
    other = {**params, "sub": {"merId": "777290058119999"}}
    verdict = await adapter.verify_callback(other, callback(sim.notification(pay_order_id)))
    assert not verdict.verified and "merchant" in verdict.reject_reason


@pytest.mark.parametrize("body", [b"", b"\xff\xfe", b"a=1&a=2", b"orderId=P1&signature=%%",
                                  b"signature=abc&signPubKeyCert=xyz&respCode=00&merId=1"
                                  b"&orderId=P1&txnType=01&txnTime=1&txnAmt=1"])
async def test_garbage_is_refused_without_raising(adapter: YsfpayAdapter,
                                                  params: dict[str, Any], body: bytes) -> None:
    verdict = await adapter.verify_callback(params, callback(body))
    assert not verdict.verified and verdict.reject_reason
    assert await adapter.identify_callback(callback(b"\xff")) is None


async def test_delivery_is_retried_until_the_platform_acknowledges(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    answers = [(500, b"retry"), (503, b"busy")]

    async def flaky(body: bytes) -> tuple[int, bytes]:
        if answers:
            return answers.pop(0)
        verdict = await adapter.verify_callback(params, callback(body))
        ack = verdict.ack_ok if verdict.verified else verdict.ack_retry
        return ack.status, ack.body

    receiver = await Receiver(flaky).start()
    try:
        pay_order_id = new_id()
        await qr_order(adapter, params, pay_order_id, receiver.url)
        sim.pay(pay_order_id)
        bodies = [await receiver.next() for _ in range(3)]
        assert bodies[0] == bodies[2]  # the same message each time

        def log() -> list[tuple[object, ...]]:
            return [(d["attempt"], d["status"], d["acknowledged"]) for d in sim.deliveries()
                    if d["order_id"] == pay_order_id]

        await wait_until(lambda: len(log()) == 3)
    finally:
        await receiver.stop()
    assert log() == [(1, 500, False), (2, 503, False), (3, 200, True)]


async def test_a_rogue_notification_sent_to_the_platform_is_answered_with_retry(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str], platform: Receiver) -> None:
    pay_order_id = new_id()
    await qr_order(adapter, params, pay_order_id, platform.url)
    sim.pay(pay_order_id)
    await platform.next()  # the authentic one, acknowledged
    sim.notification(pay_order_id, "rogue", send=True)

    def rogue() -> list[object]:
        return [d["status"] for d in sim.deliveries()
                if d["order_id"] == pay_order_id and d["variant"] == "rogue"]

    await wait_until(lambda: len(rogue()) >= 2)  # retried, because the platform answered 500
    assert rogue()[:2] == [500, 500]


async def test_refund_notification_names_both_orders_to_identify(
        adapter: YsfpayAdapter) -> None:
    body = b"txnType=04&orderId=R123456789&reqReserved=P987654321&respCode=00"
    identity = await adapter.identify_callback(callback(body))
    assert identity is not None
    assert (identity.kind, identity.pay_order_id, identity.refund_order_id) == (
        CallbackKind.REFUND, "P987654321", "R123456789")
    assert await adapter.identify_callback(callback(b"txnType=31&orderId=P1")) is None
