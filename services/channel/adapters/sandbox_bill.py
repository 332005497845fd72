"""The sandbox's bill (对账单): its own book of one Beijing day, written as a CSV and read back.

The sandbox writes its bill to a temporary file and parses it through the same lazy Bill path as
the real channels, so its bills exercise parsing and the totals check too.

Format (UTF-8, ``\\n`` line ends, RFC 4180 quoting), three parts:

- the header ``kind,channel_order_no,pay_order_id,refund_order_id,channel_refund_no,amount,fee,
  status,trade_time,currency``;
- one row per payment that succeeded that day (``PAY``, dated by when it succeeded) and per
  refund that succeeded that day (``REFUND``, cancel reversals included under
  ``cancel:{payOrderId}``): amounts and fees in integer fen, ``status`` SUCCESS, PROCESSING or
  FAILED, ``trade_time`` Beijing time ``YYYY-MM-DD HH:MM:SS``, currency upper case;
- the trailer ``TOTAL,<pay_count>,<pay_amount>,<refund_count>,<refund_amount>,<fee>``.

Fee: the ``feeRate`` channel parameter (decimal text, default ``"0.006"`` = 0.6 %) of a
payment's amount, half up to the fen; a refund gives back its share (negative fee): the fee of
everything the payment's successful refunds requested so far minus what earlier ones gave back,
so a fully refunded payment returns exactly its fee.

Readiness: the bill of day D is ready once D is over in Beijing time (BILL_NOT_READY before);
with the channel parameter ``"billToday": true`` today's bill is served as the book stands now
(tests and demos). Planted mistakes (:class:`SandboxBillMistake`) make the bill tell another
story about one order or refund; the trailer always adds up the rows as written.
"""

from __future__ import annotations

import csv
import datetime
import os
import tempfile
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
    fee_of,
    remove_quietly,
)
from paymesh.services.channel.models import SandboxBillMistake, SandboxBillMistakeKind
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.common.errors import DomainError

HEADER = ("kind", "channel_order_no", "pay_order_id", "refund_order_id", "channel_refund_no",
          "amount", "fee", "status", "trade_time", "currency")
TRAILER = "TOTAL"
DEFAULT_FEE_RATE = Decimal("0.006")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_KINDS = {"PAY": BillKind.PAY, "REFUND": BillKind.REFUND}
_STATUSES = {status.name: status for status in BillStatus}


def fee_rate(params: Mapping[str, Any]) -> Decimal:
    """The ``feeRate`` channel parameter; CHANNEL_CONFIG_INVALID unless a rate in [0, 1)."""
    text = params.get("feeRate", None)
    if text is None or text == "":
        return DEFAULT_FEE_RATE
    try:
        rate = Decimal(str(text))
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          "sandbox feeRate must be a decimal rate in [0, 1), e.g. \"0.006\"")
    return rate


