"""The UnionPay merchant reconciliation file (全渠道商户对账文件), through ACP file transfer.

The request (reference §3 signing; the field values as UnionPay's ACP SDK demos send them) is a
signed form POST to ``fileTransUrl`` (``https://filedownload.95516.com/``) with ``txnType=76``
(file transfer), ``txnSubType=01``, ``bizType=000000``, ``fileType=00`` (the merchant's
reconciliation file), ``settleDate`` = the bill date as ``MMDD`` and ``txnTime`` now. The answer
is verified like every ACP answer (certificate chain, then signature, which covers the file):
``respCode=00`` carries ``fileName`` and ``fileContent`` = Base64 of the DEFLATE (zlib) compressed
zip; ``98`` (no file) is taken as not ready yet. The zip is inflated, chunk by chunk, into a
temporary file.

Inside, ``INN<yymmdd>88ZM_<merId>`` (the ZM file) is read: GBK text, ``\\r\\n`` lines, 42
fixed-width fields separated by one space, widths in bytes as in UnionPay's file specification
(the ACP SDK's ``parseZMFile``). The fields used (width in bytes):

- 交易传输时间 (10): ``MMDDhhmmss`` Beijing time, in the bill date's year;
- 交易金额 (12): the amount in fen;
- 查询流水号 (21) and 商户订单号 (32): the transaction's queryId and orderId;
- 商户手续费 (13): ``D`` (charged: a positive fee) or ``C`` (given back: negative), 12 digits;
- 交易类型 (2): ACP's txnType: ``01`` consume → PAY (channel_order_no = queryId, payOrderId =
  orderId); ``04`` refund (退货) and ``31`` consume undo (撤销) → REFUND (refundOrderId =
  orderId, channel_refund_no = queryId, channel_order_no = 原交易查询流水号 (21), payOrderId =
  原始交易订单号 (32)); other types are not trades and are skipped;
- 商户代码 (15): must be the configured merId.

Every row is SUCCESS: the file lists transactions UnionPay cleared. The currency is CNY.

Simplifications, honestly: the reference (§3) describes no file format, so the layout (names,
widths, order) follows UnionPay's published SDK and demos, while the ``D``/``C`` sign of the
13-byte money fields, the ``98`` code and the zip's name are assumptions to confirm on a real
file; real UnionPay closes its clearing day at 23:00 Beijing time, whereas bill dates here are
calendar days (as for the other channels); the ZM file has no totals line, so the Bill's totals
are the sums of its rows and the totals check downstream is vacuous for UnionPay.
Integrity instead comes from UnionPay's signature over ``fileContent``, the zip's CRC and the
fixed widths: a row shorter than its fields, an unknown ``D``/``C`` sign, a non-numeric amount or
another merchant's row is BILL_MALFORMED.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import io
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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
)
from paymesh.services.channel.adapters.ysfpay import codes
from paymesh.services.channel.adapters.ysfpay.gateway import AcpGateway
from paymesh.services.channel.adapters.ysfpay.params import YsfpayParams
from paymesh.services.common.errors import DomainError

NO_FILE = "98"
_CONFIG_CODES = frozenset({"31", "32"})
# The ZM file's 42 fields, widths in bytes, each followed by one separating space.
ZM_WIDTHS = (3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4,
             32, 1, 21, 15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98)
_STARTS = tuple(sum(ZM_WIDTHS[:i]) + i for i in range(len(ZM_WIDTHS)))
_FIELDS = tuple(slice(start, start + width) for start, width in zip(_STARTS, ZM_WIDTHS,
                                                                     strict=True))
_TIME, _AMOUNT, _QUERY_ID, _ORDER_ID, _FEE = (_FIELDS[i] for i in (4, 6, 9, 11, 15))
_TXN_TYPE, _ORIG_QUERY_ID, _MER_ID, _ORIG_ORDER_ID = (_FIELDS[i] for i in (19, 26, 27, 40))
# A row must reach the end of the last field read; the reserved field after it may be trimmed.
_MIN_LENGTH = _ORIG_ORDER_ID.stop
_READ_BUFFER = 1 << 20
_ZM_NAME = re.compile(r"(?:.*/)?INN(\d{6})\d\dZM_(\w+)")
_KINDS = {b"01": BillKind.PAY, b"04": BillKind.REFUND, b"31": BillKind.REFUND}
_B64_CHUNK = 64 * 1024  # a multiple of 4: whole Base64 quanta
_BEIJING = datetime.timezone(datetime.timedelta(hours=8))


async def download_bill(gateway: AcpGateway, p: YsfpayParams, bill_date: datetime.date,
                        now: float) -> Bill:
    """The day's ZM file, inflated to a temporary file and parsed lazily from it.

    BILL_NOT_READY on respCode 98; CHANNEL_CONFIG_INVALID when UnionPay refuses the merchant
    (31, 32); BILL_REFUSED for another code; CHANNEL_UNAVAILABLE when no verified answer came.
    """
    answer = await gateway.send(p, "", {
        "txnType": "76", "txnSubType": "01", "bizType": "000000", "fileType": "00",
        "settleDate": f"{bill_date:%m%d}", "txnTime": codes.txn_time_at(now)},
        url=p.file_trans_url)
    if answer.failure is not None:
        raise ChannelUnavailable(f"the file transfer got no trustworthy answer: {answer.reason}")
    code, message = answer.resp_code, f"{answer.resp_msg} (respCode {answer.resp_code})"
    if code == NO_FILE:
        raise BillNotReady(f"UnionPay has no reconciliation file for {bill_date} yet: {message}")
    if code in _CONFIG_CODES:
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          f"UnionPay refused this merchant the reconciliation file: {message}")
    if code != "00":
        raise DomainError("BILL_REFUSED",
                          f"UnionPay refused the file transfer for {bill_date}: {message}")
    handle, path = tempfile.mkstemp(prefix="paymesh-ysfpay-bill-", suffix=".zip")
    cleanup = remove_quietly(path)
    try:
        with os.fdopen(handle, "wb") as file:
            _inflate(answer.fields.get("fileContent", ""), file.write)
        return parse_reconciliation_zip(path, bill_date, p.mer_id, cleanup)
    except BaseException:
        cleanup()
        raise


def _inflate(content: str, write: Callable[[bytes], object]) -> None:
    """Base64, then zlib-inflate ``content`` into ``write``, a chunk at a time."""
    if not content:
        raise BillMalformed("the file transfer answer carries no fileContent")
    inflater = zlib.decompressobj()
    try:
        for start in range(0, len(content), _B64_CHUNK):
            write(inflater.decompress(base64.b64decode(content[start:start + _B64_CHUNK],
                                                       validate=True)))
        write(inflater.flush())
    except (binascii.Error, ValueError, zlib.error) as error:
        raise BillMalformed(f"fileContent is not Base64 of DEFLATE data: {error}") from None
    if not inflater.eof:
        raise BillMalformed("fileContent ends inside its DEFLATE stream: truncated")


@dataclass
class _Sums:
    """What the rows added up to; the ZM file states no totals of its own."""

    done: bool = False
    counts: list[int] = field(default_factory=lambda: [0, 0])
    amounts: list[int] = field(default_factory=lambda: [0, 0])
    fee: int = 0

    def totals(self) -> BillTotals:
        if not self.done:
            raise BillMalformed("the bill's totals are read after its last row; the rows were "
                                "not all read")
        return BillTotals(pay_count=self.counts[0], pay_amount=self.amounts[0],
                          refund_count=self.counts[1], refund_amount=self.amounts[1],
                          fee=self.fee)


def parse_reconciliation_zip(path: str | os.PathLike[str], bill_date: datetime.date,
                             mer_id: str, cleanup: Callable[[], None] | None = None) -> Bill:
    """The ZM file of ``mer_id`` for ``bill_date`` in the zip at ``path``, parsed lazily."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BillMalformed(f"the reconciliation file is not a readable zip: {error}") from None
    found = [(name, match) for name in archive.namelist()
             if (match := _ZM_NAME.fullmatch(name)) is not None]
    if len(found) != 1:
        archive.close()
        raise BillMalformed(f"the zip holds {len(found)} ZM files, not one: "
                            f"{archive.namelist()}")
    name, match = found[0]
    if match[1] != f"{bill_date:%y%m%d}" or match[2] != mer_id:
        archive.close()
        raise BillMalformed(f"{name} is not the ZM file of merchant {mer_id} for {bill_date}")
    sums = _Sums()
    lines = _lines(archive, name, bill_date, mer_id.encode("ascii"), sums)

    def finish() -> None:
        lines.close()
        archive.close()
        if cleanup is not None:
            cleanup()

    return Bill(lines=lines, totals=sums.totals, cleanup=finish)


