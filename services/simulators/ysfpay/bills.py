"""The simulated UnionPay's reconciliation files (全渠道商户对账文件), served by ACP file transfer.

A signed POST to the file transfer address (``/`` here; ``https://filedownload.95516.com/`` at
UnionPay) with ``txnType=76``, ``txnSubType=01``, ``bizType=000000``, ``fileType=00`` and
``settleDate`` ``MMDD`` (the latest such day not after today) is answered, signed like every
answer, with ``fileName`` ``<merId>_<yyyyMMdd>.zip`` and ``fileContent`` = Base64 of the zlib
(DEFLATE) compressed zip, or ``respCode=98`` (文件不存在) until the day's file exists: from the
next day's 00:00 Beijing time plus ``ready_delay`` (default 9 h).

The zip holds ``INN<yymmdd>88ZM_<merId>`` and an empty ``INN<yymmdd>88ZME_<merId>``. The ZM file
is GBK, ``\\r\\n`` lines of the 42 fixed-width fields of UnionPay's file specification (widths in
bytes, one space between fields), one row per transaction the book settled that Beijing day:
consumes (txnType 01), refunds (04) and consume undos (31). Money fields of 13 bytes carry a
sign letter, ``C`` (to the merchant) or ``D`` (from it), then 12 digits of fen. 交易代码 is
``S22`` for a consume, ``S30`` for a refund and ``S31`` for an undo: this simulator's choice,
the adapter reads 交易类型 instead.

The fee (商户手续费) is ``fee_rate`` (default 0.006) of the amount, half up to the fen: ``D`` on a
consume; refunds and undos give back their share with ``C``, taken on the cumulative refunded
amount so a full refund returns exactly the consume's fee. 结算金额 is the amount (``C`` in,
``D`` out) and 清算净额 the amount net of the fee.

Mistakes (``/__sim/bill-mistake``, by the transaction's own ``orderId``): ``amount``/``fee``
(the row says ``fen``), ``status`` (a transaction that never succeeded is listed as cleared),
``extra`` (a consume row for an orderId nobody sent), ``missing`` (the row is left out),
``truncate`` (the file's last row is cut short), ``clear`` (forget them all).
"""

from __future__ import annotations

import base64
import io
import secrets
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paymesh.services.simulators.ysfpay.book import (
    BEIJING,
    MESSAGES,
    REVOKED,
    SUCCESS,
    AcpBook,
    BookError,
    Txn,
)

FILE_TRANS = "/"
DEFAULT_FEE_RATE = "0.006"
DEFAULT_READY_DELAY = 9 * 3600.0
NO_FILE = "98"
MISTAKES = ("amount", "fee", "status", "extra", "missing", "truncate", "clear")
# (name, width in bytes) of the ZM file's fields, in order.
ZM_FIELDS = (
    ("交易代码", 3), ("代理机构标识码", 11), ("发送机构标识码", 11), ("系统跟踪号", 6),
    ("交易传输时间", 10), ("账号", 19), ("交易金额", 12), ("商户类别", 4), ("终端类型", 2),
    ("查询流水号", 21), ("支付方式（旧）", 2), ("商户订单号", 32), ("支付卡类型", 2),
    ("原始交易的系统跟踪号", 6), ("原始交易日期时间", 10), ("商户手续费", 13), ("结算金额", 13),
    ("支付方式", 4), ("集团商户代码", 15), ("交易类型", 2), ("交易子类", 2), ("业务类型", 6),
    ("账号类型", 2), ("账单类型", 4), ("账单号码", 32), ("交互方式", 1), ("原交易查询流水号", 21),
    ("商户代码", 15), ("分账入账方式", 1), ("二级商户代码", 15), ("二级商户简称", 32),
    ("二级商户分账入账金额", 13), ("清算净额", 13), ("终端号", 8), ("商户自定义域", 32),
    ("优惠金额", 13), ("发票金额", 13), ("分期付款附加手续费", 12), ("分期付款期数", 2),
    ("交易介质", 1), ("原始交易订单号", 32), ("保留使用", 98))
_CODES = {"01": "S22", "04": "S30", "31": "S31"}
_ECHO = ("version", "encoding", "txnType", "txnSubType", "bizType", "accessType", "acqInsCode",
         "merId", "settleDate", "txnTime", "fileType")
_MASKED_CARD = "621661******0018"


@dataclass
class Mistake:
    """One planted difference; ``settle_date`` "" means the day the row naturally falls on (for
    ``extra``, the day it was planted)."""

    kind: str
    order_id: str = ""
    fen: int = 0
    settle_date: str = ""


