"""Settlement (结算, T+N): merchants' pending funds of due, reconciled days become available.

Each merchant has terms N (``settlement_terms``, else the configured default). A run on day T
with reconciliation finished through day R settles, per PENDING account (one per merchant and
currency), the value days D ≤ min(T − N, R) on which it was credited and that come after the last
day already settled, in day order. The amount for D is the pending balance minus the credits
with a value date after D: everything the account holds except money of days not yet due. Debits
of later days (refunds) therefore draw on the oldest funds, and whatever an earlier day left
behind is carried into the next day that settles, so nothing stays stuck in PENDING. A day whose
own unsettled net (credits minus debits dated up to D) is more than that amount is reported
PENDING_SHORT. One posting per (merchant, currency, day), ``settle:<owner>:<currency>:<D>``,
moves the amount PENDING → AVAILABLE with code SETTLEMENT and value date D.

Every day is one transaction that locks both accounts (ascending id, like every posting), then
checks the day's posting id and computes the amount under the locks: concurrent runs and
concurrent refunds queue on the pending account's row, so nothing settles twice and a refund
cannot slip between the check and the move.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.days import parse_day, today_in_china
from paymesh.services.account.models import LedgerAccount, SettlementTerms, SettlementTermsChange
from paymesh.services.account.posting import (
    AccountKind,
    AccountStatus,
    PostingRefused,
    TransferSpec,
    allows_credit,
    allows_debit,
    parse_note,
    parse_operator,
    parse_owner,
)
from paymesh.services.account.repository import AccountRepository
from paymesh.services.account.service import AccountService, retry_key_clash
from paymesh.services.account.settings import MAX_SETTLE_DAYS
from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import InvalidArgument

SETTLEMENT = "SETTLEMENT"
_OWNER = re.compile(r"[\x21-\x7e]{1,64}")
_MAX_POSTING_ID = 64


class SkipReason(StrEnum):
    """Why due funds stayed in PENDING."""

    HELD = "HELD"
    ACCOUNT_STATUS = "ACCOUNT_STATUS"
    PENDING_SHORT = "PENDING_SHORT"


@dataclass(frozen=True)
class Terms:
    """A merchant's N of T+N, and who set it (nobody: the default)."""

    owner: str
    settle_days: int
    is_default: bool
    operator: str = ""
    note: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class TermsChange:
    """The terms after SetSettlementTerms, and whether they changed."""

    terms: Terms
    changed: bool


@dataclass(frozen=True)
class SettledDay:
    """One settlement posting a run made."""

    owner: str
    currency: str
    value_date: str
    amount: int
    posting_id: str


@dataclass(frozen=True)
class Skip:
    """Funds a run left in PENDING: the day (empty for the whole account), why, how much."""

    owner: str
    currency: str
    value_date: str
    reason: SkipReason
    amount: int
    message: str


@dataclass
class SettlementRun:
    """What one SettleDue run did."""

    today: date
    merchants_examined: int = 0
    postings: list[SettledDay] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def totals(self) -> list[tuple[str, int, int]]:
        """(currency, amount settled, postings made) per currency, by currency."""
        sums: dict[str, tuple[int, int]] = {}
        for posting in self.postings:
            amount, count = sums.get(posting.currency, (0, 0))
            sums[posting.currency] = (amount + posting.amount, count + 1)
        return [(c, *sums[c]) for c in sorted(sums)]


def settlement_posting_id(owner: str, currency: str, value_date: str) -> str:
    """``settle:<owner>:<currency>:<day>``; an owner too long for the 64 characters of a posting
    id is replaced by ``#`` and 32 hex digits of its SHA-256."""
    posting_id = f"settle:{owner}:{currency}:{value_date}"
    if len(posting_id) <= _MAX_POSTING_ID:
        return posting_id
    digest = hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32]
    return f"settle:#{digest}:{currency}:{value_date}"


def _owner_list(name: str, owners: Sequence[str]) -> list[str]:
    for i, owner in enumerate(owners):
        if not _OWNER.fullmatch(owner):
            raise InvalidArgument(f"{name}[{i}]", f"{name}[{i}] must be 1..64 printable ASCII "
                                                  "characters")
    return list(dict.fromkeys(owners))


def _status_problem(pending: LedgerAccount, available: LedgerAccount) -> str | None:
    if not allows_debit(AccountStatus(pending.status)):
        return f"pending account {pending.id} is {pending.status} and refuses debits"
    if not allows_credit(AccountStatus(available.status)):
        return f"available account {available.id} is {available.status} and refuses credits"
    return None


@dataclass(frozen=True)
class _DayResult:
    posted: int = 0
    short: int = 0


