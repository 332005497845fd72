"""The ledger's domain logic: opening accounts, idempotent postings, balances, entries, audit.

No gRPC here. Every posting runs in one transaction that locks the accounts it touches (in
ascending id order), checks the rules of ``posting.py`` against the balances read under the lock,
then writes the posting, its transfers and the new balances together. Each transfer keeps a
value date (the China Standard Time day its money belongs to): as given, or the recording day.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.days import day_of, parse_day
from paymesh.services.account.models import (
    POSTED,
    REFUSED,
    LedgerAccount,
    LedgerTransfer,
    Posting,
)
from paymesh.services.account.posting import (
    AccountKind,
    AccountState,
    AccountStatus,
    PostingRefused,
    TransferSpec,
    account_ids,
    apply_posting,
    fingerprint,
    is_code,
    may_go_negative,
    parse_currency,
    parse_owner,
    parse_posting_id,
    validate_transfers,
)
from paymesh.services.account.repository import AccountRepository, EntryFilter
from paymesh.services.account.results import (
    CurrencyTotal,
    Discrepancy,
    Entry,
    EntryPage,
    InvariantReport,
    OpenedAccount,
    PostingResult,
)
from paymesh.services.common.db import run_transaction, utc_now
from paymesh.services.common.errors import AlreadyExists, InvalidArgument, NotFound

T = TypeVar("T")
log = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
_KEY_CLASH_ATTEMPTS = 3


@dataclass(frozen=True)
class _Outcome:
    result: PostingResult | None = None
    refusal: PostingRefused | None = None


class AccountService:
    """Accounts and the double-entry ledger of one account database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open_account(self, owner: str, currency: str, kind: AccountKind) -> OpenedAccount:
        """The account of (owner, currency, kind), opened now or already open."""
        owner, currency = parse_owner(owner), parse_currency(currency)

        async def work() -> OpenedAccount:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                existing = await repo.account_of(owner, currency, kind)
                if existing is not None:
                    return OpenedAccount(existing, False)
                now = utc_now()
                account = LedgerAccount(owner=owner, currency=currency, kind=kind.value,
                                        may_go_negative=may_go_negative(kind), balance=0,
                                        status=AccountStatus.ACTIVE.value,
                                        created_at=now, updated_at=now)
                repo.add(account)
                await repo.flush()
                return OpenedAccount(account, True)

        return await retry_key_clash(work)  # a concurrent open of the same key wins the race

    async def post(self, posting_id: str, transfers: Sequence[TransferSpec]) -> PostingResult:
        """Records the transfers all or none, once per posting id; see ``AccountService`` docs.

        Raises PostingRefused when the ledger's state refuses it (recorded, and raised again for
        every retry of the id) and AlreadyExists(POSTING_ID_REUSED) when the id was used for
        other transfers.
        """
        posting_id = parse_posting_id(posting_id)
        validate_transfers(transfers)
        digest = fingerprint(transfers)

        async def work() -> _Outcome:
            async with self._sessions.begin() as session:
                return await self._post_in(AccountRepository(session), posting_id, transfers,
                                           digest)

        outcome = await retry_key_clash(work)
        if outcome.refusal is not None:
            raise outcome.refusal
        assert outcome.result is not None
        return outcome.result

    async def post_within(self, repo: AccountRepository, posting_id: str,
                          transfers: Sequence[TransferSpec]) -> PostingResult:
        """Posts inside the caller's transaction, for a step that records its own state.

        A refusal is raised, so the caller's transaction rolls back and nothing is recorded,
        not even the refusal: the caller's own row (a withdrawal step) is what makes the step
        happen once, so a refused step may be tried again once the ledger allows it.
        """
        posting_id = parse_posting_id(posting_id)
        validate_transfers(transfers)
        outcome = await self._post_in(repo, posting_id, transfers, fingerprint(transfers))
        if outcome.refusal is not None:
            raise outcome.refusal
        assert outcome.result is not None
        return outcome.result

    async def _post_in(self, repo: AccountRepository, posting_id: str,
                       transfers: Sequence[TransferSpec], digest: str) -> _Outcome:
        earlier = await repo.posting(posting_id)
        if earlier is not None:
            return await _replay(repo, earlier, digest)
        locked = await repo.lock_accounts(account_ids(transfers))
        # A concurrent retry of the same posting held the same locks: read again after them.
        earlier = await repo.posting(posting_id)
        if earlier is not None:
            return await _replay(repo, earlier, digest)
        states = {a.id: AccountState(a.id, a.currency, a.balance, a.may_go_negative,
                                     AccountStatus(a.status))
                  for a in locked}
        now = utc_now()
        try:
            balances, applied = apply_posting(states, transfers)
        except PostingRefused as refusal:
            repo.add(Posting(posting_id=posting_id, fingerprint=digest, status=REFUSED,
                             reason=refusal.reason, message=refusal.message[:256],
                             refused_account_id=refusal.account_id, created_at=now))
            return _Outcome(refusal=refusal)
        repo.add(Posting(posting_id=posting_id, fingerprint=digest, status=POSTED, created_at=now))
        await repo.flush()
        recorded_day = day_of(now).isoformat()
        rows = [LedgerTransfer(posting_id=posting_id, position=i,
                               debit_account_id=a.spec.debit_account_id,
                               credit_account_id=a.spec.credit_account_id, amount=a.spec.amount,
                               code=a.spec.code, memo=a.spec.memo,
                               debit_balance_after=a.debit_balance_after,
                               credit_balance_after=a.credit_balance_after, created_at=now,
                               value_date=a.spec.value_date or recorded_day)
                for i, a in enumerate(applied)]
        repo.add(*rows)
        for account in locked:
            account.balance, account.updated_at = balances[account.id], now
        await repo.flush()
        return _Outcome(result=PostingResult(rows, replayed=False))

    async def balances(self, account_id: int, owner: str) -> list[LedgerAccount]:
        """One account by id, or every account of an owner (exactly one of the two)."""
        if (account_id != 0) == (owner != ""):
            raise InvalidArgument("account_id", "give exactly one of account_id and owner")
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            if owner:
                return list(await repo.accounts_of(parse_owner(owner)))
            return [await _account(repo, account_id)]

    async def entries(self, account_id: int, page_size: int, page_token: str,
                      kept: EntryFilter | None = None) -> EntryPage:
        """An account's entries that ``kept`` keeps, newest first, a page at a time."""
        kept = check_filter(kept or EntryFilter())
        if page_size == 0:
            page_size = DEFAULT_PAGE_SIZE
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page.page_size", f"page_size must be 1..{MAX_PAGE_SIZE}")
        before = decode_cursor(page_token) if page_token else None
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            await _account(repo, account_id)
            rows = await repo.entries_page(account_id, page_size + 1, before, kept)
        page, has_more = rows[:page_size], len(rows) > page_size
        return EntryPage([_entry(account_id, row) for row in page],
                         encode_cursor(page[-1].id) if has_more else "", has_more)

    async def check_invariants(self) -> InvariantReport:
        """Sums per currency (each must be 0) and the accounts that break an invariant."""
        async with self._sessions.begin() as session:
            folds = await AccountRepository(session).balance_folds()
        totals: dict[str, CurrencyTotal] = {}
        discrepancies = []
        for fold in folds:
            seen = totals.get(fold.currency, CurrencyTotal(fold.currency, 0, 0))
            totals[fold.currency] = CurrencyTotal(fold.currency, seen.total + fold.stored_balance,
                                                  seen.account_count + 1)
            negative = fold.stored_balance < 0 and not fold.may_go_negative
            if negative or fold.stored_balance != fold.transfers_balance:
                discrepancies.append(Discrepancy(fold.account_id, fold.stored_balance,
                                                 fold.transfers_balance, negative))
        report = InvariantReport(sorted(totals.values(), key=lambda t: t.currency),
                                 discrepancies)
        if not report.sound:
            log.error("ledger invariants broken: %s", report)
        return report


