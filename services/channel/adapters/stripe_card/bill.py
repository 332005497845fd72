"""A Stripe "bill" (reference §4.1): the day's balance transactions, listed through the API.

Stripe has no daily bill file: reconciliation data is the account's balance transactions.
``GET /v1/balance_transactions`` with ``created[gte]``/``created[lt]`` = the China Standard Time
day, ``limit=100``, ``expand[]=data.source`` and ``starting_after`` = the last id of the previous
page, until ``has_more`` is false. Each page's rows are written to a temporary file as they come
(JSON lines, one per kept row) and read back lazily, so memory stays bounded.

Rows: ``type`` ``charge`` or ``payment`` → PAY; ``refund`` or ``payment_refund`` → REFUND;
``refund_failure`` (a refund that bounced: money back in) → REFUND with status FAILED; every
other type (payouts, Stripe fees, adjustments, transfers) is not a trade and is skipped. Amounts
are Stripe's minor units, made positive (a refund's is negative at Stripe); ``fee`` is Stripe's
as is (charged: positive; a refund's is 0, or negative if Stripe gave some back); ``status``
``pending`` and ``available`` are both SUCCESS (the money moved; only its availability differs);
``created`` is the trade time and ``currency`` is upper-cased.

The platform's ids come from the expanded source: a charge carries the PaymentIntent's
``metadata.pay_order_id`` (Stripe copies an intent's metadata onto its charge when it is
confirmed) and ``payment_intent`` (the channel order number); a refund carries the
``metadata.pay_order_id``/``refund_order_id`` the adapter set on it, ``payment_intent`` and its
own id (the channel refund number). A source that comes back unexpanded is BILL_MALFORMED.

Totals: Stripe states no summary of a day, so the totals are the sums of what was listed and
the totals check downstream is vacuous for Stripe; what the listing guarantees instead is
completeness, which is why a day is BILL_NOT_READY until it has ended in China Standard Time.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import stripe

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
    ChannelUnavailable,
    remove_quietly,
)
from paymesh.services.channel.adapters.stripe_card.states import metadata, text
from paymesh.services.channel.adapters.stripe_card.transport import classify

PAY_TYPES = frozenset({"charge", "payment"})
REFUND_TYPES = frozenset({"refund", "payment_refund"})
REFUND_FAILURE = "refund_failure"
_PAGE = 100


@dataclass
class _Sums:
    """What was listed, counted while it was written; the totals once every line was read."""

    counts: list[int] = field(default_factory=lambda: [0, 0])
    amounts: list[int] = field(default_factory=lambda: [0, 0])
    fee: int = 0
    read: bool = False

    def add(self, kind: BillKind, amount: int, fee: int) -> None:
        slot = 0 if kind is BillKind.PAY else 1
        self.counts[slot] += 1
        self.amounts[slot] += amount
        self.fee += fee

    def totals(self) -> BillTotals:
        if not self.read:
            raise BillMalformed("the bill's totals are read after its last row; the rows were "
                                "not all read")
        return BillTotals(pay_count=self.counts[0], pay_amount=self.amounts[0],
                          refund_count=self.counts[1], refund_amount=self.amounts[1],
                          fee=self.fee)


async def download_bill(client: stripe.StripeClient, bill_date: datetime.date,
                        now: float) -> Bill:
    """The day's balance transactions as bill lines (see the module docstring).

    BILL_NOT_READY while the day has not ended in China Standard Time; CHANNEL_CONFIG_INVALID
    when Stripe refuses the key; CHANNEL_UNAVAILABLE when a page cannot be had.
    """
    start = datetime.datetime.combine(bill_date, datetime.time(), CST)
    end = start + datetime.timedelta(days=1)
    if now < end.timestamp():
        raise BillNotReady(f"{bill_date} has not ended in China Standard Time yet; Stripe's "
                           "listing of it would be incomplete")
    handle, path = tempfile.mkstemp(prefix="paymesh-stripe-bill-", suffix=".jsonl")
    cleanup = remove_quietly(path)
    sums = _Sums()
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            after = ""
            while True:
                query: dict[str, Any] = {"created": {"gte": int(start.timestamp()),
                                                     "lt": int(end.timestamp())},
                                         "limit": _PAGE, "expand": ["data.source"]}
                if after:
                    query["starting_after"] = after
                try:
                    page = await client.v1.balance_transactions.list_async(
                        query)  # type: ignore[arg-type]
                except stripe.StripeError as error:
                    failure = classify(error, refused=ChannelState.UNKNOWN)
                    raise ChannelUnavailable(f"Stripe did not list the balance transactions of "
                                       f"{bill_date}: {failure.err_code}: {failure.err_msg}"
                                       ) from None
                for txn in page.data:
                    row = _row(txn)
                    if row is not None:
                        sums.add(BillKind(row[0]), row[5], row[6])
                        file.write(json.dumps(row, separators=(",", ":")) + "\n")
                if not page.has_more or not page.data:
                    break
                after = text(page.data[-1], "id")
    except BaseException:
        cleanup()
        raise
    lines = _lines(path, sums)

    def finish() -> None:
        lines.close()
        cleanup()

    return Bill(lines=lines, totals=sums.totals, cleanup=finish)


def _row(txn: stripe.BalanceTransaction) -> list[Any] | None:
    """A kept balance transaction as a JSON-ready list in BillLine's field order, or None."""
    kind_name = text(txn, "type")
    if kind_name in PAY_TYPES:
        kind, status = BillKind.PAY, BillStatus.SUCCESS
    elif kind_name in REFUND_TYPES:
        kind, status = BillKind.REFUND, BillStatus.SUCCESS
    elif kind_name == REFUND_FAILURE:
        kind, status = BillKind.REFUND, BillStatus.FAILED
    else:
        return None
    txn_id = text(txn, "id")
    source = getattr(txn, "source", None)
    if not isinstance(source, stripe.StripeObject):
        raise BillMalformed(f"balance transaction {txn_id}: its source was not expanded")
    amount, fee, created = (getattr(txn, name, None) for name in ("amount", "fee", "created"))
    if not all(isinstance(value, int) and not isinstance(value, bool)
               for value in (amount, fee, created)):
        raise BillMalformed(f"balance transaction {txn_id}: amount, fee or created is missing")
    intent = getattr(source, "payment_intent", None)
    intent_id = intent if isinstance(intent, str) else text(intent, "id")
    pay_order_id = metadata(source, "pay_order_id")
    if kind is BillKind.PAY:
        return [kind, intent_id or text(source, "id"), pay_order_id, "", "", abs(amount), fee,
                status, created, text(txn, "currency").upper()]
    return [kind, intent_id, pay_order_id, metadata(source, "refund_order_id"),
            text(source, "id"), abs(amount), fee, status, created, text(txn, "currency").upper()]


def _lines(path: str, sums: _Sums) -> Iterator[BillLine]:
    with open(path, encoding="utf-8") as file:
        for line in file:
            kind, order_no, pay_id, refund_id, refund_no, amount, fee, status, when, currency = (
                json.loads(line))
            yield BillLine(BillKind(kind), order_no, pay_id, refund_id, refund_no, amount, fee,
                           BillStatus(status), when, currency)
    sums.read = True
