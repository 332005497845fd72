"""Reading postings back for audits: postings by id with their transfers and both accounts of
each transfer, and the ids of one kind of posting (those starting with a prefix such as "pay:"),
a page at a time.

``paymesh ledger check`` compares what the gateway's orders say the ledger should hold with what
these return. Nothing here writes. Postings by id are read in one transaction, so on MariaDB the
postings, transfers and accounts come from one snapshot. Ids are listed in the database's order of
the primary key; the cursor is the last id of a page, so a listing resumes exactly where it
stopped even while postings are recorded.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.models import POSTED, LedgerAccount, LedgerTransfer, Posting
from paymesh.services.account.posting import parse_posting_id
from paymesh.services.common.errors import InvalidArgument

MAX_IDS = 1000
MAX_PAGE_SIZE = 1000
_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True)
class AuditedPosting:
    """A recorded posting, its transfers in order, and every account they touch, by id."""

    posting: Posting
    transfers: list[LedgerTransfer]
    accounts: dict[int, LedgerAccount]


@dataclass(frozen=True)
class PostingIdPage:
    """A page of posting ids, ascending, and the cursor of the next page."""

    posting_ids: list[str]
    next_token: str
    has_more: bool


class PostingAudit:
    """GetPostings and ListPostingIds over one account database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def postings(self, posting_ids: Sequence[str]) -> list[AuditedPosting]:
        """The postings recorded under these ids (1..1000), in the order asked, each once;
        ids never recorded are left out."""
        if not 1 <= len(posting_ids) <= MAX_IDS:
            raise InvalidArgument("posting_ids", f"give 1..{MAX_IDS} posting ids, got "
                                                 f"{len(posting_ids)}")
        for posting_id in posting_ids:
            try:
                parse_posting_id(posting_id)
            except InvalidArgument:
                raise InvalidArgument("posting_ids", "every posting id is 1..64 printable ASCII "
                                      f"characters, got {posting_id[:80]!r}") from None
        wanted = list(dict.fromkeys(posting_ids))
        async with self._sessions.begin() as session:
            postings = await _by_chunks(session, wanted, lambda chunk: select(Posting).where(
                Posting.posting_id.in_(chunk)))
            transfers = await _by_chunks(session, wanted, lambda chunk: select(
                LedgerTransfer).where(LedgerTransfer.posting_id.in_(chunk)))
            account_ids = sorted({i for t in transfers
                                  for i in (t.debit_account_id, t.credit_account_id)})
            accounts = await _by_chunks(session, account_ids, lambda chunk: select(
                LedgerAccount).where(LedgerAccount.id.in_(chunk)))
        by_id = {p.posting_id: p for p in postings}
        moves: dict[str, list[LedgerTransfer]] = {}
        for transfer in sorted(transfers, key=lambda t: (t.posting_id, t.position)):
            moves.setdefault(transfer.posting_id, []).append(transfer)
        known = {a.id: a for a in accounts}
        found = []
        for posting_id in wanted:
            posting = by_id.get(posting_id)
            if posting is None:  # not recorded (or a case-insensitive near miss on MariaDB)
                continue
            own = moves.get(posting_id, [])
            found.append(AuditedPosting(posting, own, {
                i: known[i] for t in own for i in (t.debit_account_id, t.credit_account_id)}))
        return found

    async def posting_ids(self, prefix: str, page_size: int, page_token: str,
                          include_refused: bool = False) -> PostingIdPage:
        """The ids starting with ``prefix``, ascending, after the cursor; posted ones only
        unless ``include_refused``."""
        try:
            parse_posting_id(prefix)
        except InvalidArgument:
            raise InvalidArgument("prefix", "prefix is 1..64 printable ASCII characters") \
                from None
        size = page_size or MAX_PAGE_SIZE
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page_size", f"page_size is 1..{MAX_PAGE_SIZE}, got {page_size}")
        after = _decode(page_token) if page_token else None
        # A range on the primary key rather than LIKE, so the index bounds the scan; the first
        # id after every id with this prefix is the prefix with its last character bumped.
        bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        query = select(Posting.posting_id).where(Posting.posting_id < bound)
        query = query.where(Posting.posting_id > after if after is not None
                            else Posting.posting_id >= prefix)
        if not include_refused:
            query = query.where(Posting.status == POSTED)
        query = query.order_by(Posting.posting_id).limit(size + 1)
        async with self._sessions() as session:
            rows = list((await session.scalars(query)).all())
        page, has_more = rows[:size], len(rows) > size
        # A case-insensitive collation (MariaDB) may let "PAY:..." in with "pay:": leave it out.
        return PostingIdPage([i for i in page if i.startswith(prefix)],
                             _encode(page[-1]) if has_more else "", has_more)


async def _by_chunks(session: AsyncSession, keys: Sequence[Any],
                     query_of: Callable[[Sequence[Any]], Select[Any]]) -> list[Any]:
    """Every row the query built for each chunk of ``keys`` returns."""
    rows: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        rows.extend((await session.scalars(query_of(keys[start:start + _CHUNK]))).all())
    return rows


def _encode(posting_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": posting_id}).encode()).decode("ascii")


def _decode(token: str) -> str:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["after"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("page_token", "page_token is not a valid cursor") from None
    if not isinstance(after, str) or not after:
        raise InvalidArgument("page_token", "page_token is not a valid cursor")
    return after
