"""The simulator's trade bills (对账单), written from its book as Alipay writes them (§2.6, §6.8).

``alipay.data.dataservice.bill.downloadurl.query`` (``bill_type=trade``, ``bill_date``
``yyyy-MM-dd``) answers ``bill_download_url``, which serves the zip for 30 s of simulator time
(``GET /downloadBillFile.resource``, unsigned). Day D's bill exists from D+1 00:00 Beijing time
plus ``ready_delay`` (default 9 h: Alipay makes the day's bill by about 09:00 the next morning);
before that, and for days still to come, the answer is ``40004 isp.bill_not_exist``.

The zip (member names GBK-encoded) holds two GBK CSVs with ``\\r\\n`` line ends:
``<pid>0156_<yyyyMMdd>_业务明细.csv`` — the ``#`` preamble, the 25-column header, one ``交易`` row
per trade paid that day and one ``退款`` row per refund made that day (ids followed by a TAB), the
``#`` trailer with ``交易合计``/``退款合计`` — and ``…_业务明细(汇总).csv`` with a ``合计`` row.
Amounts are yuan with 2 decimals. Refund rows keep the trade's 订单金额 and carry the refund as a
negative 商家实收 and its ``out_request_no`` in 退款批次号/请求号.

The fee (服务费) is ``fee_rate`` (default 0.006) of the amount, half up to the fen, written as
money leaving the merchant: negative on a trade row, positive on a refund row, which gives back
its share. Shares are taken on the cumulative refunded amount (the fee of everything refunded so
far minus what earlier refunds gave back), so a fully refunded trade returns exactly its fee.
That sign convention is this simulator's reading of real bills, not a documented fact.

Mistakes (``/__sim/bill_mistake``) make the bill disagree with the platform while staying a
well-formed bill — ``amount``/``fee`` (that row says ``fen``), ``status`` (a trade that was never
paid is listed as paid), ``extra`` (a paid row for an ``out_trade_no`` nobody sent), ``missing``
(the row is left out) — or break the file itself: ``tamper`` (one row's amount changes after the
trailer was written) and ``truncate`` (the zip is cut in half). ``clear`` forgets them all.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from paymesh.services.simulators.alipay.book import BEIJING, Book, Refusal, Trade, new_trade_no
from paymesh.services.simulators.alipay.methods import Caller

BILL_METHOD = "alipay.data.dataservice.bill.downloadurl.query"
DOWNLOAD_PATH = "/downloadBillFile.resource"
URL_LIFETIME = 30.0
DEFAULT_FEE_RATE = "0.006"
DEFAULT_READY_DELAY = 9 * 3600.0
MISTAKES = ("amount", "fee", "status", "extra", "missing", "tamper", "truncate", "clear")
HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,"
          "操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
          "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
          "退款批次号/请求号,服务费（元）,分润（元）,备注")
SUMMARY_HEADER = ("门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,"
                  "支付宝优惠（元）,商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TAB = "\t"
_ROW_RULE = "#" + "-" * 41


@dataclass
class Mistake:
    """One planted difference; ``bill_date`` "" means the day the row naturally falls on (for
    ``extra``, the day it was planted)."""

    kind: str
    out_trade_no: str = ""
    out_request_no: str = ""
    fen: int = 0
    bill_date: str = ""


@dataclass
class Row:
    """One detail row before it is written; money in fen, fee signed as Alipay writes it."""

    kind: str  # 交易 or 退款
    trade_no: str
    out_trade_no: str
    subject: str
    created: str
    finished: str
    order_fen: int
    received_fen: int
    request_no: str
    fee_fen: int

    def key(self) -> tuple[str, str]:
        return self.out_trade_no, self.request_no


class Bills:
    """Answers the bill URL query, serves the zips, and keeps the planted mistakes."""

    def __init__(self, book: Book, clock: Callable[[], float], base_url: Callable[[], str],
                 fee_rate: str = DEFAULT_FEE_RATE,
                 ready_delay: float = DEFAULT_READY_DELAY) -> None:
        self.book = book
        self.clock = clock
        self.base_url = base_url
        self.fee_rate = Decimal(fee_rate)
        self.ready_delay = ready_delay
        self.mistakes: list[Mistake] = []
        self._files: dict[str, tuple[float, str, bytes]] = {}
        self._lock = threading.Lock()

    def query(self, caller: Caller, biz: dict[str, Any]) -> dict[str, Any]:
        """The ``<method>_response`` fields of the bill URL query, or a :class:`Refusal`."""
        if biz.get("bill_type") != "trade":
            raise Refusal("isv.invalid-parameter", "bill_type 只支持 trade", code="40002")
        text = str(biz.get("bill_date") or "")
        if not _DATE.fullmatch(text):
            raise Refusal("isv.invalid-parameter", "bill_date 格式错误 (yyyy-MM-dd)",
                          code="40002")
        day = date.fromisoformat(text)
        ready_at = datetime.combine(day + timedelta(days=1), datetime.min.time(), BEIJING)
        if self.clock() < ready_at.timestamp() + self.ready_delay:
            raise Refusal("isp.bill_not_exist", "账单不存在")
        pid = merchant_pid(caller.merchant)
        name = f"{pid}0156_{day:%Y%m%d}.csv.zip"
        token = secrets.token_hex(16)
        data = self.zip_of(caller.merchant, day)
        now = self.clock()
        with self._lock:
            self._files = {k: v for k, v in self._files.items() if v[0] >= now}
            self._files[token] = (now + URL_LIFETIME, name, data)
        query = urlencode({"bizType": "trade", "userId": pid, "fileType": "csv.zip",
                           "bizDates": f"{day:%Y%m%d}", "downloadFileName": name,
                           "fileId": token})
        return {"code": "10000", "msg": "Success",
                "bill_download_url": f"{self.base_url()}{DOWNLOAD_PATH}?{query}"}

    def download(self, query: dict[str, str]) -> tuple[int, str, bytes, dict[str, str]]:
        """(status, content type, body, headers) for ``GET /downloadBillFile.resource``."""
        with self._lock:
            found = self._files.get(query.get("fileId", ""))
        if found is None or found[0] < self.clock():
            return 404, "text/plain;charset=utf-8", "文件不存在或链接已过期".encode(), {}
        disposition = f"attachment; filename={found[1]}"
        return 200, "application/oct-stream", found[2], {"Content-Disposition": disposition}

    def plant(self, data: dict[str, Any]) -> dict[str, Any]:
        """Adds a mistake (``/__sim/bill_mistake``); ``clear`` removes them all."""
        kind = str(data.get("kind", ""))
        if kind not in MISTAKES:
            raise ValueError(f"kind must be one of {', '.join(MISTAKES)}")
        if kind == "clear":
            self.mistakes.clear()
            return {"mistakes": 0}
        mistake = Mistake(kind, str(data.get("out_trade_no") or ""),
                          str(data.get("out_request_no") or ""), int(data.get("fen") or 0),
                          str(data.get("bill_date") or ""))
        if kind != "truncate" and not mistake.out_trade_no:
            raise ValueError(f"a {kind} mistake names an out_trade_no")
        if mistake.bill_date and not _DATE.fullmatch(mistake.bill_date):
            raise ValueError("bill_date is yyyy-MM-dd")
        if kind == "extra" and not mistake.bill_date:  # the day it is planted
            mistake.bill_date = datetime.fromtimestamp(self.clock(), BEIJING).date().isoformat()
        self.mistakes.append(mistake)
        return {"mistakes": len(self.mistakes)}

    def zip_of(self, merchant: str, day: date) -> bytes:
        """The bill zip of ``merchant``'s ``day``, mistakes applied."""
        rows = self._planted(self.rows_of(merchant, day), merchant, day)
        pid = merchant_pid(merchant)
        export = datetime.fromtimestamp(self.clock(), BEIJING)
        detail = _detail(pid, day, rows, export, self._tampered(day))
        summary = _summary(pid, day, rows, export)
        stem = f"{pid}0156_{day:%Y%m%d}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for suffix, text in (("_业务明细.csv", detail), ("_业务明细(汇总).csv", summary)):
                info = _GbkName(stem + suffix, export.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text.encode("gbk", "replace"))
        data = buffer.getvalue()
        if any(m.kind == "truncate" and m.bill_date in ("", day.isoformat())
               for m in self.mistakes):
            data = data[:len(data) // 2]
        return data

    def rows_of(self, merchant: str, day: date) -> list[Row]:
        """What the book says happened that day: trades paid, refunds made."""
        prefix = day.isoformat()
        rows = []
        for trade in self.book.trades.values():
            if trade.auth_app_id != merchant:
                continue
            if trade.paid_at.startswith(prefix):
                rows.append(self._pay_row(trade, trade.paid_at))
            refunded = given_back = 0
            for refund in sorted(trade.refunds.values(), key=lambda r: r.at):
                refunded += refund.fen
                share = self.fee(refunded) - given_back
                given_back += share
                if refund.at.startswith(prefix):
                    rows.append(Row("退款", trade.trade_no, trade.out_trade_no, trade.subject,
                                    refund.at, refund.at, trade.fen, -refund.fen,
                                    refund.out_request_no, share))
        return sorted(rows, key=lambda row: row.finished)

    def fee(self, fen: int) -> int:
        """The fee on ``fen`` at the account's rate, half up to the fen."""
        return int((Decimal(fen) * self.fee_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _pay_row(self, trade: Trade, when: str) -> Row:
        return Row("交易", trade.trade_no, trade.out_trade_no, trade.subject, trade.created_at,
                   when, trade.fen, trade.fen, "", -self.fee(trade.fen))

    def _planted(self, rows: list[Row], merchant: str, day: date) -> list[Row]:
        for mistake in self.mistakes:
            key = (mistake.out_trade_no, mistake.out_request_no)
            if mistake.kind == "missing":
                rows = [row for row in rows if row.key() != key]
            elif mistake.kind in ("amount", "fee"):
                rows = [_changed(row, mistake) if row.key() == key else row for row in rows]
            elif mistake.kind == "status":
                trade = next((t for t in self.book.trades.values()
                              if t.auth_app_id == merchant
                              and t.out_trade_no == mistake.out_trade_no), None)
                if trade is not None and (mistake.bill_date or trade.created_at[:10]) == str(day):
                    rows.append(self._pay_row(trade, trade.paid_at or trade.created_at))
            elif mistake.kind == "extra" and mistake.bill_date == str(day):
                when = f"{day} 12:00:00"
                rows.append(Row("交易", new_trade_no(self.clock()), mistake.out_trade_no,
                                "未知商品", when, when, mistake.fen, mistake.fen, "",
                                -self.fee(mistake.fen)))
        return rows

    def _tampered(self, day: date) -> dict[tuple[str, str], int]:
        return {(m.out_trade_no, m.out_request_no): m.fen for m in self.mistakes
                if m.kind == "tamper" and m.bill_date in ("", day.isoformat())}


def merchant_pid(app_id: str) -> str:
    """The merchant's 16-digit Alipay partner id (2088…), derived from its app id."""
    digits = "".join(c for c in app_id if c.isdigit())
    return "2088" + digits[-12:].rjust(12, "0")


def _changed(row: Row, mistake: Mistake) -> Row:
    if mistake.kind == "fee":
        return replace(row, fee_fen=-mistake.fen if row.kind == "交易" else mistake.fen)
    if row.kind == "交易":
        return replace(row, order_fen=mistake.fen, received_fen=mistake.fen)
    return replace(row, received_fen=-mistake.fen)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def _preamble(title: str, pid: str, day: date) -> list[str]:
    end = day + timedelta(days=1)
    return [f"#支付宝{title}查询", f"#账号：[{pid}0156]",
            f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{end:%Y年%m月%d日} 00:00:00]"]


def _detail(pid: str, day: date, rows: list[Row], export: datetime,
            tampered: dict[tuple[str, str], int]) -> str:
    out = io.StringIO()
    out.write("\r\n".join([*_preamble("业务明细", pid, day),
                           _ROW_RULE + "业务明细列表" + "-" * 40, HEADER]) + "\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        received = tampered.get(row.key(), row.received_fen)
        if row.key() in tampered and row.kind == "退款":
            received = -received
        writer.writerow([row.trade_no + _TAB, row.out_trade_no + _TAB, row.kind + _TAB,
                         row.subject, row.created, row.finished, _TAB, _TAB, _TAB, _TAB,
                         "*三(159****5620)" + _TAB, _yuan(row.order_fen), _yuan(received),
                         "0.00", "0.00", "0.00", "0.00", "0.00", "", "0.00" + _TAB, "0.00",
                         row.request_no + _TAB, _yuan(row.fee_fen), "0.00", row.subject])
    pays = [row for row in rows if row.kind == "交易"]
    refunds = [row for row in rows if row.kind == "退款"]
    out.write("\r\n".join([
        _ROW_RULE + "业务明细列表结束" + "-" * 36,
        f"#交易合计：{len(pays)}笔，商家实收共{_yuan(sum(r.received_fen for r in pays))}元，"
        "商家优惠共0.00元",
        f"#退款合计：{len(refunds)}笔，商家实收退款共{_yuan(sum(r.received_fen for r in refunds))}"
        "元，商家优惠退款共0.00元",
        f"#导出时间：[{export:%Y年%m月%d日 %H:%M:%S}]"]) + "\r\n")
    return out.getvalue()


def _summary(pid: str, day: date, rows: list[Row], export: datetime) -> str:
    pays = sum(1 for row in rows if row.kind == "交易")
    ordered = sum(row.order_fen for row in rows if row.kind == "交易")
    received = sum(row.received_fen for row in rows)
    fee = sum(row.fee_fen for row in rows)
    totals = [str(pays), str(len(rows) - pays), _yuan(ordered), _yuan(received), "0.00", "0.00",
              "0.00", _yuan(fee), "0.00", _yuan(received + fee)]
    lines = [*_preamble("业务汇总", pid, day), _ROW_RULE + "业务汇总列表" + "-" * 40,
             SUMMARY_HEADER, ",".join([_TAB, _TAB, *totals]), ",".join(["合计", "", *totals]),
             _ROW_RULE + "业务汇总列表结束" + "-" * 36,
             f"#导出时间：[{export:%Y年%m月%d日 %H:%M:%S}]"]
    return "\r\n".join(lines) + "\r\n"


class _GbkName(zipfile.ZipInfo):
    """A zip entry whose name is stored in GBK without the UTF-8 flag, as Alipay's zips are."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.filename.encode("gbk"), self.flag_bits & ~0x800
