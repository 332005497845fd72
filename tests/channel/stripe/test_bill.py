"""The Stripe "bill": a China Standard Time day of balance transactions, listed page by page.

Against :mod:`.balance_server` (Stripe's listing shape, which localstripe lacks): hand-built days
parsed to exact rows and totals, and a day built from a payment and a refund made through
localstripe by the adapter itself.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterator

import httpx
import pytest

from paymesh.services.channel.adapters.base import ChannelState, PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
)
from paymesh.services.channel.adapters.stripe_card import StripeAdapter
from paymesh.services.common.errors import DomainError

from . import CARD_OK, SECRET_KEY, Payer, params
from .balance_server import BalanceLedger, balance_server

DAY = datetime.date(2024, 6, 1)
START = int(datetime.datetime(2024, 6, 1, tzinfo=CST).timestamp())  # 2024-05-31 16:00 UTC
END = START + 86400
AFTER_THE_DAY = END + 3600.0


@pytest.fixture
def ledger() -> Iterator[BalanceLedger]:
    with balance_server(SECRET_KEY) as running:
        yield running


def adapter_at(http: httpx.AsyncClient, now: float) -> StripeAdapter:
    return StripeAdapter(http, clock=lambda: now)


def charge(pay_order_id: str, amount: int, created: int) -> dict[str, object]:
    """A charge object as Stripe expands it: the intent's metadata copied onto it."""
    return {"id": "ch_" + secrets.token_hex(12), "object": "charge", "amount": amount,
            "currency": "usd", "created": created, "metadata": {"pay_order_id": pay_order_id},
            "payment_intent": "pi_" + pay_order_id, "status": "succeeded"}


def refund(pay_order_id: str, refund_order_id: str, amount: int,
           created: int) -> dict[str, object]:
    return {"id": "re_" + refund_order_id, "object": "refund", "amount": amount,
            "currency": "usd", "created": created, "payment_intent": "pi_" + pay_order_id,
            "metadata": {"pay_order_id": pay_order_id, "refund_order_id": refund_order_id},
            "status": "succeeded"}


async def read_all(bill: Bill) -> tuple[list[BillLine], BillTotals]:
    try:
        lines = list(bill.lines)
        return lines, bill.totals()
    finally:
        bill.cleanup()


async def test_a_day_pages_into_exact_rows_and_totals(ledger: BalanceLedger,
                                                      http: httpx.AsyncClient) -> None:
    # 150 charges (two pages of 100), a refund, a bounced refund, a payout, and two charges just
    # outside the day (the day before; the next day's first second).
    for i in range(150):
        ledger.add("charge", 1000 + i, 59 + i, START + 60 * i, charge(f"P{i:03d}", 1000 + i,
                                                                      START + 60 * i))
    ledger.add("refund", -400, 0, START + 20000, refund("P007", "R1", 400, START + 20000))
    ledger.add("refund_failure", 300, 0, START + 30000, refund("P008", "R2", 300, START + 30000))
    ledger.add("payout", -90000, 0, START + 40000, {"id": "po_1", "object": "payout"})
    ledger.add("charge", 7, 1, START - 1, charge("PBEFORE", 7, START - 1))
    ledger.add("charge", 8, 1, END, charge("PNEXT", 8, END))

    lines, totals = await read_all(
        await adapter_at(http, AFTER_THE_DAY).download_bill(params(ledger.url), DAY))

    assert len(lines) == 152
    by_order = {(line.pay_order_id, line.refund_order_id): line for line in lines}
    assert by_order[("P005", "")] == BillLine(BillKind.PAY, "pi_P005", "P005", "", "", 1005,
                                              64, BillStatus.SUCCESS, START + 300, "USD")
    assert by_order[("P007", "R1")] == BillLine(BillKind.REFUND, "pi_P007", "P007", "R1",
                                                "re_R1", 400, 0, BillStatus.SUCCESS,
                                                START + 20000, "USD")
    assert by_order[("P008", "R2")].status == BillStatus.FAILED
    assert not {"PBEFORE", "PNEXT"} & {line.pay_order_id for line in lines}
    # Newest first, as Stripe lists them.
    assert lines[0].trade_time == START + 30000
    assert totals == BillTotals(pay_count=150, pay_amount=sum(range(1000, 1150)),
                                refund_count=2, refund_amount=700,
                                fee=sum(range(59, 209)))

    first, second = ledger.queries
    assert (first["created[gte]"], first["created[lt]"]) == (str(START), str(END))
    assert (first["limit"], first["expand[0]"]) == ("100", "data.source")
    assert "starting_after" not in first
    page_one = sorted((t for t in ledger.transactions if START <= t["created"] < END),
                      key=lambda t: (t["created"], t["id"]), reverse=True)[:100]
    assert second["starting_after"] == page_one[-1]["id"]


