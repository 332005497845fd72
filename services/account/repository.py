"""Queries over the account database, one session (one transaction) at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paymesh.services.account.models import (
    Base,
    LedgerAccount,
    LedgerTransfer,
    Posting,
    SettlementTerms,
    Withdrawal,
    WithdrawalStep,
)
from paymesh.services.common.db import utc_now


@dataclass(frozen=True)
class BalanceFold:
    """An account's stored balance beside the fold of its transfers."""

    account_id: int
    currency: str
    stored_balance: int
    transfers_balance: int
    may_go_negative: bool


@dataclass(frozen=True)
class EntryFilter:
    """Which of an account's transfers a listing keeps; empty or None fields keep everything.

    Value dates are "YYYY-MM-DD" strings, which sort as the days they name; both bounds are
    inclusive. ``created_after`` is inclusive and ``created_before`` exclusive.
    """

    code: str = ""
    value_date_from: str = ""
    value_date_to: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on ledger_transfer."""
        found: list[ColumnElement[bool]] = []
        if self.code:
            found.append(LedgerTransfer.code == self.code)
        if self.value_date_from:
            found.append(LedgerTransfer.value_date >= self.value_date_from)
        if self.value_date_to:
            found.append(LedgerTransfer.value_date <= self.value_date_to)
        if self.created_after is not None:
            found.append(LedgerTransfer.created_at >= self.created_after)
        if self.created_before is not None:
            found.append(LedgerTransfer.created_at < self.created_before)
        return found


@dataclass(frozen=True)
class CodeSums:
    """One account's credits and debits of one transfer code over a time window."""

    code: str
    credits: int
    debits: int
    count: int


