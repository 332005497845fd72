"""The WeChat Pay trade bill (交易账单), read lazily and fast from a file on disk (reference §1.8).

The file: UTF-8 with a BOM, ``\\r\\n`` line ends (``\\n`` accepted too), a header row of column
names, detail rows whose every value starts with a backtick, then a summary header
(``总交易单数,应结订单总金额,退款总金额,...``) and one summary row. Columns are found by name in the
header, so the 27-column ``ALL`` bill and the 20-column ``SUCCESS`` bill both read.

Rows become :class:`BillLine`:

- ``交易状态`` ``REFUND`` → a REFUND line: ``商户退款单号``/``微信退款单号``, amount
  ``退款金额``, fee as the bill writes it (negative: given back), status from ``退款状态``
  (SUCCESS, PROCESSING, else FAILED);
- any other state → a PAY line: amount ``应结订单金额``, status SUCCESS for ``SUCCESS``, PROCESSING
  for a payment still open (``NOTPAY``, ``USERPAYING``, ``ACCEPT``), FAILED for ``REVOKED``,
  ``CLOSED``, ``PAYERROR`` and anything else;
- ``交易时间`` is Beijing time (UTC+8); amounts are yuan with 2 decimals and fees yuan with 5
  decimals, converted to fen half up (other decimal forms go through :func:`yuan_to_fen`).

Totals, once the lines are exhausted: ``总交易单数`` counts every detail row, so the pay count
is it minus the refund rows counted; ``应结订单总金额`` and ``退款总金额`` give the amounts. The fee
total is checked exactly, in the bill's own 5 decimals, against ``手续费总金额`` (rounding each
row to the fen and rounding the sum can differ by design); the fee stated in the totals is then
the rows' fen sum. A bill that does not parse, is truncated (no summary) or whose fee sum
disagrees raises BILL_MALFORMED naming the line.

Speed matters (bills reach millions of rows): values are split on a comma followed by a
backtick (which also keeps a comma inside a product name harmless), money is integer arithmetic
on the digit string, the time of day is added to a per-date epoch cached for the parse, and each
trade time's epoch is remembered (a day's million rows share 86,400 seconds).
"""

from __future__ import annotations

import calendar
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from paymesh.services.channel.adapters.bills import (
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillStatus,
    BillTotals,
    yuan_to_fen,
)

SUMMARY_FIRST_COLUMN = "总交易单数"
_REQUIRED = ("交易时间", "微信订单号", "商户订单号", "交易状态", "货币种类", "应结订单金额",
             "手续费")
_REFUND_COLUMNS = ("微信退款单号", "商户退款单号", "退款金额", "退款状态")
_SUMMARY_REQUIRED = ("总交易单数", "应结订单总金额", "退款总金额", "手续费总金额")
_PAY_STATUS = {"SUCCESS": BillStatus.SUCCESS, "NOTPAY": BillStatus.PROCESSING,
               "USERPAYING": BillStatus.PROCESSING, "ACCEPT": BillStatus.PROCESSING}
_REFUND_STATUS = {"SUCCESS": BillStatus.SUCCESS, "PROCESSING": BillStatus.PROCESSING}
_BEIJING_OFFSET = 8 * 3600
_TIMES_CACHED = 200_000  # trade times remembered (a day has 86,400 seconds)


@dataclass
class _Summary:
    """What the summary row states, and what the rows added up to, filled in by the parse."""

    done: bool = False
    rows: int = 0
    refund_rows: int = 0
    fee_units: int = 0  # exact sum of the rows' fees in 0.00001 yuan
    fee_fen: int = 0  # sum of the rows' fees, each rounded to the fen
    totals_stated: BillTotals | None = None

    def totals(self) -> BillTotals:
        if not self.done or self.totals_stated is None:
            raise BillMalformed("the bill's totals are read after its last row; the rows were "
                                "not all read")
        return self.totals_stated