class SettlementService:
    """Settlement terms and T+N settlement runs over one ledger."""

    def __init__(self, ledger: AccountService, sessions: async_sessionmaker[AsyncSession],
                 default_settle_days: int = 1) -> None:
        self._ledger = ledger
        self._sessions = sessions
        self._default_days = default_settle_days

    async def terms(self, owner: str) -> Terms:
        """The merchant's terms, or the default when none were set."""
        owner = parse_owner(owner)
        async with self._sessions.begin() as session:
            row = await AccountRepository(session).terms(owner)
        return self._terms_of(owner, row)

    async def set_terms(self, owner: str, settle_days: int, operator: str, note: str
                        ) -> TermsChange:
        """Sets the merchant's N (0..30), audited; the same N again changes nothing."""
        owner, operator = parse_owner(owner), parse_operator(operator)
        note = parse_note("note", note)
        if not 0 <= settle_days <= MAX_SETTLE_DAYS:
            raise InvalidArgument("settle_days", f"settle_days is 0..{MAX_SETTLE_DAYS}")

        async def work() -> TermsChange:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                row = await repo.terms(owner, lock=True)
                if row is not None and row.settle_days == settle_days:
                    return TermsChange(self._terms_of(owner, row), False)
                now = utc_now()
                repo.add(SettlementTermsChange(
                    owner=owner, old_days=None if row is None else row.settle_days,
                    new_days=settle_days, operator=operator, note=note, created_at=now))
                if row is None:
                    row = SettlementTerms(owner=owner, settle_days=settle_days, operator=operator,
                                          note=note, created_at=now, updated_at=now)
                    repo.add(row)
                else:
                    row.settle_days, row.operator, row.note = settle_days, operator, note
                    row.updated_at = now
                await repo.flush()
                return TermsChange(self._terms_of(owner, row), True)

        return await retry_key_clash(work)  # a concurrent first setting wins the race

    def _terms_of(self, owner: str, row: SettlementTerms | None) -> Terms:
        if row is None:
            return Terms(owner, self._default_days, True)
        return Terms(owner, row.settle_days, False, row.operator, row.note, row.updated_at)

    async def settle_due(self, today: str, reconciled_through: str,
                         held_owners: Sequence[str] = (), owners: Sequence[str] = ()
                         ) -> SettlementRun:
        """Settles every due, reconciled day of every (or each of ``owners``') pending account;
        see the module docs. Held owners and accounts whose freeze mode forbids the move are
        skipped and reported, never an error for the run."""
        day = parse_day("today", today) if today else today_in_china()
        if not reconciled_through:
            raise InvalidArgument("reconciled_through", "reconciled_through is required: the "
                                                        "last reconciled day, YYYY-MM-DD")
        reconciled = parse_day("reconciled_through", reconciled_through)
        held = set(_owner_list("held_owners", held_owners))
        wanted = _owner_list("owners", owners)
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            accounts = list(await repo.pending_accounts(wanted))
            merchants = sorted({a.owner for a in accounts})
            terms = await repo.terms_of(merchants)
        run = SettlementRun(day, merchants_examined=len(merchants))
        for account in accounts:
            days = terms.get(account.owner, self._default_days)
            cutoff = min(day - timedelta(days=days), reconciled)
            await self._settle_account(account, cutoff.isoformat(), days,
                                       account.owner in held, run)
        return run

    async def _settle_account(self, pending: LedgerAccount, through: str, settle_days: int,
                              held: bool, run: SettlementRun) -> None:
        owner, currency = pending.owner, pending.currency
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            days = await repo.credit_days(pending.id, through)
            ids = {d: settlement_posting_id(owner, currency, d) for d in days}
            done = await repo.recorded_postings(list(ids.values()))
            last_done = max((d for d in days if ids[d] in done), default="")
            candidates = [d for d in days if d > last_done and ids[d] not in done]
            current = await repo.account(pending.id)
            owed = 0
            if candidates and current is not None:
                owed = current.balance - await repo.credits_after(pending.id, candidates[-1])
            available = await repo.account_of(owner, currency, AccountKind.AVAILABLE.value)
        if not candidates or current is None:
            return
        if held:
            if owed > 0:
                run.skipped.append(Skip(owner, currency, "", SkipReason.HELD, owed,
                                        f"settlement of {owner} is held"))
            return
        if available is None:
            available = (await self._ledger.open_account(owner, currency,
                                                         AccountKind.AVAILABLE)).account
        problem = _status_problem(current, available)
        if problem is not None:
            if owed > 0:
                run.skipped.append(Skip(owner, currency, "", SkipReason.ACCOUNT_STATUS, owed,
                                        problem))
            return
        for value_date in candidates:
            try:
                result = await self._settle_day(current.id, available.id, owner, currency,
                                                value_date, ids[value_date], settle_days)
            except PostingRefused as refused:  # a freeze mode changed since the check above
                run.skipped.append(Skip(owner, currency, value_date,
                                        SkipReason.ACCOUNT_STATUS, max(owed, 0), refused.message))
                return
            if result.posted:
                run.postings.append(SettledDay(owner, currency, value_date, result.posted,
                                               ids[value_date]))
            if result.short:
                whole = result.posted + result.short
                run.skipped.append(Skip(owner, currency, value_date, SkipReason.PENDING_SHORT,
                                        result.short, f"pending held {result.posted} of the "
                                                      f"day's net {whole}"))

    async def _settle_day(self, pending_id: int, available_id: int, owner: str, currency: str,
                          value_date: str, posting_id: str, settle_days: int) -> _DayResult:
        """One day, in one transaction under both accounts' locks; see the module docs."""

        async def work() -> _DayResult:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                locked = {a.id: a for a in await repo.lock_accounts([pending_id, available_id])}
                if await repo.posting(posting_id) is not None:
                    return _DayResult()  # a concurrent run settled this day a moment ago
                net = await repo.net_through(pending_id, value_date)
                later = await repo.credits_after(pending_id, value_date)
                amount = min(net, locked[pending_id].balance - later)
                if net <= 0:
                    return _DayResult()
                if amount <= 0:
                    return _DayResult(short=net)
                await self._ledger.post_within(repo, posting_id, [TransferSpec(
                    pending_id, available_id, amount, SETTLEMENT,
                    f"settlement T+{settle_days} of {owner} {currency} {value_date}",
                    value_date)])
                return _DayResult(posted=amount, short=net - amount)

        return await retry_key_clash(work)
