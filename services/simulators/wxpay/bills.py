"""The trade bill (交易账单) as WeChat Pay serves it, made from the simulator's book (§1.8, §6.8).

``GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL[&tar_type=GZIP][&sub_mchid=]``
answers ``{"hash_type": "SHA1", "hash_value", "download_url"}``; ``GET /v3/billdownload/file?
token=`` (authenticated like every request, same merchant, within 5 minutes) answers the file,
unsigned, gzip-compressed when ``tar_type=GZIP`` was asked; the hash is over the plain bytes.
A bill is the merchant's own trades, or with ``sub_mchid`` that sub-merchant's (service provider).

The file: UTF-8 with a BOM, ``\\r\\n`` line ends, the 27-column ``ALL`` header, one row per
payment that succeeded that Beijing day (``交易状态`` SUCCESS, or REVOKED for a barcode payment
reversed after it succeeded, with no fee) and one per refund of that day (dated by its success,
or by its request while it has not succeeded; ``退款状态`` as it stands), every value prefixed
with a backtick, then the 7-column summary. Fee: the account's rate (``fee_rate``, default 0.006)
of the amount, half up to the fen, written with 5 decimals; a refund gives back its share
(negative fee): the fee of everything refunded so far minus what earlier refunds gave back, so a
fully refunded payment returns exactly its fee.

Refusals as WeChat's: a malformed date or bill type → 400 PARAM_ERROR, a day older than 3
months → 400 PARAM_ERROR, today or a future day (Beijing time, simulator clock) → 400
STATEMENT_CREATING unless a test closed that day (:meth:`TradeBills.close_day`), a past day
without trades → 400 NO_STATEMENT_EXIST.

A pre-made file ``<bills_dir>/<merchant>/<YYYY-MM-DD>.csv`` (merchant: ``sub_mchid`` when given,
else the caller's ``mchid``) is served verbatim instead, whatever the date (benchmarks, fixtures).

Planted mistakes (:meth:`TradeBills.plant`) make the bill disagree with the platform for one
order or refund number: ``amount``/``fee`` (a given fen value, default one fen more),
``status`` (default REVOKED for a payment, PROCESSING for a refund), ``omit`` (the row is left
out) and ``extra`` (a SUCCESS payment the platform never sent, on a given day). The summary always
adds up the rows as written, as the real channel's would.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from paymesh.services.simulators.wxpay.api import ApiError
from paymesh.services.simulators.wxpay.book import BEIJING, Book

DOWNLOAD_PATH = "/v3/billdownload/file"
TOKEN_SECONDS = 300
HISTORY_DAYS = 92
HEADER = ",".join((
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
    "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
    "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
    "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"))
SUMMARY = ",".join(("总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额",
                    "手续费总金额", "订单总金额", "申请退款总金额"))
MISTAKE_KINDS = frozenset({"amount", "fee", "status", "omit", "extra"})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class BillMistake:
    """One planted disagreement (see the module docstring); ``ref`` is an order or refund no."""

    kind: str
    ref: str
    day: str = ""
    amount: int | None = None
    fee: int | None = None
    status: str = ""


@dataclass(frozen=True)
class _Row:
    """One detail row before formatting; amounts and fee in fen."""

    time: str
    app_id: str
    mch_id: str
    sub_mch_id: str
    transaction_id: str
    out_trade_no: str
    openid: str
    trade_type: str
    state: str
    amount: int
    fee: int
    description: str = ""
    refund_id: str = ""
    out_refund_no: str = ""
    refund_status: str = ""

    @property
    def ref(self) -> str:
        return self.out_refund_no if self.state == "REFUND" else self.out_trade_no


@dataclass
class _Download:
    mch_id: str
    expires: float
    data: bytes | None = None
    path: str | None = None
    gzip: bool = False


@dataclass
class BillFile:
    """What the download answers: the plain bytes or a pre-made file, gzipped when asked."""

    data: bytes | None = None
    path: str | None = None
    gzip: bool = False


@dataclass
class TradeBills:
    """The bills desk: generates bills from the book, hands out download tokens, keeps mistakes."""

    book: Book
    lock: threading.RLock
    clock: Callable[[], float]
    base_url: Callable[[], str]
    fee_rate: Decimal = Decimal("0.006")
    bills_dir: str | None = None
    mistakes: list[BillMistake] = field(default_factory=list)
    closed_days: set[str] = field(default_factory=set)
    _downloads: dict[str, _Download] = field(default_factory=dict)
    _hashes: dict[tuple[str, int, int], str] = field(default_factory=dict)

    def today(self) -> str:
        """The simulator's Beijing date."""
        return datetime.fromtimestamp(self.clock(), BEIJING).date().isoformat()

    def close_day(self, day: str = "") -> str:
        """Makes ``day``'s bill (default: today's) ready now, as if the day were over."""
        day = day or self.today()
        _check_date(day)
        with self.lock:
            self.closed_days.add(day)
        return day

    def plant(self, mistake: BillMistake) -> BillMistake:
        """Adds a mistake to every bill that has its row (``extra``: on its day, default today)."""
        if mistake.kind not in MISTAKE_KINDS:
            raise ValueError(f"unknown bill mistake {mistake.kind!r}; known: "
                             f"{sorted(MISTAKE_KINDS)}")
        if not mistake.ref:
            raise ValueError("a bill mistake needs the order or refund number it is about")
        if mistake.kind == "extra":
            mistake = replace(mistake, day=mistake.day or self.today())
            _check_date(mistake.day)
        with self.lock:
            self.mistakes.append(mistake)
        return mistake

    def request(self, args: dict[str, str], mch_id: str, sub_mch_id: str) -> dict[str, Any]:
        """``GET /v3/bill/tradebill``: the hash and a download URL, or WeChat's refusal."""
        day = args.get("bill_date", "")
        try:
            _check_date(day)
        except ValueError:
            raise ApiError(400, "PARAM_ERROR", "bill_date格式错误,应为yyyy-MM-dd") from None
        if args.get("bill_type", "ALL") != "ALL":
            raise ApiError(400, "PARAM_ERROR", "bill_type仅支持ALL(模拟器)")
        compress = args.get("tar_type", "")
        if compress not in ("", "GZIP"):
            raise ApiError(400, "PARAM_ERROR", "tar_type仅支持GZIP")
        download = _Download(mch_id, self.clock() + TOKEN_SECONDS, gzip=compress == "GZIP")
        premade = os.path.join(self.bills_dir, sub_mch_id or mch_id, f"{day}.csv") \
            if self.bills_dir else ""
        if premade and os.path.isfile(premade):
            download.path = premade
            digest = self._file_sha1(premade)
        else:
            with self.lock:
                download.data = self._generate(mch_id, sub_mch_id, day)
            digest = hashlib.sha1(download.data, usedforsecurity=False).hexdigest()
        token = secrets.token_urlsafe(32)
        with self.lock:
            now = self.clock()
            for stale in [k for k, d in self._downloads.items() if d.expires < now]:
                del self._downloads[stale]
            self._downloads[token] = download
        return {"hash_type": "SHA1", "hash_value": digest,
                "download_url": f"{self.base_url()}{DOWNLOAD_PATH}?token={token}"}

    def download(self, args: dict[str, str], mch_id: str) -> BillFile:
        """``GET /v3/billdownload/file``: the file behind a live token of this merchant."""
        with self.lock:
            found = self._downloads.get(args.get("token", ""))
        if found is None or found.mch_id != mch_id or found.expires < self.clock():
            raise ApiError(400, "INVALID_REQUEST", "下载链接已失效,请重新申请账单")
        return BillFile(found.data, found.path, found.gzip)

    def _generate(self, mch_id: str, sub_mch_id: str, day: str) -> bytes:
        """The day's bill from the book (caller holds the lock)."""
        oldest = datetime.fromtimestamp(self.clock(), BEIJING).date() - timedelta(HISTORY_DAYS)
        if date.fromisoformat(day) < oldest:
            raise ApiError(400, "PARAM_ERROR", "仅支持三个月内的账单下载申请")
        if day >= self.today() and day not in self.closed_days:
            raise ApiError(400, "STATEMENT_CREATING",
                           "账单生成中,请确认账单日期,不能查询当日或者未来的日期")
        rows = sorted(self._rows(mch_id, sub_mch_id, day), key=lambda row: row.time)
        if not rows:
            raise ApiError(400, "NO_STATEMENT_EXIST",
                           "账单文件不存在,请检查当前商户号在指定日期内是否有成功的交易")
        return self._render(rows)

    def _rows(self, mch_id: str, sub_mch_id: str, day: str) -> list[_Row]:
        mine = list(self.mistakes)
        rows = []
        for order in self.book.orders.values():
            if (order.mch_id, order.sub_mch_id) != (mch_id, sub_mch_id):
                continue
            if order.success_time and order.success_time[:10] == day:
                revoked = order.trade_state == "REVOKED"
                rows.append(_Row(
                    time=order.success_time[:19].replace("T", " "), app_id=order.app_id,
                    mch_id=order.mch_id, sub_mch_id=order.sub_mch_id or "0",
                    transaction_id=order.transaction_id, out_trade_no=order.out_trade_no,
                    openid=next(iter(order.payer.values()), ""), trade_type=order.trade_type,
                    state="REVOKED" if revoked else "SUCCESS", amount=order.total,
                    fee=0 if revoked else self._fee(order.total),
                    description=order.description))
        shares = self._refund_shares()
        for refund in self.book.refunds.values():
            order = refund.order
            if (order.mch_id, order.sub_mch_id) != (mch_id, sub_mch_id):
                continue
            when = refund.success_time[:19].replace("T", " ") if refund.success_time else \
                datetime.fromtimestamp(refund.created_at, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
            if when[:10] != day:
                continue
            rows.append(_Row(
                time=when, app_id=order.app_id, mch_id=order.mch_id,
                sub_mch_id=order.sub_mch_id or "0", transaction_id=order.transaction_id,
                out_trade_no=order.out_trade_no, openid=next(iter(order.payer.values()), ""),
                trade_type=order.trade_type, state="REFUND", amount=refund.refund,
                fee=-shares.get(id(refund), 0), description=order.description,
                refund_id=refund.refund_id, out_refund_no=refund.out_refund_no,
                refund_status=refund.status))
        for mistake in mine:
            if mistake.kind == "extra" and mistake.day == day:
                amount = 500 if mistake.amount is None else mistake.amount
                rows.append(_Row(
                    time=f"{day} 12:00:00", app_id="", mch_id=mch_id,
                    sub_mch_id=sub_mch_id or "0",
                    transaction_id=f"42000{day.replace('-', '')}{secrets.randbelow(10**15):015d}",
                    out_trade_no=mistake.ref, openid="oSim" + secrets.token_hex(12),
                    trade_type="NATIVE", state="SUCCESS", amount=amount,
                    fee=self._fee(amount) if mistake.fee is None else mistake.fee,
                    description="模拟器多出的交易"))
        return [bent for row in rows if (bent := _bend(row, mine)) is not None]

    def _refund_shares(self) -> dict[int, int]:
        """The fee each refund gives back, by ``id(refund)``: the fee of everything refunded so
        far minus what earlier refunds gave back (a CLOSED refund gives nothing back)."""
        by_order: dict[int, list[Any]] = {}
        for refund in self.book.refunds.values():
            if refund.status != "CLOSED":
                by_order.setdefault(id(refund.order), []).append(refund)
        shares = {}
        for refunds in by_order.values():
            refunded = given_back = 0
            for refund in sorted(refunds, key=lambda r: (r.created_at, r.out_refund_no)):
                refunded += refund.refund
                shares[id(refund)] = self._fee(refunded) - given_back
                given_back += shares[id(refund)]
        return shares

    def _fee(self, fen: int) -> int:
        return int((Decimal(fen) * self.fee_rate).quantize(Decimal(1), ROUND_HALF_UP))

    def _render(self, rows: list[_Row]) -> bytes:
        rate = f"{(self.fee_rate * 100).quantize(Decimal('0.01'), ROUND_HALF_UP)}%"
        lines = [HEADER]
        settled = refunded = fees = 0
        for row in rows:
            refund = row.state == "REFUND"
            settle, back = (0, row.amount) if refund else (row.amount, 0)
            settled, refunded, fees = settled + settle, refunded + back, fees + row.fee
            values = [row.time, row.app_id, row.mch_id, row.sub_mch_id, "", row.transaction_id,
                      row.out_trade_no, row.openid, row.trade_type, row.state, "OTHERS", "CNY",
                      _yuan(settle), "0.00", row.refund_id or "0", row.out_refund_no or "0",
                      _yuan(back), "0.00", "ORIGINAL" if refund else "", row.refund_status,
                      row.description, "", _fee_text(row.fee), rate, _yuan(settle), _yuan(back),
                      ""]
            lines.append(",".join("`" + value for value in values))
        lines.append(SUMMARY)
        lines.append(",".join("`" + value for value in (
            str(len(rows)), _yuan(settled), _yuan(refunded), "0.00", _fee_text(fees),
            _yuan(settled), _yuan(refunded))))
        return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")

    def _file_sha1(self, path: str) -> str:
        stat = os.stat(path)
        key = (path, stat.st_size, stat.st_mtime_ns)
        with self.lock:
            known = self._hashes.get(key)
        if known is None:
            digest = hashlib.sha1(usedforsecurity=False)
            with open(path, "rb") as file:
                while chunk := file.read(1 << 20):
                    digest.update(chunk)
            known = digest.hexdigest()
            with self.lock:
                self._hashes[key] = known
        return known


def _bend(row: _Row, mistakes: list[BillMistake]) -> _Row | None:
    """The row as the planted mistakes about it have it; None when one leaves it out."""
    for mistake in mistakes:
        if mistake.ref != row.ref or mistake.kind == "extra":
            continue
        if mistake.kind == "omit":
            return None
        if mistake.kind == "amount":
            row = replace(row, amount=row.amount + 1 if mistake.amount is None
                          else mistake.amount)
        elif mistake.kind == "fee":
            row = replace(row, fee=row.fee + 1 if mistake.fee is None else mistake.fee)
        elif row.state == "REFUND":
            row = replace(row, refund_status=mistake.status or "PROCESSING")
        else:
            row = replace(row, state=mistake.status or "REVOKED")
    return row


def _check_date(day: str) -> None:
    """ValueError unless ``day`` is a calendar day written YYYY-MM-DD."""
    if not _DATE.fullmatch(day):
        raise ValueError(f"not a date YYYY-MM-DD: {day!r}")
    date.fromisoformat(day)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _fee_text(fen: int) -> str:
    return _yuan(fen) + "000"