def parse_wxpay_trade_bill(path: str | os.PathLike[str],
                           cleanup: Callable[[], None] | None = None) -> Bill:
    """The bill in the file at ``path``, parsed lazily (see the module docstring).

    ``cleanup`` becomes the Bill's cleanup (the downloader passes the temporary file's removal).
    """
    summary = _Summary()
    lines = _lines(os.fspath(path), summary)
    if cleanup is None:
        return Bill(lines=lines, totals=summary.totals)
    return Bill(lines=lines, totals=summary.totals, cleanup=cleanup)


def _lines(path: str, summary: _Summary) -> Iterator[BillLine]:  # noqa: C901 - one hot loop
    with open(path, encoding="utf-8-sig", newline="") as file:
        header, number = _first_line(file)
        columns = header.split(",")
        index = {name.strip(): i for i, name in enumerate(columns)}
        missing = [name for name in _REQUIRED if name not in index]
        if missing:
            raise BillMalformed(f"line {number}: the header has no column {', '.join(missing)}")
        has_refunds = all(name in index for name in _REFUND_COLUMNS)
        width = len(columns)
        i_time, i_txn, i_out = index["交易时间"], index["微信订单号"], index["商户订单号"]
        i_state, i_cur = index["交易状态"], index["货币种类"]
        i_amount, i_fee = index["应结订单金额"], index["手续费"]
        i_rtxn = index.get("微信退款单号", 0)
        i_rout = index.get("商户退款单号", 0)
        i_ramount = index.get("退款金额", 0)
        i_rstate = index.get("退款状态", 0)
        # The line end stays on the last value unless a column read is the last one.
        strip_last = width - 1 in (i_time, i_txn, i_out, i_state, i_cur, i_amount, i_fee,
                                   i_rtxn, i_rout, i_ramount, i_rstate)
        days: dict[str, int] = {}
        times: dict[str, int] = {}  # trade time text → epoch: at most one entry per second
        pay_status, refund_status = _PAY_STATUS, _REFUND_STATUS
        failed = BillStatus.FAILED
        pay, refund = BillKind.PAY, BillKind.REFUND
        line_of, new = BillLine, tuple.__new__  # BillLine(...) without its Python __new__
        rows = refund_rows = fee_units = fee_fen = 0
        for number, line in enumerate(file, number + 1):  # noqa: B020 - continues the count
            if line[:1] != "`":
                if line.startswith(SUMMARY_FIRST_COLUMN):
                    break
                if line.strip():
                    raise BillMalformed(f"line {number}: a detail row must start with a "
                                        "backtick")
                continue
            values = line[1:].split(",`")
            if strip_last:
                values[-1] = values[-1].rstrip("\r\n")
            if len(values) != width:
                raise BillMalformed(f"line {number}: {len(values)} values where the header has "
                                    f"{width} columns")
            try:
                stamp = values[i_time]
                trade_time = times.get(stamp)
                if trade_time is None:
                    if len(times) >= _TIMES_CACHED:
                        times.clear()
                    day = days.get(stamp[:10])
                    if day is None or len(stamp) != 19:
                        day = _day_epoch(stamp, days)
                    trade_time = times[stamp] = (day + int(stamp[11:13]) * 3600
                                                 + int(stamp[14:16]) * 60 + int(stamp[17:19]))
                fee_text = values[i_fee]
                if len(fee_text) > 6 and fee_text[-6] == ".":
                    units = int(fee_text.replace(".", "", 1))  # the only dot, or int fails
                else:
                    units = _fee_units(fee_text)
                fee = (units + 500) // 1000 if units >= 0 else -((500 - units) // 1000)
                state = values[i_state]
                if state == "REFUND":
                    if not has_refunds:
                        raise BillMalformed(f"line {number}: a refund row in a bill without "
                                            "refund columns")
                    text = values[i_ramount]
                    amount = (int(text.replace(".", "", 1)) if len(text) > 3 and text[-3] == "."
                              else yuan_to_fen(text))
                    item = new(line_of, (refund, values[i_txn], values[i_out], values[i_rout],
                                         values[i_rtxn], amount, fee,
                                         refund_status.get(values[i_rstate], failed),
                                         trade_time, values[i_cur]))
                    refund_rows += 1
                else:
                    text = values[i_amount]
                    amount = (int(text.replace(".", "", 1)) if len(text) > 3 and text[-3] == "."
                              else yuan_to_fen(text))
                    item = new(line_of, (pay, values[i_txn], values[i_out], "", "", amount, fee,
                                         pay_status.get(state, failed), trade_time,
                                         values[i_cur]))
            except (ValueError, IndexError):
                raise BillMalformed(f"line {number}: a time or amount does not parse") from None
            rows += 1
            fee_units += units
            fee_fen += fee
            yield item
        else:
            raise BillMalformed("the bill ends without its summary (总交易单数...): truncated")
        summary.rows, summary.refund_rows = rows, refund_rows
        summary.fee_units, summary.fee_fen = fee_units, fee_fen
        summary.totals_stated = _stated_totals(line, file, number, summary)
        summary.done = True