@dataclass
class ZmRow:
    """One ZM row before it is written. Money in fen; fee > 0 charged, settle > 0 credited."""

    txn_type: str
    txn_sub_type: str
    when: float
    amount: int
    query_id: str
    order_id: str
    fee: int
    settle: int
    orig_query_id: str = ""
    orig_order_id: str = ""
    orig_when: float = 0.0
    reserved: str = ""


class Reconciliation:
    """Answers file transfer requests from the book, with the planted mistakes."""

    def __init__(self, book: AcpBook, clock: Callable[[], float],
                 fee_rate: str = DEFAULT_FEE_RATE,
                 ready_delay: float = DEFAULT_READY_DELAY) -> None:
        self.book = book
        self.clock = clock
        self.fee_rate = Decimal(fee_rate)
        self.ready_delay = ready_delay
        self.mistakes: list[Mistake] = []

    def transfer(self, f: dict[str, str]) -> dict[str, str]:
        """The unsigned answer to a verified file transfer request."""
        answer = {k: f[k] for k in _ECHO if k in f}
        if any(not f.get(k) for k in ("txnType", "txnSubType", "bizType", "accessType",
                                      "merId", "settleDate", "txnTime", "fileType")):
            return _coded(answer, "13")
        if (f["txnType"], f["txnSubType"], f["bizType"]) != ("76", "01", "000000"):
            return _coded(answer, "32")
        if (f["accessType"] != "1" or f.get("acqInsCode") != self.book.acq_ins_code
                or f["merId"] != self.book.mer_id):
            return _coded(answer, "31")
        if f.get("reserved") != f"{{serProvId={self.book.ser_prov_id}}}":
            return _coded(answer, "32")
        day = self._day(f["settleDate"])
        if day is None or f["fileType"] != "00":
            return _coded(answer, "10")
        ready = datetime.combine(day + timedelta(days=1), datetime.min.time(), BEIJING)
        if self.clock() < ready.timestamp() + self.ready_delay:
            return _coded(answer, NO_FILE, "文件不存在")
        content = base64.b64encode(zlib.compress(self.zip_of(day))).decode("ascii")
        return _coded({**answer, "fileName": f"{self.book.mer_id}_{day:%Y%m%d}.zip",
                       "fileContent": content}, "00")

    def plant(self, data: dict[str, Any]) -> dict[str, Any]:
        """Adds a mistake (``/__sim/bill-mistake``); ``clear`` removes them all."""
        kind = str(data.get("kind", ""))
        if kind not in MISTAKES:
            raise BookError(f"kind must be one of {', '.join(MISTAKES)}")
        if kind == "clear":
            self.mistakes.clear()
            return {"mistakes": 0}
        mistake = Mistake(kind, str(data.get("orderId") or ""), int(data.get("fen") or 0),
                          str(data.get("settleDate") or ""))
        if kind != "truncate" and not mistake.order_id:
            raise BookError(f"a {kind} mistake names an orderId")
        if mistake.settle_date:
            date.fromisoformat(mistake.settle_date)  # ValueError: answered 400
        elif kind == "extra":  # the day it is planted
            mistake.settle_date = str(_day_of(self.clock()))
        self.mistakes.append(mistake)
        return {"mistakes": len(self.mistakes)}

    def zip_of(self, day: date) -> bytes:
        """The day's zip: the ZM file (mistakes applied) and an empty ZME file."""
        rows = self._planted(self.rows_of(day), day)
        text = b"".join(self._line(row) for row in sorted(rows, key=lambda r: r.when))
        if text and any(m.kind == "truncate" and m.settle_date in ("", str(day))
                        for m in self.mistakes):
            text = text[:-300]  # into the last row's fields, past its reserved tail
        stamp = datetime.fromtimestamp(self.clock(), BEIJING).timetuple()[:6]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            mer_id = self.book.mer_id
            archive.writestr(zipfile.ZipInfo(f"INN{day:%y%m%d}88ZM_{mer_id}", stamp), text,
                             zipfile.ZIP_DEFLATED)
            archive.writestr(zipfile.ZipInfo(f"INN{day:%y%m%d}88ZME_{mer_id}", stamp), b"",
                             zipfile.ZIP_DEFLATED)
        return buffer.getvalue()

    def rows_of(self, day: date) -> list[ZmRow]:
        """The transactions the book cleared that Beijing day."""
        txns = self.book.transactions()
        by_query_id = {txn.query_id: txn for txn in txns}
        given_back: dict[str, tuple[int, int]] = {}  # original queryId → (refunded, fee back)
        rows = []
        for txn in sorted(txns, key=lambda t: t.settled_at):
            if txn.state not in (SUCCESS, REVOKED) or not txn.settled_at:
                continue
            original = by_query_id.get(txn.orig_qry_id)
            if txn.txn_type == "01":
                row = self._consume(txn, txn.settled_at)
            elif txn.txn_type in ("04", "31") and original is not None:
                refunded, back = given_back.get(original.query_id, (0, 0))
                share = self.fee(refunded + txn.amount) - back
                given_back[original.query_id] = (refunded + txn.amount, back + share)
                row = ZmRow(txn.txn_type, txn.txn_sub_type, txn.settled_at, txn.amount,
                            txn.query_id, txn.order_id, -share, -txn.amount,
                            original.query_id, original.order_id, original.settled_at,
                            txn.req_reserved)
            else:
                continue
            if _day_of(row.when) == day:
                rows.append(row)
        return rows

    def fee(self, fen: int) -> int:
        """The fee on ``fen`` at the account's rate, half up to the fen."""
        return int((Decimal(fen) * self.fee_rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    def _consume(self, txn: Txn, when: float) -> ZmRow:
        return ZmRow("01", txn.txn_sub_type, when, txn.amount, txn.query_id, txn.order_id,
                     self.fee(txn.amount), txn.amount, reserved=txn.req_reserved)

    def _planted(self, rows: list[ZmRow], day: date) -> list[ZmRow]:
        for mistake in self.mistakes:
            if mistake.kind == "missing":
                rows = [row for row in rows if row.order_id != mistake.order_id]
            elif mistake.kind == "amount":
                rows = [replace(row, amount=mistake.fen,
                                settle=mistake.fen if row.settle >= 0 else -mistake.fen)
                        if row.order_id == mistake.order_id else row for row in rows]
            elif mistake.kind == "fee":
                rows = [replace(row, fee=mistake.fen if row.txn_type == "01" else -mistake.fen)
                        if row.order_id == mistake.order_id else row for row in rows]
            elif mistake.kind == "status":
                txn = next((t for t in self.book.transactions()
                            if t.order_id == mistake.order_id), None)
                if txn is not None:
                    when = datetime.strptime(txn.txn_time, "%Y%m%d%H%M%S").replace(
                        tzinfo=BEIJING).timestamp()
                    if (mistake.settle_date or str(_day_of(when))) == str(day):
                        rows.append(self._consume(txn, when))
            elif mistake.kind == "extra" and mistake.settle_date == str(day):
                when = datetime.combine(day, datetime.min.time(), BEIJING).timestamp() + 43200
                rows.append(ZmRow("01", "06", when, mistake.fen,
                                  f"{secrets.randbelow(10**21):021d}", mistake.order_id,
                                  self.fee(mistake.fen), mistake.fen))
        return rows

    def _line(self, row: ZmRow) -> bytes:
        acq, mer_id = self.book.acq_ins_code, self.book.mer_id
        refund = row.txn_type != "01"
        values = [
            _CODES[row.txn_type], acq, acq, row.query_id[-6:], _time(row.when), _MASKED_CARD,
            f"{row.amount:012d}", "5811", "08", row.query_id, "", row.order_id, "01",
            row.orig_query_id[-6:] if refund else "", _time(row.orig_when) if refund else "",
            _signed(-row.fee), _signed(row.settle), "", "", row.txn_type, row.txn_sub_type,
            "000000", "01", "", "", "", row.orig_query_id, mer_id, "", "", "", "",
            _signed(row.settle - row.fee), "", row.reserved, "0" * 13, "0" * 13, "0" * 12, "",
            "", row.orig_order_id, ""]
        fields = (value.encode("gbk", "replace")[:width].ljust(width, b" ")
                  for value, (_, width) in zip(values, ZM_FIELDS, strict=True))
        return b" ".join(fields) + b"\r\n"

    def _day(self, settle_date: str) -> date | None:
        """The latest calendar day with this ``MMDD`` that is not in the future."""
        if len(settle_date) != 4 or not settle_date.isdigit():
            return None
        today = _day_of(self.clock())
        for year in (today.year, today.year - 1):
            try:
                day = date(year, int(settle_date[:2]), int(settle_date[2:]))
            except ValueError:
                continue
            if day <= today:
                return day
        return None


def _coded(answer: dict[str, str], code: str, msg: str = "") -> dict[str, str]:
    return {**answer, "respCode": code, "respMsg": msg or MESSAGES.get(code, "失败")}


def _day_of(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, BEIJING).date()


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%m%d%H%M%S")


def _signed(fen: int) -> str:
    """``C`` (to the merchant) or ``D`` (from it) and 12 digits."""
    return ("C" if fen >= 0 else "D") + f"{abs(fen):012d}"
