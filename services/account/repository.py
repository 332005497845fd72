"""Queries over the account database, one session (one transaction) at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paymesh.services.account.models import (
    Base,
    LedgerAccount,
    LedgerTransfer,
    Posting,
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

    async def entries_page(self, account_id: int, limit: int, before_id: int | None
                           ) -> list[LedgerTransfer]:
        """Up to ``limit`` transfers touching the account, newest (highest id) first.

        Two index range scans, one per side, merged: an OR over both columns would not use
        either index. Within one account ids grow in commit order because postings touching it
        hold its row lock while they insert, so the id is a stable cursor.
        """
        rows: list[LedgerTransfer] = []
        for column in (LedgerTransfer.debit_account_id, LedgerTransfer.credit_account_id):
            query = select(LedgerTransfer).where(column == account_id)
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