def _first_line(file: Iterator[str]) -> tuple[str, int]:
    for number, line in enumerate(file, 1):
        text = line.strip()
        if text:
            return text, number
    raise BillMalformed("the bill is empty")


def _day_epoch(stamp: str, days: dict[str, int]) -> int:
    """Unix seconds of Beijing midnight of ``stamp``'s date, remembered for the next rows."""
    if len(stamp) != 19 or stamp[4] != "-" or stamp[7] != "-" or stamp[10] != " " \
            or stamp[13] != ":" or stamp[16] != ":":
        raise ValueError(f"not a bill time: {stamp!r}")
    year, month, day = int(stamp[:4]), int(stamp[5:7]), int(stamp[8:10])
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        raise ValueError(f"not a date: {stamp!r}")
    epoch = calendar.timegm((year, month, day, 0, 0, 0)) - _BEIJING_OFFSET
    days[stamp[:10]] = epoch
    return epoch


def _fee_units(text: str) -> int:
    """A fee in exact 0.00001 yuan units, from any decimal form with at most 5 decimals."""
    try:
        value = Decimal(text.strip()).scaleb(5)
    except InvalidOperation:
        raise ValueError(f"not a fee: {text!r}") from None
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"not a fee in at most 5 decimals: {text!r}")
    return int(value)


def _stated_totals(header: str, file: Iterator[str], number: int,
                   summary: _Summary) -> BillTotals:
    names = [name.strip() for name in header.strip().split(",")]
    missing = [name for name in _SUMMARY_REQUIRED if name not in names]
    if missing:
        raise BillMalformed(f"line {number}: the summary header has no {', '.join(missing)}")
    row = next((line for line in file if line.strip()), "")
    values = row.strip().split(",")
    if len(values) != len(names) or not all(value.startswith("`") for value in values):
        raise BillMalformed(f"after line {number}: the summary row does not match its header")
    stated = dict(zip(names, (value[1:] for value in values), strict=True))
    if any(line.strip() for line in file):
        raise BillMalformed("the bill goes on after its summary row")
    try:
        count = int(stated["总交易单数"])
        pay_amount = yuan_to_fen(stated["应结订单总金额"])
        refund_amount = yuan_to_fen(stated["退款总金额"])
        fee_units = _fee_units(stated["手续费总金额"])
    except ValueError:
        raise BillMalformed("the summary row has a value that does not parse") from None
    if fee_units != summary.fee_units:
        raise BillMalformed(f"fee: the rows sum to {Decimal(summary.fee_units).scaleb(-5)} yuan, "
                            f"the summary (手续费总金额) states {stated['手续费总金额']}")
    return BillTotals(pay_count=count - summary.refund_rows, pay_amount=pay_amount,
                      refund_count=summary.refund_rows, refund_amount=refund_amount,
                      fee=summary.fee_fen)