class AccountRepository:
    """Reads and writes accounts, postings, transfers and withdrawals inside one session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, *rows: Base) -> None:
        """Adds new rows to the transaction."""
        self._session.add_all(rows)

    async def flush(self) -> None:
        """Sends pending writes now, so a key clash surfaces inside the transaction."""
        await self._session.flush()

    async def account(self, account_id: int) -> LedgerAccount | None:
        """The account, or None."""
        return await self._session.get(LedgerAccount, account_id)

    async def account_of(self, owner: str, currency: str, kind: str) -> LedgerAccount | None:
        """The account of (owner, currency, kind), or None."""
        query = select(LedgerAccount).where(LedgerAccount.owner == owner,
                                            LedgerAccount.currency == currency,
                                            LedgerAccount.kind == kind)
        return (await self._session.scalars(query)).one_or_none()

    async def accounts_of(self, owner: str) -> Sequence[LedgerAccount]:
        """Every account of the owner, by id."""
        query = (select(LedgerAccount).where(LedgerAccount.owner == owner)
                 .order_by(LedgerAccount.id))
        return (await self._session.scalars(query)).all()

    async def lock_accounts(self, account_ids: Sequence[int]) -> Sequence[LedgerAccount]:
        """The accounts that exist among ``account_ids``, locked FOR UPDATE in ascending id order.

        Every posting locks in the same order, so two postings over the same accounts queue
        instead of deadlocking. SQLite ignores FOR UPDATE; its single writer serialises instead.
        ``populate_existing`` makes the balances the ones read under the lock.
        """
        query = (select(LedgerAccount).where(LedgerAccount.id.in_(account_ids))
                 .order_by(LedgerAccount.id).with_for_update()
                 .execution_options(populate_existing=True))
        return (await self._session.scalars(query)).all()

    async def posting(self, posting_id: str) -> Posting | None:
        """The posting recorded under this id, read afresh, or None."""
        query = (select(Posting).where(Posting.posting_id == posting_id)
                 .execution_options(populate_existing=True))
        return (await self._session.scalars(query)).one_or_none()

    async def transfers_of(self, posting_id: str) -> Sequence[LedgerTransfer]:
        """The transfers of one posting, in order."""
        query = (select(LedgerTransfer).where(LedgerTransfer.posting_id == posting_id)
                 .order_by(LedgerTransfer.position))
        return (await self._session.scalars(query)).all()

    async def entries_page(self, account_id: int, limit: int, before_id: int | None,
                           kept: EntryFilter | None = None) -> list[LedgerTransfer]:
        """Up to ``limit`` transfers touching the account that ``kept`` keeps, newest (highest
        id) first.

        Two index range scans, one per side, merged: an OR over both columns would not use
        either index. Within one account ids grow in commit order because postings touching it
        hold its row lock while they insert, so the id is a stable cursor, filtered or not.
        """
        rows: list[LedgerTransfer] = []
        conditions = kept.conditions() if kept is not None else []
        for column in (LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id):
            query = select(LedgerTransfer).where(column == account_id, *conditions)
            if before_id is not None:
                query = query.where(LedgerTransfer.id < before_id)
            query = query.order_by(LedgerTransfer.id.desc()).limit(limit)
            rows.extend((await self._session.scalars(query)).all())
        rows.sort(key=lambda row: row.id, reverse=True)
        return rows[:limit]

    async def withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        """The withdrawal, unlocked, or None."""
        return await self._session.get(Withdrawal, withdrawal_id)

    async def lock_withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        """The withdrawal locked FOR UPDATE (before any account: the one lock order), or None."""
        query = (select(Withdrawal).where(Withdrawal.withdrawal_id == withdrawal_id)
                 .with_for_update().execution_options(populate_existing=True))
        return (await self._session.scalars(query)).one_or_none()

    async def move_withdrawal(self, withdrawal: Withdrawal, from_state: str, to_state: str
                              ) -> bool:
        """Moves the state only if it still is ``from_state``; True when it moved."""
        now = utc_now()
        result = await self._session.execute(
            update(Withdrawal)
            .where(Withdrawal.withdrawal_id == withdrawal.withdrawal_id,
                   Withdrawal.state == from_state)
            .values(state=to_state, updated_at=now)
            .execution_options(synchronize_session=False))
        moved = getattr(result, "rowcount", 0) == 1
        if moved:
            withdrawal.state, withdrawal.updated_at = to_state, now
        return moved

    async def steps_of(self, withdrawal_id: str) -> Sequence[WithdrawalStep]:
        """A withdrawal's audited steps, oldest first."""
        query = (select(WithdrawalStep).where(WithdrawalStep.withdrawal_id == withdrawal_id)
                 .order_by(WithdrawalStep.id))
        return (await self._session.scalars(query)).all()

    async def balance_folds(self) -> list[BalanceFold]:
        """Every account's stored balance and the credits minus debits of its transfers.

        One statement, so on MariaDB it reads one consistent snapshot even while postings run.
        """
        credits = (select(LedgerTransfer.credit_account_id.label("account_id"),
                          func.sum(LedgerTransfer.amount).label("total"))
                   .group_by(LedgerTransfer.credit_account_id).subquery())
        debits = (select(LedgerTransfer.debit_account_id.label("account_id"),
                         func.sum(LedgerTransfer.amount).label("total"))
                  .group_by(LedgerTransfer.debit_account_id).subquery())
        query = (select(LedgerAccount.id, LedgerAccount.currency, LedgerAccount.balance,
                        LedgerAccount.may_go_negative,
                        func.coalesce(credits.c.total, 0), func.coalesce(debits.c.total, 0))
                 .outerjoin(credits, credits.c.account_id == LedgerAccount.id)
                 .outerjoin(debits, debits.c.account_id == LedgerAccount.id)
                 .order_by(LedgerAccount.id))
        return [BalanceFold(int(account_id), currency, int(balance), int(credit) - int(debit),
                            bool(negative_ok))
                for account_id, currency, balance, negative_ok, credit, debit
                in (await self._session.execute(query)).all()]

    async def pending_accounts(self, owners: Sequence[str]) -> Sequence[LedgerAccount]:
        """Every merchant PENDING account (of ``owners`` only, when given), by owner, currency."""
        query = select(LedgerAccount).where(LedgerAccount.kind == "PENDING")
        if owners:
            query = query.where(LedgerAccount.owner.in_(owners))
        return (await self._session.scalars(
            query.order_by(LedgerAccount.owner, LedgerAccount.currency))).all()

    async def credit_days(self, account_id: int, through: str) -> list[str]:
        """The value days, up to ``through`` and ascending, on which the account was credited.

        Only such a day can net above zero. A read of the (credit_account_id, value_date)
        index: one step per day, not per transfer, where the engine skips through it.
        """
        query = (select(LedgerTransfer.value_date)
                 .where(LedgerTransfer.credit_account_id == account_id,
                        LedgerTransfer.value_date <= through)
                 .group_by(LedgerTransfer.value_date).order_by(LedgerTransfer.value_date))
        return list((await self._session.scalars(query)).all())

    async def credits_after(self, account_id: int, value_date: str) -> int:
        """Sum of the account's credits with a value date after this one, in fen."""
        summed = await self._session.scalar(
            select(func.coalesce(func.sum(LedgerTransfer.amount), 0))
            .where(LedgerTransfer.credit_account_id == account_id,
                   LedgerTransfer.value_date > value_date))
        return int(summed or 0)

    async def net_through(self, account_id: int, value_date: str) -> int:
        """Credits minus debits of the account's transfers with a value date up to and including
        this one, in fen."""
        total = 0
        for column, sign in ((LedgerTransfer.credit_account_id, 1),
                             (LedgerTransfer.debit_account_id, -1)):
            summed = await self._session.scalar(
                select(func.coalesce(func.sum(LedgerTransfer.amount), 0))
                .where(column == account_id, LedgerTransfer.value_date <= value_date))
            total += sign * int(summed or 0)
        return total

    async def recorded_postings(self, posting_ids: Sequence[str]) -> set[str]:
        """Those of ``posting_ids`` that are recorded (posted or refused)."""
        found: set[str] = set()
        for start in range(0, len(posting_ids), 500):
            chunk = posting_ids[start:start + 500]
            query = select(Posting.posting_id).where(Posting.posting_id.in_(chunk))
            found.update((await self._session.scalars(query)).all())
        return found

    async def balance_before(self, account_id: int, moment: datetime) -> int:
        """The account's balance after the last transfer recorded before ``moment``; 0 if none.

        "Last" is by recording time, then id, on whichever side the account was.
        """
        latest: tuple[datetime, int, int] | None = None
        for column, after in ((LedgerTransfer.credit_account_id,
                               LedgerTransfer.credit_balance_after),
                              (LedgerTransfer.debit_account_id,
                               LedgerTransfer.debit_balance_after)):
            row = (await self._session.execute(
                select(LedgerTransfer.created_at, LedgerTransfer.id, after)
                .where(column == account_id, LedgerTransfer.created_at < moment)
                .order_by(LedgerTransfer.created_at.desc(), LedgerTransfer.id.desc())
                .limit(1))).first()
            if row is not None and (latest is None or (row[0], row[1]) > latest[:2]):
                latest = (row[0], int(row[1]), int(row[2]))
        return 0 if latest is None else latest[2]

    async def code_sums(self, account_id: int, start: datetime, end: datetime
                        ) -> list[CodeSums]:
        """Per transfer code, what was credited to and debited from the account in
        [start, end), by code."""
        sums: dict[str, CodeSums] = {}
        for column, credit in ((LedgerTransfer.credit_account_id, True),
                               (LedgerTransfer.debit_account_id, False)):
            query = (select(LedgerTransfer.code, func.sum(LedgerTransfer.amount), func.count())
                     .where(column == account_id, LedgerTransfer.created_at >= start,
                            LedgerTransfer.created_at < end)
                     .group_by(LedgerTransfer.code))
            for code, amount, count in (await self._session.execute(query)).all():
                seen = sums.get(code, CodeSums(code, 0, 0, 0))
                sums[code] = CodeSums(code, seen.credits + (int(amount) if credit else 0),
                                      seen.debits + (0 if credit else int(amount)),
                                      seen.count + int(count))
        return [sums[code] for code in sorted(sums)]

    async def withdrawals_page(self, owner: str, state: str, limit: int,
                               after: tuple[datetime, str] | None) -> Sequence[Withdrawal]:
        """Up to ``limit`` withdrawals, newest request first (then by id, descending), of one
        owner and in one state when given, strictly after the (created_at, id) cursor."""
        query = select(Withdrawal)
        if owner:
            query = query.where(Withdrawal.owner == owner)
        if state:
            query = query.where(Withdrawal.state == state)
        if after is not None:
            moment, withdrawal_id = after
            query = query.where(or_(Withdrawal.created_at < moment,
                                    and_(Withdrawal.created_at == moment,
                                         Withdrawal.withdrawal_id < withdrawal_id)))
        query = query.order_by(Withdrawal.created_at.desc(),
                               Withdrawal.withdrawal_id.desc()).limit(limit)
        return (await self._session.scalars(query)).all()

    async def steps_of_many(self, withdrawal_ids: Sequence[str]
                            ) -> dict[str, list[WithdrawalStep]]:
        """The audited steps of several withdrawals, oldest first, by withdrawal id."""
        steps: dict[str, list[WithdrawalStep]] = {w: [] for w in withdrawal_ids}
        if withdrawal_ids:
            query = (select(WithdrawalStep)
                     .where(WithdrawalStep.withdrawal_id.in_(withdrawal_ids))
                     .order_by(WithdrawalStep.id))
            for step in (await self._session.scalars(query)).all():
                steps[step.withdrawal_id].append(step)
        return steps

    async def terms(self, owner: str, *, lock: bool = False) -> SettlementTerms | None:
        """A merchant's settlement terms (locked FOR UPDATE when asked), or None."""
        query = select(SettlementTerms).where(SettlementTerms.owner == owner)
        if lock:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self._session.scalars(query)).one_or_none()

    async def terms_of(self, owners: Sequence[str]) -> dict[str, int]:
        """The stored settle_days of those of ``owners`` that have terms."""
        found: dict[str, int] = {}
        for start in range(0, len(owners), 500):
            query = select(SettlementTerms.owner, SettlementTerms.settle_days).where(
                SettlementTerms.owner.in_(owners[start:start + 500]))
            found.update({o: int(d) for o, d in (await self._session.execute(query)).all()})
        return found