def _lines(archive: zipfile.ZipFile, name: str, bill_date: datetime.date, mer_id: bytes,
           sums: _Sums) -> Iterator[BillLine]:
    success, pay = BillStatus.SUCCESS, BillKind.PAY
    days: dict[bytes, int] = {}
    try:
        with io.BufferedReader(archive.open(name), _READ_BUFFER) as raw:  # type: ignore[arg-type]
            for number, line in enumerate(raw, 1):
                row = line.rstrip(b"\r\n")
                if not row.strip():
                    continue
                if len(row) < _MIN_LENGTH:
                    raise BillMalformed(f"{name} line {number}: {len(row)} bytes, shorter than "
                                        "its fields: truncated")
                kind = _KINDS.get(row[_TXN_TYPE])
                if kind is None:
                    continue
                if row[_MER_ID].strip() != mer_id:
                    raise BillMalformed(f"{name} line {number}: a row of another merchant")
                try:
                    amount = int(row[_AMOUNT])
                    fee = _signed_fee(row[_FEE])
                    trade_time = _time(row[_TIME], bill_date, days)
                    order_id = row[_ORDER_ID].decode("gb18030").strip()
                    query_id = row[_QUERY_ID].decode("gb18030").strip()
                    if kind is pay:
                        item = BillLine(kind, query_id, order_id, "", "", amount, fee, success,
                                        trade_time, "CNY")
                    else:
                        item = BillLine(kind, row[_ORIG_QUERY_ID].decode("gb18030").strip(),
                                        row[_ORIG_ORDER_ID].decode("gb18030").strip(), order_id,
                                        query_id, amount, fee, success, trade_time, "CNY")
                except ValueError:  # UnicodeDecodeError included
                    raise BillMalformed(f"{name} line {number}: an amount, fee, time or id does "
                                        "not parse") from None
                slot = 0 if kind is pay else 1
                sums.counts[slot] += 1
                sums.amounts[slot] += amount
                sums.fee += fee
                yield item
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise BillMalformed(f"{name} cannot be read: {type(error).__name__}: {error}") from None
    sums.done = True


