"""Stripe card payments through the real edge, against localstripe (a separate process).

The webhook URL is one per Stripe account (``/api/pay/notify/stripe``): the gateway learns the
order from the event, then verifies it with that order's webhook secret.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.channel.stripe import CARD_OK, SECRET_KEY, WEBHOOK_SECRET, Payer, params
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import merchant_with_channel, order_params, signed_post, wait_for_state

pytestmark = pytest.mark.e2e


async def test_card_payment_confirmed_by_the_webhook_through_the_edge_then_refunded(
        mesh: RunningMesh, http: httpx.AsyncClient, localstripe: str) -> None:
    creds = await merchant_with_channel(mesh, "stripe", params(localstripe), ["STRIPE_CARD"])
    hook = await http.post(f"{localstripe}/_config/webhooks/edge", json={
        "url": f"{mesh.rest_url}/api/pay/notify/stripe", "secret": WEBHOOK_SECRET,
        "events": ["payment_intent.succeeded", "payment_intent.payment_failed"]})
    hook.raise_for_status()
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="STRIPE_CARD", currency="usd", amount=1999), creds)
    assert created["code"] == 0, created
    data = created["data"]
    assert (data["orderState"], data["payDataType"]) == (1, "stripe")
    intent = json.loads(data["payData"])
    assert intent["clientSecret"].startswith(intent["paymentIntentId"])
    await Payer(http, localstripe).enter_card(intent["paymentIntentId"], CARD_OK)
    paid = await wait_for_state(http, mesh, creds, data["payOrderId"], 2)
    assert paid["data"]["state"] == 2, paid
    assert (paid["data"]["currency"], paid["data"]["amount"]) == ("usd", 1999)
    assert paid["data"]["channelOrderNo"] == intent["paymentIntentId"]
    refunded = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": data["payOrderId"], "mchRefundNo": "SR1", "refundAmount": 999,
        "currency": "usd", "refundReason": "returned"}, creds)
    assert (refunded["code"], refunded["data"]["state"]) == (0, 2), refunded
    queried = await signed_post(http, mesh, "/api/refund/query", {"mchRefundNo": "SR1"}, creds)
    assert (queried["data"]["state"], queried["data"]["refundAmount"]) == (2, 999)


async def test_forged_webhook_is_refused_at_the_edge(mesh: RunningMesh, http: httpx.AsyncClient,
                                                     localstripe: str) -> None:
    creds = await merchant_with_channel(mesh, "stripe", params(localstripe), ["STRIPE_CARD"])
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="STRIPE_CARD", currency="usd", amount=500), creds)
    pay_order_id = created["data"]["payOrderId"]
    event = json.dumps({"id": "evt_forged", "object": "event", "type": "payment_intent.succeeded",
                        "data": {"object": {"id": "pi_forged", "object": "payment_intent",
                                            "amount": 500, "currency": "usd",
                                            "status": "succeeded",
                                            "metadata": {"pay_order_id": pay_order_id}}}})
    answer = await http.post(f"{mesh.rest_url}/api/pay/notify/stripe", content=event,
                             headers={"content-type": "application/json",
                                      "stripe-signature": "t=1700000000,v1=" + "0" * 64})
    assert answer.status_code == 400
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id},
                                creds)
    assert queried["data"]["state"] == 1


async def test_unpaid_card_order_closes_at_stripe(mesh: RunningMesh, http: httpx.AsyncClient,
                                                  localstripe: str) -> None:
    creds = await merchant_with_channel(mesh, "stripe", params(localstripe), ["STRIPE_CARD"])
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="STRIPE_CARD", currency="eur", amount=700), creds)
    pay_order_id = created["data"]["payOrderId"]
    closed = await signed_post(http, mesh, "/api/pay/close", {"payOrderId": pay_order_id}, creds)
    assert closed["code"] == 0, closed
    intent_id = json.loads(created["data"]["payData"])["paymentIntentId"]
    at_stripe = await http.get(f"{localstripe}/v1/payment_intents/{intent_id}",
                               headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert at_stripe.json()["status"] == "canceled"
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id},
                                creds)
    assert queried["data"]["state"] == 6
