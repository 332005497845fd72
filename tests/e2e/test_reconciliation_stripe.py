"""A Stripe reconciliation (对账) batch end to end: card payments and a refund through the real edge
and localstripe, the day's balance transactions listed by the channel service from a
Stripe-shaped front (tests/channel/stripe/stripe_front.py), one amount planted wrong in them:
exactly that mistake is found and the rest matched.

Stripe's bill of a day is its balance transactions created in that China Standard Time day, and
the adapter refuses a day that has not ended yet (listing it would be incomplete): today's batch
ends ERROR BILL_NOT_READY without asking Stripe. So the day is moved back, on both sides: the
platform's orders and refunds and the front's balance transactions of this merchant are dated
two days ago (not yesterday: the jobs process reconciles every config's yesterday by itself, at
once, and a finished batch is not run again).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.bills import CST
from paymesh.services.client.merchant import MerchantCredentials
from tests.channel.stripe import CARD_OK, SECRET_KEY, WEBHOOK_SECRET, Payer, params
from tests.channel.stripe.stripe_front import StripeFront, stripe_front
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_execute,
    gateway_rows,
    merchant_with_channel,
    order_params,
    signed_post,
    wait_for_state,
)
from tests.e2e.test_reconciliation import auth, china_today

pytestmark = pytest.mark.e2e
DAYS_BACK = 2


async def pay(mesh: RunningMesh, http: httpx.AsyncClient, creds: MerchantCredentials,
              payer: Payer, amount: int) -> tuple[str, str]:
    """A card payment through the edge, confirmed by the payer at Stripe; (order, intent)."""
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="STRIPE_CARD", currency="usd", amount=amount), creds)
    assert created["code"] == 0, created
    pay_order_id: str = created["data"]["payOrderId"]
    intent_id: str = json.loads(created["data"]["payData"])["paymentIntentId"]
    confirmed = await payer.enter_card(intent_id, CARD_OK)
    assert confirmed["status"] == "succeeded", confirmed
    paid = await wait_for_state(http, mesh, creds, pay_order_id, 2)
    assert paid["data"]["state"] == 2, paid
    return pay_order_id, intent_id


async def run_batch(mesh: RunningMesh, http: httpx.AsyncClient, key: str,
                    bill_date: str) -> dict[str, Any]:
    """RunBatch over the admin REST edge; the batch."""
    answer = await http.post(f"{mesh.rest_url}/admin/v1/recon/batches", headers=auth(mesh),
                             json={"channelConfigKey": key, "billDate": bill_date})
    assert answer.status_code == 200, answer.text
    batch: dict[str, Any] = answer.json()["batch"]
    return batch


def day_start(bill_date: str) -> int:
    """Epoch seconds of the start of ``bill_date`` in China Standard Time."""
    return int(datetime.combine(date.fromisoformat(bill_date), datetime.min.time(),
                                CST).timestamp())


async def delivered(mesh: RunningMesh, events: dict[str, str], timeout: float = 15.0) -> None:
    """Waits until the gateway's outbox has delivered each order's event (order id → topic),
    so the ledger's postings are made before the orders are moved: a later replay of a payment's
    posting with another value date would be refused as a different posting."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = [order_id for order_id, topic in events.items()
                   if [tuple(row) for row in gateway_rows(
                       mesh, "SELECT delivered_at IS NOT NULL FROM outbox_event "
                       "WHERE order_id = :i AND topic = :t", i=order_id, t=topic)] != [(1,)]]
        if not waiting:
            return
        assert time.monotonic() < deadline, f"events not delivered: {waiting}"
        await asyncio.sleep(0.1)


def move_back(mesh: RunningMesh, front: StripeFront, key: str, pay_order_ids: list[str],
              bill_date: str) -> None:
    """Dates the config's orders and refunds, and their balance transactions, at noon (UTC+8)
    of ``bill_date``."""
    noon = day_start(bill_date) + 12 * 3600
    moment = datetime.fromtimestamp(noon, UTC).replace(tzinfo=None)
    for table, rows in (("pay_order", 3), ("refund_order", 1)):
        assert gateway_execute(
            mesh, f"UPDATE {table} SET created_at = :t, success_at = :t, updated_at = :t, "
                  "expire_at = :e WHERE channel_config_key = :k",
            t=moment, e=moment + timedelta(hours=2), k=key) == rows
    assert front.backdate(pay_order_ids, int(time.time()) - noon) == 4  # 3 charges, 1 refund


