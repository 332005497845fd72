"""A merchant's daily statement (对账单): per account, how the day opened, moved and closed.

The day is a China Standard Time calendar day, [00:00, 24:00) UTC+8, and a transfer belongs to
it by its recording time (create_time), not its value date: the statement says what happened on
the books that day, settlements and late events included. The opening balance is the balance
after the last transfer recorded before the day (by recording time, then id); the closing
balance is the opening plus the day's credits minus its debits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.days import day_window, parse_day
from paymesh.services.account.models import LedgerAccount
from paymesh.services.account.posting import AccountKind, parse_currency, parse_owner
from paymesh.services.account.repository import AccountRepository, CodeSums

# The merchant's own accounts, in the order a statement lists them.
STATEMENT_KINDS = (AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.FROZEN,
                   AccountKind.RESERVE)


@dataclass(frozen=True)
class AccountStatement:
    """One account over the day: opening, credits, debits, closing, entries, per-code sums."""

    account: LedgerAccount
    opening: int
    credits: int
    debits: int
    entry_count: int
    codes: list[CodeSums]

    @property
    def closing(self) -> int:
        """The balance at the end of the day."""
        return self.opening + self.credits - self.debits


@dataclass(frozen=True)
class DailyStatement:
    """A merchant's statement for one day, with the instants where the day starts and ends."""

    owner: str
    day: date
    start: datetime
    end: datetime
    accounts: list[AccountStatement]


class StatementService:
    """Daily statements read from one ledger."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def daily(self, owner: str, currency: str, day: str) -> DailyStatement:
        """The statement of the merchant's accounts (of one currency, when given) for ``day``.

        A past day's statement is final; today's may miss postings committing while it is
        read (each sum is one statement), which the next read includes.
        """
        owner = parse_owner(owner)
        currency = parse_currency(currency) if currency else ""
        wanted = parse_day("date", day)
        start, end = day_window(wanted)
        order = {kind.value: i for i, kind in enumerate(STATEMENT_KINDS)}
        statements = []
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            accounts = [a for a in await repo.accounts_of(owner)
                        if a.kind in order and (not currency or a.currency == currency)]
            for account in sorted(accounts, key=lambda a: (a.currency, order[a.kind])):
                opening = await repo.balance_before(account.id, start)
                codes = await repo.code_sums(account.id, start, end)
                statements.append(AccountStatement(
                    account, opening, sum(c.credits for c in codes), sum(c.debits for c in codes),
                    sum(c.count for c in codes), codes))
        return DailyStatement(owner, wanted, start, end, statements)
