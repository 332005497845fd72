"""Downloading the WeChat Pay trade bill of one day (reference §1.6, §1.8).

1. ``GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL`` (plus ``sub_mchid`` for a
   service provider), signed, its answer verified like every other: ``hash_type`` (SHA1),
   ``hash_value`` and ``download_url``.
2. ``GET <download_url>``, signed too; the file itself is not signed, so its SHA-1 (over the
   uncompressed bytes) must equal ``hash_value``. It streams to a temporary file, gunzipped on the
   way when WeChat sends gzip, so a bill of any size never sits in memory.
3. :func:`parse_wxpay_trade_bill` reads it lazily; the Bill's cleanup removes the file.

Refusals: ``STATEMENT_CREATING`` (today, a future day, or yesterday before WeChat is done, about
10:00 Beijing time) → BILL_NOT_READY. ``NO_STATEMENT_EXIST`` means a day without trades once the
day's bill is due (after 10:00 Beijing time the next day): an empty bill; before that it is
BILL_NOT_READY too. Other refusals → BILL_REFUSED (FAILED_PRECONDITION, WeChat's code and
message); no trustworthy answer or a broken download → CHANNEL_UNAVAILABLE; a SHA-1 mismatch →
BILL_MALFORMED.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import os
import tempfile
import zlib
from collections.abc import Callable
from typing import Any

import httpx

from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillMalformed,
    BillNotReady,
    ChannelUnavailable,
    empty_bill,
    remove_quietly,
)
from paymesh.services.channel.adapters.wxpay import signing
from paymesh.services.channel.adapters.wxpay.bill import parse_wxpay_trade_bill
from paymesh.services.channel.adapters.wxpay.config import WxpayConfig
from paymesh.services.channel.adapters.wxpay.transport import (
    USER_AGENT,
    AnswerKind,
    SignedTransport,
)
from paymesh.services.common.errors import DomainError

NOT_READY_CODES = frozenset({"STATEMENT_CREATING"})
NO_BILL_CODES = frozenset({"NO_STATEMENT_EXIST"})
BILL_DUE_HOUR = 10  # WeChat: the bill of day D is ready after about 10:00 on D+1
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


async def download_trade_bill(http: httpx.AsyncClient, transport: SignedTransport,
                              config: WxpayConfig, bill_date: datetime.date,
                              clock: Callable[[], float], nonce: Callable[[], str]) -> Bill:
    """The ``ALL`` trade bill of ``bill_date`` (a Beijing day), downloaded and checked."""
    query = f"bill_date={bill_date.isoformat()}&bill_type=ALL"
    if config.is_isv:
        query += f"&sub_mchid={config.sub_mch_id}"
    answer = await transport.call(config, "GET", f"/v3/bill/tradebill?{query}")
    if answer.kind is AnswerKind.REFUSED:
        if answer.code in NOT_READY_CODES or (
                answer.code in NO_BILL_CODES and not _bill_due(bill_date, clock())):
            raise BillNotReady(f"WeChat Pay has no bill for {bill_date} yet ({answer.code}: "
                               f"{answer.message})")
        if answer.code in NO_BILL_CODES:
            return empty_bill()
        raise DomainError("BILL_REFUSED", f"WeChat Pay refused the bill of {bill_date}: "
                                          f"{answer.code} {answer.message}".strip())
    if answer.kind is not AnswerKind.OK:
        raise ChannelUnavailable(f"no trustworthy answer to the bill request: "
                                 f"{answer.code or answer.kind.value} {answer.message}".strip())
    hash_type = str(answer.data.get("hash_type") or "")
    hash_value = str(answer.data.get("hash_value") or "").lower()
    url = str(answer.data.get("download_url") or "")
    if hash_type.upper() != "SHA1" or len(hash_value) != 40 or \
            not url.startswith(("https://", "http://")):
        raise ChannelUnavailable("the bill answer lacks a SHA1 hash_value or a download_url")
    path, digest = await _download(http, config, url, clock, nonce)
    if not hmac.compare_digest(digest, hash_value):
        os.unlink(path)
        raise BillMalformed(f"the bill of {bill_date} does not match its SHA-1 (hash_value "
                            f"{hash_value}, file {digest}): altered or incomplete")
    return parse_wxpay_trade_bill(path, cleanup=remove_quietly(path))


def _bill_due(bill_date: datetime.date, now: float) -> bool:
    due = datetime.datetime.combine(bill_date + datetime.timedelta(days=1),
                                    datetime.time(BILL_DUE_HOUR), CST)
    return now >= due.timestamp()


async def _download(http: httpx.AsyncClient, config: WxpayConfig, url: str,
                    clock: Callable[[], float], nonce: Callable[[], str]) -> tuple[str, str]:
    """Streams the file to a temporary path; returns it and the SHA-1 of the plain bytes."""
    target = httpx.URL(url)
    headers = {
        "Accept": "*/*",
        "User-Agent": USER_AGENT,
        "Authorization": signing.authorization(
            private_key=config.private_key, mch_id=config.mch_id, serial_no=config.serial_no,
            method="GET", canonical_url=target.raw_path.decode("ascii"), body=b"",
            timestamp=int(clock()), nonce=nonce()),
    }
    handle, path = tempfile.mkstemp(prefix="paymesh-wxpay-bill-", suffix=".csv")
    digest = hashlib.sha1(usedforsecurity=False)
    try:
        with os.fdopen(handle, "wb") as file:
            async with http.stream("GET", target, headers=headers) as response:
                if response.status_code != 200:
                    await response.aread()
                    raise ChannelUnavailable(f"the bill download answered HTTP "
                                             f"{response.status_code}: "
                                             f"{response.text[:200]}")
                inflate: Any = None
                head: bytes | None = b""  # the first bytes, until they tell gzip from a plain bill
                async for chunk in response.aiter_raw(_CHUNK):
                    if head is not None:
                        head += chunk
                        if len(head) < len(_GZIP_MAGIC):
                            continue
                        if head.startswith(_GZIP_MAGIC):
                            inflate = zlib.decompressobj(wbits=31)
                        chunk, head = head, None
                    plain = inflate.decompress(chunk) if inflate is not None else chunk
                    digest.update(plain)
                    file.write(plain)
                if head:  # a bill shorter than the gzip magic: plain
                    digest.update(head)
                    file.write(head)
                if inflate is not None:
                    rest = inflate.flush()
                    if not inflate.eof:
                        raise ChannelUnavailable("the gzip bill ended early")
                    digest.update(rest)
                    file.write(rest)
    except httpx.HTTPError as error:
        os.unlink(path)
        raise ChannelUnavailable(f"the bill download broke off: {error!r}") from None
    except zlib.error:
        os.unlink(path)
        raise BillMalformed("the bill is not valid gzip") from None
    except BaseException:
        os.unlink(path)
        raise
    return path, digest.hexdigest()