def day_window(bill_date: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The Beijing day as [start, end) in UTC."""
    start = datetime.datetime.combine(bill_date, datetime.time(0), CST).astimezone(datetime.UTC)
    return start, start + datetime.timedelta(days=1)


async def write_bill(book: SandboxBook, bill_date: datetime.date, rate: Decimal,
                     path: str) -> None:
    """Writes the day's bill from the book to ``path`` (see the module docstring)."""
    start, end = day_window(bill_date)
    mistakes = await book.bill_mistakes(bill_date)
    bent = {(m.ref, m.kind): m for m in mistakes}
    totals = [0, 0, 0, 0, 0]
    with open(path, "w", encoding="utf-8", newline="") as file:
        out = csv.writer(file, lineterminator="\n")
        out.writerow(HEADER)

        def emit(kind: str, order_no: str, pay_id: str, refund_id: str, refund_no: str,
                 amount: int, fee: int, when: datetime.datetime, currency: str) -> None:
            ref = refund_id if kind == "REFUND" else pay_id
            if (ref, SandboxBillMistakeKind.OMIT) in bent:
                return
            status = "SUCCESS"
            if (found := bent.get((ref, SandboxBillMistakeKind.AMOUNT))) is not None:
                amount = found.amount if found.amount is not None else amount + 1
            if (found := bent.get((ref, SandboxBillMistakeKind.FEE))) is not None:
                fee = found.fee if found.fee is not None else fee + 1
            if (found := bent.get((ref, SandboxBillMistakeKind.STATUS))) is not None:
                status = found.status or "FAILED"
            first = 0 if kind == "PAY" else 2
            totals[first] += 1
            totals[first + 1] += amount
            totals[4] += fee
            out.writerow((kind, order_no, pay_id, refund_id, refund_no, amount, fee, status,
                          when.astimezone(CST).strftime(_TIME_FORMAT), currency.upper()))

        async for pay_id, order_no, amount, currency, paid_at in book.bill_payments(start, end):
            emit("PAY", order_no, pay_id, "", "", amount, fee_of(amount, rate), paid_at, currency)
        async for (refund_id, refund_no, pay_id, order_no, amount, currency, when,
                   before) in book.bill_refunds(start, end):
            share = fee_of(before + amount, rate) - fee_of(before, rate)
            emit("REFUND", order_no, pay_id, refund_id, refund_no, amount, -share, when, currency)
        for mistake in mistakes:
            if mistake.kind == SandboxBillMistakeKind.EXTRA and mistake.bill_date == bill_date:
                amount = 500 if mistake.amount is None else mistake.amount
                emit("PAY", f"SBX{mistake.ref}"[:32], mistake.ref, "", "", amount,
                     fee_of(amount, rate) if mistake.fee is None else mistake.fee,
                     start + datetime.timedelta(hours=12), "cny")
        out.writerow((TRAILER, *totals))


def parse_sandbox_bill(path: str, cleanup: Any = None) -> Bill:
    """The sandbox bill at ``path``, read lazily; its totals from the trailer."""
    stated: list[BillTotals] = []

    def totals() -> BillTotals:
        if not stated:
            raise BillMalformed("the bill's totals are read after its last row")
        return stated[0]

    lines = _lines(path, stated)
    if cleanup is None:
        return Bill(lines=lines, totals=totals)
    return Bill(lines=lines, totals=totals, cleanup=cleanup)


def _lines(path: str, stated: list[BillTotals]) -> Iterator[BillLine]:
    with open(path, encoding="utf-8", newline="") as file:
        rows = csv.reader(file)
        if tuple(next(rows, ())) != HEADER:
            raise BillMalformed("line 1: not a sandbox bill header")
        for number, row in enumerate(rows, 2):
            if row and row[0] == TRAILER:
                if len(row) != 6:
                    raise BillMalformed(f"line {number}: the trailer needs five totals")
                try:
                    stated.append(BillTotals(*(int(value) for value in row[1:])))
                except ValueError:
                    raise BillMalformed(f"line {number}: a total is not an integer") from None
                if next(rows, None) is not None:
                    raise BillMalformed(f"line {number + 1}: rows after the trailer")
                return
            if len(row) != len(HEADER) or row[0] not in _KINDS or row[7] not in _STATUSES:
                raise BillMalformed(f"line {number}: not a sandbox bill row")
            try:
                when = datetime.datetime.strptime(row[8], _TIME_FORMAT).replace(tzinfo=CST)
                yield BillLine(_KINDS[row[0]], row[1], row[2], row[3], row[4], int(row[5]),
                               int(row[6]), _STATUSES[row[7]], int(when.timestamp()), row[9])
            except ValueError:
                raise BillMalformed(f"line {number}: an amount or time does not parse") from None
    raise BillMalformed("the bill ends without its TOTAL trailer: truncated")


async def sandbox_bill(book: SandboxBook, params: Mapping[str, Any], bill_date: datetime.date,
                       now: datetime.datetime) -> Bill:
    """The day's bill, written to a temporary file and parsed back lazily."""
    rate = fee_rate(params)
    today = now.astimezone(CST).date()
    if bill_date > today or (bill_date == today and params.get("billToday") is not True):
        raise BillNotReady(f"the sandbox's bill of {bill_date} is ready once that day is over "
                           "(Beijing time)")
    handle, path = tempfile.mkstemp(prefix="paymesh-sandbox-bill-", suffix=".csv")
    os.close(handle)
    try:
        await write_bill(book, bill_date, rate, path)
    except BaseException:
        os.unlink(path)
        raise
    return parse_sandbox_bill(path, cleanup=remove_quietly(path))


def mistake(kind: str, ref: str, *, amount: int | None, fee: int | None, status: str,
            bill_date: datetime.date | None, now: datetime.datetime) -> SandboxBillMistake:
    """A checked planted mistake (see :class:`SandboxBillMistake`); EXTRA defaults to today."""
    try:
        kind = SandboxBillMistakeKind(kind.upper()).value
    except ValueError:
        raise DomainError("SANDBOX_MISTAKE_INVALID", f"unknown bill mistake {kind!r}; known: "
                          f"{', '.join(k.value for k in SandboxBillMistakeKind)}") from None
    if not 0 < len(ref) <= 80 or (status and status not in _STATUSES):
        raise DomainError("SANDBOX_MISTAKE_INVALID",
                          "a bill mistake needs the order or refund id it is about and a status "
                          "among SUCCESS, PROCESSING, FAILED")
    if kind == SandboxBillMistakeKind.EXTRA:
        bill_date = bill_date or now.astimezone(CST).date()
    return SandboxBillMistake(ref=ref, kind=kind, amount=amount, fee=fee, status=status,
                              bill_date=bill_date, created_at=now)
