"""The Alipay trade bill (``bill_type=trade``, reference §2.6): download, then read lazily.

``alipay.data.dataservice.bill.downloadurl.query`` (signed and verified like every other method)
answers ``bill_download_url``, valid 30 s, a plain unsigned GET of a zip. The zip is streamed to a
temporary file; its member names are GBK (read as such unless the entry says UTF-8). Two GBK
CSVs matter:

- ``<pid>0156_<yyyyMMdd>_业务明细.csv``, the detail: ``#`` preamble lines (the one with
  ``起始日期：[yyyy年MM月dd日 …]`` must name the requested day, or the file is for another day),
  the header row, the rows, ``#`` trailer lines ``#交易合计：N笔，商家实收共X元，商家优惠共Y元``
  and ``#退款合计：N笔，商家实收退款共X元，商家优惠退款共Y元``;
- ``…_业务明细(汇总).csv``, the summary, whose ``合计`` row states the day's ``服务费（元）``.

Columns are found by name (full-width ``（元）`` or ASCII parentheses), every value is
stripped of the TAB Alipay writes after ids. ``业务类型`` ``交易`` → a PAY line, ``退款`` → a
REFUND line (others are not trades and are skipped); every row is SUCCESS, since the bill
lists completed trades and refunds only. Amount = |商家实收 + 商家优惠|: the order amount the
platform sent (Alipay-funded discounts are inside 商家实收, the merchant's own in 商家优惠),
and the same sum the trailer states. ``退款批次号/请求号`` is the refund's ``out_request_no``
(the platform's refundOrderId); the bill has no refund number of Alipay's own, so
``channel_refund_no`` stays empty. Times are ``完成时间`` (Beijing time), the currency CNY.

The fee: the reference leaves the sign of ``服务费（元）`` unconfirmed. Rows are normalized by
kind whatever the sign (a payment's fee positive, a refund's negative), while the stated fee total
takes the summary's ``合计`` as Alipay's signed money effect (negative = charged): if real bills
used the opposite sign, every fee-bearing bill would fail its totals check loudly rather than
book fees backwards.

Totals (valid once the lines are exhausted): counts and amounts from the trailer, the fee from
the summary; the summary's counts must agree with the trailer's. A missing trailer (truncated
file), an unreadable zip, a row that does not parse or a count mismatch is BILL_MALFORMED; the
servicer compares the totals with the rows it streamed.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass

import httpx

from paymesh.services.channel.adapters.alipay.gateway import AlipayGateway, Unsettled
from paymesh.services.channel.adapters.alipay.params import AlipayParams
from paymesh.services.channel.adapters.bills import (
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
    ChannelUnavailable,
    remove_quietly,
    yuan_to_fen,
)
from paymesh.services.common.errors import DomainError

METHOD = "alipay.data.dataservice.bill.downloadurl.query"
NOT_READY = "isp.bill_not_exist"
DETAIL_SUFFIX = "_业务明细.csv"
SUMMARY_SUFFIXES = ("_业务明细(汇总).csv", "_业务明细（汇总）.csv")
_REQUIRED = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", "商家实收(元)",
             "商家优惠(元)", "退款批次号/请求号", "服务费(元)")
_SUMMARY_REQUIRED = ("交易订单总笔数", "退款订单总笔数", "服务费(元)")
_START = re.compile(r"起始日期：\[(\d{4})年(\d{2})月(\d{2})日")
_PAY_TOTAL = re.compile(r"#交易合计：(\d+)笔，商家实收共(-?[0-9.]+)元，商家优惠共(-?[0-9.]+)元")
_REFUND_TOTAL = re.compile(
    r"#退款合计：(\d+)笔，商家实收退款共(-?[0-9.]+)元，商家优惠退款共(-?[0-9.]+)元")
_CONFIG_CODES = frozenset({"40006", "20001"})
_BEIJING = datetime.timezone(datetime.timedelta(hours=8))
_CHUNK = 64 * 1024


async def download_bill(gateway: AlipayGateway, http: httpx.AsyncClient, cfg: AlipayParams,
                        bill_date: datetime.date) -> Bill:
    """The day's trade bill, downloaded to a temporary file and parsed lazily from it.

    BILL_NOT_READY when Alipay has no bill for the day yet (``isp.bill_not_exist``);
    CHANNEL_CONFIG_INVALID when it refuses the app the bill (40006, 20001); BILL_REFUSED for
    another refusal; CHANNEL_UNAVAILABLE when no trustworthy answer or file came.
    """
    biz = {"bill_type": "trade", "bill_date": bill_date.isoformat()}
    try:
        answer = await gateway.call(cfg, METHOD, biz)
    except Unsettled as unsettled:
        raise ChannelUnavailable(f"no trustworthy answer to {METHOD} ({unsettled.err_code}: "
                           f"{unsettled.err_msg})") from None
    if not answer.ok:
        reason = f"{answer.err_msg} ({answer.err_code})"
        if answer.sub_code == NOT_READY:
            raise BillNotReady(f"Alipay has no trade bill for {bill_date} yet: {reason}")
        if answer.code in _CONFIG_CODES:
            raise DomainError("CHANNEL_CONFIG_INVALID",
                              f"Alipay refused this app the trade bill: {reason}")
        raise DomainError("BILL_REFUSED", f"Alipay refused the bill of {bill_date}: {reason}")
    url = answer.text("bill_download_url")
    if not url.startswith(("https://", "http://")):
        raise ChannelUnavailable("Alipay's answer carries no bill_download_url")
    handle, path = tempfile.mkstemp(prefix="paymesh-alipay-bill-", suffix=".zip")
    cleanup = remove_quietly(path)
    try:
        with os.fdopen(handle, "wb") as file:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ChannelUnavailable(f"the bill download answered HTTP "
                                             f"{response.status_code} (the URL lives 30 s; "
                                             "ask again)")
                async for chunk in response.aiter_bytes(_CHUNK):
                    file.write(chunk)
        return parse_trade_bill(path, bill_date, cleanup)
    except httpx.HTTPError as error:
        cleanup()
        raise ChannelUnavailable(f"the bill download failed ({type(error).__name__})") from None
    except BaseException:
        cleanup()
        raise


def parse_trade_bill(path: str | os.PathLike[str], bill_date: datetime.date,
                     cleanup: Callable[[], None] | None = None) -> Bill:
    """The bill in the zip at ``path``: the summary read now, the detail lazily.

    ``cleanup`` (the temporary file's removal) also closes the zip if the lines were not read
    to the end.
    """
    try:
        archive = zipfile.ZipFile(path, metadata_encoding="gbk")
    except (zipfile.BadZipFile, OSError) as error:
        raise BillMalformed(f"the bill is not a readable zip: {error}") from None
    try:
        detail = _member(archive, (DETAIL_SUFFIX,), "detail (…_业务明细.csv)")
        summary = _summary(archive, _member(archive, SUMMARY_SUFFIXES,
                                            "summary (…_业务明细(汇总).csv)"))
    except BaseException:
        archive.close()
        raise
    stated = _Stated(summary_fee=summary[2], summary_counts=summary[:2])
    lines = _lines(archive, detail, bill_date, stated)

    def finish() -> None:
        lines.close()
        archive.close()
        if cleanup is not None:
            cleanup()

    return Bill(lines=lines, totals=stated.totals, cleanup=finish)


@dataclass
class _Stated:
    """What the summary states (read first) and the trailer states (read last)."""

    summary_fee: int
    summary_counts: tuple[int, int]
    trailer: BillTotals | None = None

    def totals(self) -> BillTotals:
        if self.trailer is None:
            raise BillMalformed("the bill's totals are read after its last row; the rows were "
                                "not all read")
        return self.trailer


def _member(archive: zipfile.ZipFile, suffixes: tuple[str, ...], what: str) -> str:
    names = [name for name in archive.namelist() if name.endswith(suffixes)]
    if len(names) != 1:
        raise BillMalformed(f"the bill zip holds {len(names)} {what} files, not one: "
                            f"{archive.namelist()}")
    return names[0]


def _rows(archive: zipfile.ZipFile, name: str) -> Iterator[tuple[int, str]]:
    """The member's lines, GBK (read as GB18030, its superset), numbered from 1."""
    try:
        with archive.open(name) as raw:
            text = io.TextIOWrapper(raw, encoding="gb18030", newline="")
            yield from enumerate(text, 1)
    except (zipfile.BadZipFile, UnicodeDecodeError, EOFError, OSError) as error:
        raise BillMalformed(f"{name} cannot be read: {type(error).__name__}: {error}") from None


def _values(line: str) -> list[str]:
    """A CSV line's values, stripped (of the TAB after ids too); quoted values only when quoted."""
    if '"' in line:
        return [value.strip() for value in next(csv.reader([line]))]
    return [value.strip() for value in line.split(",")]


def _header(line: str) -> dict[str, int]:
    """Column positions by name, full-width parentheses read as ASCII ones."""
    names = [name.replace("（", "(").replace("）", ")") for name in _values(line)]
    if len(set(names)) != len(names):
        raise BillMalformed(f"the header names a column twice: {line.strip()}")
    return {name: index for index, name in enumerate(names)}


def _summary(archive: zipfile.ZipFile, name: str) -> tuple[int, int, int]:
    """(trade count, refund count, fee in fen as Alipay signs it) from the ``合计`` row."""
    index: dict[str, int] | None = None
    with closing(_rows(archive, name)) as rows:
        for number, line in rows:
            if line.startswith("#") or not line.strip():
                continue
            if index is None:
                index = _header(line)
                missing = [column for column in _SUMMARY_REQUIRED if column not in index]
                if missing:
                    raise BillMalformed(f"{name} line {number}: no column "
                                        f"{', '.join(missing)}")
                continue
            values = _values(line)
            if values[0] == "合计":
                try:
                    return (int(values[index["交易订单总笔数"]]),
                            int(values[index["退款订单总笔数"]]),
                            yuan_to_fen(values[index["服务费(元)"]]))
                except (ValueError, IndexError):
                    raise BillMalformed(f"{name} line {number}: the 合计 row does not parse"
                                        ) from None
    raise BillMalformed(f"{name} has no 合计 row")


def _lines(archive: zipfile.ZipFile, name: str, bill_date: datetime.date,
           stated: _Stated) -> Iterator[BillLine]:  # noqa: C901 - one loop over the file
    rows = _rows(archive, name)
    index: dict[str, int] = {}
    for number, line in rows:
        if line.startswith("#"):
            start = _START.search(line)
            if start is not None and "-".join(start.groups()) != bill_date.isoformat():
                raise BillMalformed(f"{name} line {number}: the bill starts on "
                                    f"{'-'.join(start.groups())}, not on {bill_date}")
            continue
        if line.strip():
            index = _header(line)
            break
    missing = [column for column in _REQUIRED if column not in index]
    if missing:
        raise BillMalformed(f"{name}: the header has no column {', '.join(missing)}")
    width = len(index)
    i_trade, i_out, i_type = index["支付宝交易号"], index["商户订单号"], index["业务类型"]
    i_time, i_received = index["完成时间"], index["商家实收(元)"]
    i_discount, i_request = index["商家优惠(元)"], index["退款批次号/请求号"]
    i_fee = index["服务费(元)"]
    kinds = {"交易": BillKind.PAY, "退款": BillKind.REFUND}
    success, pay = BillStatus.SUCCESS, BillKind.PAY
    trailer: list[str] = []
    days: dict[str, int] = {}
    for number, line in rows:
        if line.startswith("#"):
            trailer.append(line)
            trailer.extend(rest for _, rest in rows)
            break
        if not line.strip():
            continue
        values = _values(line)
        if len(values) != width:
            raise BillMalformed(f"{name} line {number}: {len(values)} values where the header "
                                f"has {width} columns")
        kind = kinds.get(values[i_type])
        if kind is None:
            continue
        try:
            amount = abs(_fen(values[i_received]) + _fen(values[i_discount]))
            fee = abs(_fen(values[i_fee]))
            trade_time = _epoch(values[i_time], days)
        except (ValueError, BillMalformed):
            raise BillMalformed(f"{name} line {number}: an amount or time does not parse"
                                ) from None
        if kind is pay:
            yield BillLine(kind, values[i_trade], values[i_out], "", "", amount, fee, success,
                           trade_time, "CNY")
        else:
            yield BillLine(kind, values[i_trade], values[i_out], values[i_request], "", amount,
                           -fee, success, trade_time, "CNY")
    stated.trailer = _trailer(name, "".join(trailer), stated)


def _trailer(name: str, text: str, stated: _Stated) -> BillTotals:
    pays, refunds = _PAY_TOTAL.search(text), _REFUND_TOTAL.search(text)
    if pays is None or refunds is None:
        raise BillMalformed(f"{name} ends without its #交易合计/#退款合计 trailer: truncated")
    counts = (int(pays[1]), int(refunds[1]))
    if counts != stated.summary_counts:
        raise BillMalformed(f"the detail states {counts[0]} trades and {counts[1]} refunds, the "
                            f"summary {stated.summary_counts[0]} and {stated.summary_counts[1]}")
    return BillTotals(pay_count=counts[0],
                      pay_amount=abs(yuan_to_fen(pays[2]) + yuan_to_fen(pays[3])),
                      refund_count=counts[1],
                      refund_amount=abs(yuan_to_fen(refunds[2]) + yuan_to_fen(refunds[3])),
                      fee=-stated.summary_fee)


def _epoch(stamp: str, days: dict[str, int]) -> int:
    """Unix seconds of a ``yyyy-MM-dd HH:mm:ss`` Beijing time; each date parsed once."""
    day = days.get(stamp[:10])
    if day is None:
        day = int(datetime.datetime.strptime(stamp[:10], "%Y-%m-%d").replace(
            tzinfo=_BEIJING).timestamp())
        days[stamp[:10]] = day
    if len(stamp) != 19 or stamp[10] != " " or stamp[13] != ":" or stamp[16] != ":":
        raise ValueError(f"not a time: {stamp!r}")
    return day + int(stamp[11:13]) * 3600 + int(stamp[14:16]) * 60 + int(stamp[17:19])


def _fen(text: str) -> int:
    """Yuan text to fen; the common ``-12.34`` form without Decimal."""
    if len(text) > 3 and text[-3] == "." and "_" not in text:
        try:
            return int(text[:-3] + text[-2:])
        except ValueError:
            pass
    return yuan_to_fen(text) if text else 0