async def test_a_stripe_day_finds_exactly_the_planted_mistake(
        mesh: RunningMesh, http: httpx.AsyncClient, localstripe: str) -> None:
    with stripe_front(localstripe, SECRET_KEY) as front:
        creds = await merchant_with_channel(mesh, "stripe", params(front.url), ["STRIPE_CARD"])
        key = f"{creds.app_id}.stripe"
        hook = await http.post(f"{front.url}/_config/webhooks/edge", json={
            "url": f"{mesh.rest_url}/api/pay/notify/stripe", "secret": WEBHOOK_SECRET,
            "events": ["payment_intent.succeeded", "payment_intent.payment_failed"]})
        hook.raise_for_status()
        payer = Payer(http, front.url)
        (first, _), (wrong, wrong_intent), (third, _) = await asyncio.gather(
            *(pay(mesh, http, creds, payer, amount) for amount in (1000, 2000, 3000)))
        refunded = await signed_post(http, mesh, "/api/refund/refundOrder", {
            "payOrderId": first, "mchRefundNo": f"SRR{time.time_ns()}", "refundAmount": 400,
            "currency": "usd", "refundReason": "returned"}, creds)
        assert (refunded["code"], refunded["data"]["state"]) == (0, 2), refunded
        # The channel service reached Stripe through the front.
        assert {("POST", "/v1/payment_intents"), ("POST", "/v1/refunds")} <= set(front.forwarded)

        # Today has not ended in China: Stripe's listing of it is not asked for.
        today = china_today()
        early = await run_batch(mesh, http, key, today)
        assert (early["state"], early["errorReason"]) == ("BATCH_STATE_ERROR",
                                                          "BILL_NOT_READY"), early
        assert str(day_start(today)) not in {q.get("created[gte]") for q in front.ledger.queries}

        bill_date = (date.fromisoformat(today) - timedelta(days=DAYS_BACK)).isoformat()
        await delivered(mesh, {**{o: "pay.succeeded" for o in (first, wrong, third)},
                               refunded["data"]["refundOrderId"]: "refund.succeeded"})
        move_back(mesh, front, key, [first, wrong, third], bill_date)
        front.misreport(wrong, amount=2100)

        batch = await run_batch(mesh, http, key, bill_date)
        assert batch["state"] == "BATCH_STATE_SUCCESS", batch
        # The adapter listed exactly that day, with the sources expanded.
        asked = [q for q in front.ledger.queries
                 if q.get("created[gte]") == str(day_start(bill_date))]
        assert asked and all(q["created[lt]"] == str(day_start(bill_date) + 86400)
                             and q["expand[0]"] == "data.source" for q in asked)

    listed = await http.get(f"{mesh.rest_url}/admin/v1/recon/mistakes", headers=auth(mesh),
                            params={"batch_id": batch["batchId"]})
    assert listed.status_code == 200, listed.text
    mistakes = listed.json().get("mistakes", [])
    assert [(m["type"], m["payOrderId"], m["platformAmount"], m["channelAmount"])
            for m in mistakes] == [
        ("MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH", wrong, "2000", "2100")]
    (mistake,) = mistakes
    assert (mistake["channelOrderNo"], mistake["channelFee"]) == (wrong_intent, "88")
    assert "platformChannelFee" not in mistake  # no channel cost recorded: fees not compared

    def count(side: dict[str, Any], name: str) -> int:
        return int(side.get(name, 0))

    assert count(batch, "matchedCount") == 3  # the other two payments and the refund
    assert count(batch, "mistakeCount") == 1 and count(batch, "poolAdded") == 0
    assert (count(batch, "billRowCount"), count(batch, "platformRecordCount")) == (4, 4)
    channel, platform = batch["channel"], batch["platform"]
    assert [count(channel, n) for n in ("payCount", "payAmount", "refundCount",
                                        "refundAmount", "fee")] == [
        3, 1000 + 2100 + 3000, 1, 400, 59 + 88 + 117]  # Stripe's 2.9 % + 30 on each charge
    assert [count(platform, n) for n in ("payCount", "payAmount", "refundCount",
                                         "refundAmount")] == [3, 6000, 1, 400]
