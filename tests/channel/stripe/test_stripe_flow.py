"""The Stripe adapter against a real localstripe process: pay, webhook, query, refund, close."""

from __future__ import annotations

import dataclasses
import json
import secrets

import httpx
import pytest

from paymesh.services.channel.adapters.base import (
    Callback,
    CallbackKind,
    ChannelState,
    PaymentOrder,
    RefundOrder,
)
from paymesh.services.channel.adapters.stripe_card import StripeAdapter
from paymesh.services.common.errors import InvalidArgument

from . import CARD_3DS, CARD_DECLINED, CARD_OK, WEBHOOK_SECRET, Payer, params
from .conftest import WebhookEndpoint

S = ChannelState


def new_order(amount: int = 2500, currency: str = "USD") -> PaymentOrder:
    return PaymentOrder(pay_order_id=f"P{secrets.randbelow(10**18):018d}", way_code="STRIPE_CARD",
                        amount=amount, currency=currency, subject="Green tea")


async def start_payment(adapter: StripeAdapter, api_base: str,
                        order: PaymentOrder) -> dict[str, str]:
    """Pays ``order`` through the adapter; the payData the merchant's page receives."""
    result = await adapter.pay(params(api_base), order, "http://127.0.0.1:9/unused")
    assert result.state == S.WAITING, result
    assert result.pay_data_type == "stripe"
    pay_data: dict[str, str] = json.loads(result.pay_data)
    assert set(pay_data) == {"clientSecret", "paymentIntentId"}
    assert result.channel_order_no == pay_data["paymentIntentId"]
    assert pay_data["clientSecret"].startswith(pay_data["paymentIntentId"] + "_secret_")
    return pay_data


async def test_pay_webhook_query_refund(adapter: StripeAdapter, localstripe: str, payer: Payer,
                                        endpoint: WebhookEndpoint,
                                        http: httpx.AsyncClient) -> None:
    order = new_order(amount=2500)
    pay_data = await start_payment(adapter, localstripe, order)
    intent_id = pay_data["paymentIntentId"]
    # The intent Stripe holds is the order: amount in minor units, currency lower case, our id.
    stored = (await http.get(f"{localstripe}/v1/payment_intents/{intent_id}",
                             headers={"Authorization": "Bearer sk_test_x1"})).json()
    assert (stored["amount"], stored["currency"]) == (2500, "usd")
    assert stored["metadata"] == {"pay_order_id": order.pay_order_id}
    assert (await adapter.query(params(localstripe), order.pay_order_id)).state == S.WAITING

    assert (await payer.enter_card(intent_id, CARD_OK))["status"] == "succeeded"

    delivery = await endpoint.event_for(order.pay_order_id, "payment_intent.succeeded")
    callback = Callback(delivery.headers, delivery.body, delivery.headers["content-type"])
    identity = await adapter.identify_callback(callback)
    assert identity is not None
    assert (identity.kind, identity.pay_order_id) == (CallbackKind.PAY, order.pay_order_id)
    verdict = await adapter.verify_callback(params(localstripe), callback)
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state) == (CallbackKind.PAY, S.CONFIRM_SUCCESS)
    assert (verdict.pay_order_id, verdict.channel_order_no) == (order.pay_order_id, intent_id)
    assert (verdict.amount, verdict.currency) == (2500, "usd")
    assert (verdict.ack_ok.status, json.loads(verdict.ack_ok.body)) == (200, {"received": True})
    assert verdict.ack_retry.status == 400

    queried = await adapter.query(params(localstripe), order.pay_order_id)
    assert (queried.state, queried.channel_order_no) == (S.CONFIRM_SUCCESS, intent_id)
    by_id = await adapter.query(params(localstripe), order.pay_order_id,
                                channel_order_no=intent_id)
    assert (by_id.state, by_id.channel_order_no) == (S.CONFIRM_SUCCESS, intent_id)

    refund = RefundOrder(pay_order_id=order.pay_order_id, refund_order_id=f"R{order.pay_order_id}",
                         pay_amount=2500, refund_amount=700, currency="usd", reason="one cup")
    refunded = await adapter.refund(params(localstripe), refund, "")
    assert (refunded.state, refunded.refund_amount) == (S.CONFIRM_SUCCESS, 700)
    assert refunded.channel_refund_no.startswith("re_")
    # The same refund order again is the same refund (Idempotency-Key), not a second one.
    again = await adapter.refund(params(localstripe), refund, "")
    assert again.channel_refund_no == refunded.channel_refund_no

    found = await adapter.query_refund(params(localstripe), order.pay_order_id,
                                       refund.refund_order_id)
    assert (found.state, found.channel_refund_no, found.refund_amount) == (
        S.CONFIRM_SUCCESS, refunded.channel_refund_no, 700)
    # A second partial refund, by intent id (RefundOrder.channel_order_no), queried by its id.
    second = dataclasses.replace(refund, refund_order_id=f"S{order.pay_order_id}",
                                 refund_amount=300, channel_order_no=intent_id)
    assert (await adapter.refund(params(localstripe), second, "")).state == S.CONFIRM_SUCCESS
    wrong_currency = dataclasses.replace(second, refund_order_id="R1", currency="eur")
    assert (await adapter.refund(params(localstripe), wrong_currency, "")).err_code == \
        "CURRENCY_MISMATCH"
    listed = (await http.get(f"{localstripe}/v1/refunds",
                             params={"payment_intent": intent_id},
                             headers={"Authorization": "Bearer sk_test_x1"})).json()
    assert sorted((r["metadata"]["refund_order_id"], r["amount"]) for r in listed["data"]) == \
        sorted([(refund.refund_order_id, 700), (second.refund_order_id, 300)])
    by_refund_id = await adapter.query_refund(
        params(localstripe), order.pay_order_id, second.refund_order_id,
        channel_refund_no=next(r["id"] for r in listed["data"] if r["amount"] == 300))
    assert (by_refund_id.state, by_refund_id.refund_amount) == (S.CONFIRM_SUCCESS, 300)
    missing = await adapter.query_refund(params(localstripe), order.pay_order_id, "R404")
    assert (missing.state, missing.err_code) == (S.CONFIRM_FAIL, "REFUND_NOT_EXIST")

    closed = await adapter.close(params(localstripe), order.pay_order_id)
    assert (closed.state, closed.err_code) == (S.CONFIRM_FAIL, "ORDER_PAID")


