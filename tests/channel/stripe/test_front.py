"""The Stripe-shaped front for localstripe (:mod:`.stripe_front`), driven by the real adapter.

Everything the adapter and the payer send passes through to localstripe unchanged; the day's
balance transactions come back in Stripe's shape, booked from what localstripe did, whoever
asked it; a backdated or misreported transaction stays so.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator

import httpx
import pytest

from paymesh.services.channel.adapters.base import ChannelState, PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.bills import CST, Bill, BillKind, BillLine, BillStatus
from paymesh.services.channel.adapters.stripe_card import StripeAdapter

from . import CARD_OK, SECRET_KEY, Payer, params
from .balance_server import stripe_fee
from .stripe_front import StripeFront, stripe_front

DAY = 86400


@pytest.fixture
def front(localstripe: str) -> Iterator[StripeFront]:
    with stripe_front(localstripe, SECRET_KEY) as running:
        yield running


def new_order(amount: int) -> PaymentOrder:
    return PaymentOrder(pay_order_id=f"P{secrets.randbelow(10**18):018d}",
                        way_code="STRIPE_CARD", amount=amount, currency="USD", subject="tea")


async def paid(adapter: StripeAdapter, api_base: str, payer: Payer,
               order: PaymentOrder) -> str:
    """The order paid with a test card at ``api_base``; its intent id."""
    started = await adapter.pay(params(api_base), order, "http://127.0.0.1:9/unused")
    assert started.state == ChannelState.WAITING, started
    confirmed = await payer.enter_card(started.channel_order_no, CARD_OK)
    assert confirmed["status"] == "succeeded", confirmed
    return started.channel_order_no


def bill_day(created: int) -> tuple[datetime.date, float]:
    """The China Standard Time day of ``created``, and a moment after that day."""
    day = datetime.datetime.fromtimestamp(created, CST).date()
    end = datetime.datetime.combine(day, datetime.time(), CST) + datetime.timedelta(days=1)
    return day, end.timestamp() + 1


async def lines_of(http: httpx.AsyncClient, api_base: str, created: int) -> list[BillLine]:
    """Every line of the bill of the day of ``created``, as the adapter reads it."""
    day, after = bill_day(created)
    bill: Bill = await StripeAdapter(http, clock=lambda: after).download_bill(params(api_base),
                                                                               day)
    try:
        lines = list(bill.lines)
        bill.totals()
        return lines
    finally:
        bill.cleanup()


async def test_payments_and_a_refund_through_the_front_are_its_balance_transactions(
        front: StripeFront, http: httpx.AsyncClient) -> None:
    adapter = StripeAdapter(http)
    payer = Payer(http, front.url)
    order = new_order(2500)
    intent_id = await paid(adapter, front.url, payer, order)
    again = await adapter.pay(params(front.url), order, "")  # replayed by localstripe's keys
    assert again.channel_order_no == intent_id
    refund = RefundOrder(pay_order_id=order.pay_order_id, refund_order_id=f"R{intent_id}",
                         pay_amount=2500, refund_amount=600, currency="USD")
    refunded = await adapter.refund(params(front.url), refund, "")
    assert refunded.state == ChannelState.CONFIRM_SUCCESS, refunded

    # The adapter and the payer reached localstripe only through the front.
    assert {("POST", "/v1/payment_intents"), ("POST", f"/v1/payment_intents/{intent_id}"),
            ("POST", f"/v1/payment_intents/{intent_id}/confirm"),
            ("POST", "/v1/refunds")} <= set(front.forwarded)

    charge, refund_txn = sorted(front.transactions_of(order.pay_order_id),
                                key=lambda t: t["type"])
    assert (charge["type"], charge["amount"], charge["fee"], charge["net"]) == (
        "charge", 2500, 30 + 73, 2500 - 103)  # 2.9 % of 25.00 (72.5, half up) + 0.30
    assert (refund_txn["type"], refund_txn["amount"], refund_txn["fee"]) == ("refund", -600, 0)
    lines = await lines_of(http, front.url, charge["created"])
    mine = sorted(line for line in lines if line.pay_order_id == order.pay_order_id)
    assert mine == sorted([
        BillLine(BillKind.PAY, intent_id, order.pay_order_id, "", "", 2500, 103,
                 BillStatus.SUCCESS, charge["created"], "USD"),
        BillLine(BillKind.REFUND, intent_id, order.pay_order_id, refund.refund_order_id,
                 refunded.channel_refund_no, 600, 0, BillStatus.SUCCESS, refund_txn["created"],
                 "USD")])
    asked = front.ledger.queries[-1]
    assert asked["expand[0]"] == "data.source" and "created[gte]" in asked


async def test_a_payment_made_straight_at_localstripe_is_listed_too(
        front: StripeFront, localstripe: str, payer: Payer, http: httpx.AsyncClient) -> None:
    order = new_order(1234)
    intent_id = await paid(StripeAdapter(http), localstripe, payer, order)
    assert not any(intent_id in path for _, path in front.forwarded)
    (charge,) = front.transactions_of(order.pay_order_id)
    lines = await lines_of(http, front.url, charge["created"])
    assert [(line.channel_order_no, line.amount, line.fee) for line in lines
            if line.pay_order_id == order.pay_order_id] == [(intent_id, 1234, stripe_fee(1234))]


async def test_backdated_and_misreported_charges_stay_so(
        front: StripeFront, payer: Payer, localstripe: str, http: httpx.AsyncClient) -> None:
    moved, wrong = new_order(1000), new_order(2000)
    adapter = StripeAdapter(http)
    for order in (moved, wrong):
        await paid(adapter, localstripe, payer, order)
    (original,) = front.transactions_of(moved.pay_order_id)
    assert front.backdate([moved.pay_order_id], 2 * DAY) == 1
    front.misreport(wrong.pay_order_id, amount=2100, fee=1)

    (charge,) = front.transactions_of(wrong.pay_order_id)  # a later sync keeps both changes
    today = await lines_of(http, front.url, charge["created"])
    earlier = await lines_of(http, front.url, original["created"] - 2 * DAY)
    assert [(line.amount, line.fee) for line in today
            if line.pay_order_id == wrong.pay_order_id] == [(2100, 1)]
    assert charge["net"] == 2099 and charge["fee_details"][0]["amount"] == 1
    assert moved.pay_order_id not in {line.pay_order_id for line in today}
    assert [line.trade_time for line in earlier if line.pay_order_id == moved.pay_order_id] == [
        original["created"] - 2 * DAY]


async def test_the_front_refuses_as_stripe_does(front: StripeFront,
                                                http: httpx.AsyncClient) -> None:
    wrong_key = await http.get(f"{front.url}/v1/balance_transactions",
                               headers={"Authorization": "Bearer sk_test_someoneelse0000"})
    assert wrong_key.status_code == 401
    unknown = await http.get(f"{front.url}/v1/balance_transactions", params={"colour": "blue"},
                             headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert unknown.status_code == 400
    missing = await http.get(f"{front.url}/v1/payment_intents/pi_nosuchintent",
                             headers={"Authorization": f"Bearer {SECRET_KEY}"})
    assert missing.status_code == 404  # localstripe's own answer, passed back
    assert missing.json()["error"]["type"] == "invalid_request_error"