def check_filter(kept: EntryFilter) -> EntryFilter:
    """The filter, or InvalidArgument naming the field that is malformed or out of order."""
    first = parse_day("value_date_from", kept.value_date_from) if kept.value_date_from else None
    last = parse_day("value_date_to", kept.value_date_to) if kept.value_date_to else None
    if first is not None and last is not None and first > last:
        raise InvalidArgument("value_date_to", "value_date_to is before value_date_from")
    if kept.code and not is_code(kept.code):
        raise InvalidArgument("code", "code is 1..32 of A-Z, 0-9 and _")
    after, before = kept.created_after, kept.created_before
    if after is not None and before is not None and not after < before:
        raise InvalidArgument("created_before", "created_before must be after created_after")
    return kept


async def _replay(repo: AccountRepository, earlier: Posting, digest: str) -> _Outcome:
    """The first result of a posting id again, or a refusal when its content differs."""
    if earlier.fingerprint != digest:
        raise AlreadyExists("POSTING_ID_REUSED",
                            f"posting {earlier.posting_id} was recorded with other transfers")
    if earlier.status == REFUSED:
        return _Outcome(refusal=PostingRefused(earlier.reason or "", earlier.message or "",
                                               earlier.refused_account_id or 0))
    return _Outcome(result=PostingResult(list(await repo.transfers_of(earlier.posting_id)),
                                         replayed=True))


async def retry_key_clash(work: Callable[[], Awaitable[T]]) -> T:
    """Runs one whole transaction, retried on deadlock; after a unique-key clash (a concurrent
    call with the same key committed first) it runs again and finds that call's row."""
    for attempt in range(1, _KEY_CLASH_ATTEMPTS + 1):
        try:
            return await run_transaction(work)
        except IntegrityError:
            if attempt == _KEY_CLASH_ATTEMPTS:
                raise
            log.info("key clash with a concurrent call, reading again (attempt %d)", attempt)
    raise AssertionError("unreachable")


async def _account(repo: AccountRepository, account_id: int) -> LedgerAccount:
    account = await repo.account(account_id) if account_id > 0 else None
    if account is None:
        raise NotFound("ACCOUNT_NOT_FOUND", f"account {account_id} does not exist")
    return account


def _entry(account_id: int, row: LedgerTransfer) -> Entry:
    if row.credit_account_id == account_id:
        return Entry(row, row.amount, row.credit_balance_after, row.debit_account_id)
    return Entry(row, -row.amount, row.debit_balance_after, row.credit_account_id)


def encode_cursor(transfer_id: int) -> str:
    """The opaque page token that resumes an entry listing below this transfer."""
    return base64.urlsafe_b64encode(json.dumps({"before": transfer_id}).encode()).decode("ascii")


def decode_cursor(token: str) -> int:
    """The transfer id an ``encode_cursor`` token names; anything else is an invalid token."""
    try:
        before = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))["before"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor") from None
    if not isinstance(before, int) or isinstance(before, bool) or before < 1:
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor")
    return before


__all__ = ["AccountService", "CurrencyTotal", "Discrepancy", "Entry", "EntryPage",
           "InvariantReport", "OpenedAccount", "PostingResult", "retry_key_clash"]