async def test_the_totals_wait_for_the_last_line(ledger: BalanceLedger,
                                                 http: httpx.AsyncClient) -> None:
    ledger.add("charge", 500, 45, START + 10, charge("P1", 500, START + 10))
    bill = await adapter_at(http, AFTER_THE_DAY).download_bill(params(ledger.url), DAY)
    try:
        with pytest.raises(BillMalformed):
            bill.totals()
        assert [line.amount for line in bill.lines] == [500]
        assert bill.totals().pay_amount == 500
    finally:
        bill.cleanup()


async def test_a_day_not_over_in_china_is_not_ready(ledger: BalanceLedger,
                                                    http: httpx.AsyncClient) -> None:
    with pytest.raises(BillNotReady):
        await adapter_at(http, END - 1.0).download_bill(params(ledger.url), DAY)
    assert ledger.queries == []


async def test_a_wrong_key_is_a_configuration_error(ledger: BalanceLedger,
                                                    http: httpx.AsyncClient) -> None:
    with pytest.raises(DomainError) as refused:
        await adapter_at(http, AFTER_THE_DAY).download_bill(
            params(ledger.url, secretKey="sk_test_someoneelse0000"), DAY)
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"


async def test_a_failing_listing_is_channel_unavailable(ledger: BalanceLedger,
                                                        http: httpx.AsyncClient) -> None:
    ledger.fail_with = 500
    with pytest.raises(DomainError) as failed:
        await adapter_at(http, AFTER_THE_DAY).download_bill(params(ledger.url), DAY)
    assert failed.value.reason == "CHANNEL_UNAVAILABLE"


async def test_an_unexpanded_source_is_malformed(ledger: BalanceLedger,
                                                 http: httpx.AsyncClient) -> None:
    ledger.add("charge", 500, 45, START + 10, charge("P1", 500, START + 10))
    ledger.expand_sources = False
    with pytest.raises(BillMalformed):
        await adapter_at(http, AFTER_THE_DAY).download_bill(params(ledger.url), DAY)


async def test_a_payment_and_refund_made_through_localstripe_are_in_the_bill(
        ledger: BalanceLedger, localstripe: str, payer: Payer, http: httpx.AsyncClient) -> None:
    adapter = StripeAdapter(http)
    order = PaymentOrder(pay_order_id=f"P{secrets.randbelow(10**18):018d}",
                         way_code="STRIPE_CARD", amount=2500, currency="USD", subject="tea")
    paid = await adapter.pay(params(localstripe), order, "http://127.0.0.1:9/unused")
    intent_id = paid.channel_order_no
    assert (await payer.enter_card(intent_id, CARD_OK))["status"] == "succeeded"
    refund_order = RefundOrder(pay_order_id=order.pay_order_id, refund_order_id=f"R{intent_id}",
                               pay_amount=2500, refund_amount=600, currency="USD")
    refunded = await adapter.refund(params(localstripe), refund_order, "")
    assert refunded.state == ChannelState.CONFIRM_SUCCESS

    # Stripe's balance transactions of what localstripe did: the charge, then the refund.
    auth = {"Authorization": f"Bearer {SECRET_KEY}"}
    intent = (await http.get(f"{localstripe}/v1/payment_intents/{intent_id}",
                             headers=auth)).json()
    latest = intent["latest_charge"]
    charge_id = latest if isinstance(latest, str) else latest["id"]
    made = (await http.get(f"{localstripe}/v1/charges/{charge_id}", headers=auth)).json()
    charge_txn = ledger.add_charge(made, intent)
    refunds = (await http.get(f"{localstripe}/v1/refunds", params={"payment_intent": intent_id},
                              headers=auth)).json()["data"]
    for item in refunds:
        ledger.add_refund(item)

    day = datetime.datetime.fromtimestamp(made["created"], CST).date()
    tomorrow = datetime.datetime.combine(day, datetime.time(), CST) + datetime.timedelta(days=1)
    lines, totals = await read_all(await adapter_at(http, tomorrow.timestamp()).download_bill(
        params(ledger.url), day))

    mine = [line for line in lines if line.pay_order_id == order.pay_order_id]
    assert sorted(mine) == sorted([
        BillLine(BillKind.PAY, intent_id, order.pay_order_id, "", "", 2500, charge_txn["fee"],
                 BillStatus.SUCCESS, made["created"], "USD"),
        BillLine(BillKind.REFUND, intent_id, order.pay_order_id, refund_order.refund_order_id,
                 refunded.channel_refund_no, 600, 0, BillStatus.SUCCESS, refunds[0]["created"],
                 "USD")])
    assert charge_txn["fee"] == 30 + 73  # 2.9 % of 25.00 (72.5, half up) + 0.30
    assert totals.pay_amount == sum(line.amount for line in lines
                                    if line.kind == BillKind.PAY)