def _signed_fee(text: bytes) -> int:
    """``D000000000006`` → 6 (charged), ``C000000000006`` → -6 (given back)."""
    digits = text[1:]
    if not digits.isdigit() or text[:1] not in (b"D", b"C"):
        raise ValueError(f"not a signed amount: {text!r}")
    return int(digits) if text[:1] == b"D" else -int(digits)


def _time(mmddhhmmss: bytes, bill_date: datetime.date, days: dict[bytes, int]) -> int:
    """Epoch seconds of a ``MMDDhhmmss`` Beijing time near ``bill_date`` (across New Year too);
    each ``MMDD`` parsed once."""
    day = days.get(mmddhhmmss[:4])
    if day is None:
        month = int(mmddhhmmss[:2])
        year = bill_date.year - (1 if month > bill_date.month + 1 else 0)
        day = int(datetime.datetime(year, month, int(mmddhhmmss[2:4]),
                                    tzinfo=_BEIJING).timestamp())
        days[mmddhhmmss[:4]] = day
    if not mmddhhmmss.isdigit():
        raise ValueError(f"not a time: {mmddhhmmss!r}")
    return (day + int(mmddhhmmss[4:6]) * 3600 + int(mmddhhmmss[6:8]) * 60
            + int(mmddhhmmss[8:10]))