async def test_the_same_order_paid_twice_is_one_intent(adapter: StripeAdapter,
                                                       localstripe: str) -> None:
    order = new_order()
    first = await start_payment(adapter, localstripe, order)
    second = await start_payment(adapter, localstripe, order)
    assert second == first
    changed = await adapter.pay(params(localstripe),
                                dataclasses.replace(order, amount=order.amount + 1), "")
    assert (changed.state, changed.err_code) == (S.CONFIRM_FAIL, "ORDER_PARAMS_MISMATCH")


async def test_close_cancels_an_unpaid_intent(adapter: StripeAdapter, localstripe: str,
                                              payer: Payer) -> None:
    order = new_order()
    pay_data = await start_payment(adapter, localstripe, order)
    closed = await adapter.close(params(localstripe), order.pay_order_id)
    assert closed.state == S.CONFIRM_SUCCESS, closed
    queried = await adapter.query(params(localstripe), order.pay_order_id)
    assert (queried.state, queried.err_code) == (S.CONFIRM_FAIL, "ORDER_CLOSED")
    # Closing again, or cancelling, is still a success; the payer can no longer pay.
    assert (await adapter.cancel(params(localstripe), order.pay_order_id)).state == \
        S.CONFIRM_SUCCESS
    assert "error" in await payer.enter_card(pay_data["paymentIntentId"], CARD_OK)


async def test_an_order_stripe_never_saw(adapter: StripeAdapter, localstripe: str) -> None:
    queried = await adapter.query(params(localstripe), "P404")
    assert (queried.state, queried.err_code) == (S.CONFIRM_FAIL, "ORDER_NOT_EXIST")
    assert (await adapter.close(params(localstripe), "P404")).state == S.CONFIRM_SUCCESS


async def test_a_declined_card_leaves_the_order_waiting(adapter: StripeAdapter, localstripe: str,
                                                         payer: Payer,
                                                         endpoint: WebhookEndpoint) -> None:
    order = new_order()
    pay_data = await start_payment(adapter, localstripe, order)
    declined = await payer.enter_card(pay_data["paymentIntentId"], CARD_DECLINED)
    assert declined["error"]["code"] == "card_declined"

    queried = await adapter.query(params(localstripe), order.pay_order_id)
    assert (queried.state, queried.err_code) == (S.WAITING, "card_declined")
    delivery = await endpoint.event_for(order.pay_order_id, "payment_intent.payment_failed")
    verdict = await adapter.verify_callback(
        params(localstripe), Callback(delivery.headers, delivery.body, "application/json"))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state, verdict.err_code) == (
        CallbackKind.PAY, S.WAITING, "card_declined")

    # Real Stripe lets the payer try another card on the same intent; localstripe refuses to
    # confirm an intent whose charge failed, so that second attempt is not exercised here.
    # Closing at expiry ends the order.
    assert (await adapter.close(params(localstripe), order.pay_order_id)).state == \
        S.CONFIRM_SUCCESS


async def test_3d_secure_is_completed_with_the_client_secret(adapter: StripeAdapter,
                                                             localstripe: str,
                                                             payer: Payer) -> None:
    order = new_order(amount=100, currency="eur")
    pay_data = await start_payment(adapter, localstripe, order)
    challenged = await payer.enter_card(pay_data["paymentIntentId"], CARD_3DS)
    assert challenged["status"] == "requires_action"
    assert (await adapter.query(params(localstripe), order.pay_order_id)).state == S.WAITING
    assert (await payer.authenticate(pay_data["clientSecret"]))["status"] == "succeeded"
    assert (await adapter.query(params(localstripe), order.pay_order_id)).state == \
        S.CONFIRM_SUCCESS


async def test_a_webhook_with_the_wrong_secret_is_refused(adapter: StripeAdapter,
                                                          localstripe: str, payer: Payer,
                                                          endpoint: WebhookEndpoint) -> None:
    order = new_order()
    pay_data = await start_payment(adapter, localstripe, order)
    await payer.enter_card(pay_data["paymentIntentId"], CARD_OK)
    delivery = await endpoint.event_for(order.pay_order_id, "payment_intent.succeeded")
    callback = Callback(delivery.headers, delivery.body, "application/json")
    assert WEBHOOK_SECRET != "whsec_someoneelse"
    verdict = await adapter.verify_callback(
        params(localstripe, webhookSecret="whsec_someoneelse"), callback)
    assert not verdict.verified and "no v1 signature matches" in verdict.reject_reason
    assert verdict.ack_retry.status == 400
    tampered = Callback(delivery.headers, delivery.body.replace(b"2500", b"2501"),
                        "application/json")
    verdict = await adapter.verify_callback(params(localstripe), tampered)
    assert not verdict.verified and "no v1 signature matches" in verdict.reject_reason


async def test_a_refund_larger_than_the_payment_is_refused_here(adapter: StripeAdapter,
                                                                localstripe: str) -> None:
    with pytest.raises(InvalidArgument):
        await adapter.refund(params(localstripe), RefundOrder("P1", "R1", 100, 101, "usd"), "")
