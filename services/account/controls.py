"""Operator controls of the ledger: freeze modes, held amounts and adjustments (调账).

Held amounts and adjustments are ordinary postings with ids derived from the caller's id, so
every posting rule (funds, freeze modes, currencies) and invariant applies and a retry moves
money once. A status change locks the account row, so it serialises with postings over it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.models import AccountStatusChange, LedgerAccount
from paymesh.services.account.posting import (
    AccountKind,
    AccountStatus,
    TransferSpec,
    parse_amount,
    parse_currency,
    parse_note,
    parse_operator,
    parse_owner,
    parse_short_id,
)
from paymesh.services.account.repository import AccountRepository
from paymesh.services.account.results import PostingResult
from paymesh.services.account.service import AccountService, retry_key_clash
from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import DomainError, NotFound

ADJUSTMENT = "ADJUSTMENT"
FREEZE, UNFREEZE = "FREEZE", "UNFREEZE"


@dataclass(frozen=True)
class StatusChange:
    """The account after SetAccountStatus, and whether its status changed."""

    account: LedgerAccount
    changed: bool


@dataclass(frozen=True)
class MerchantHold:
    """A merchant's AVAILABLE and FROZEN account ids in one currency."""

    available_id: int
    frozen_id: int


def audit_memo(operator: str, text: str) -> str:
    """The memo of an operator's transfer: who, then why."""
    return f"[{operator}] {text}"[:256]


async def open_frozen_account(ledger: AccountService,
                              sessions: async_sessionmaker[AsyncSession], owner: str,
                              currency: str) -> None:
    """Opens the merchant's FROZEN account when it has an AVAILABLE one and no FROZEN yet.

    Payments open only PENDING, and settlement AVAILABLE; the first hold or withdrawal opens
    FROZEN (idempotent, in its own short transaction before the step's).
    """
    async with sessions.begin() as session:
        repo = AccountRepository(session)
        available = await repo.account_of(owner, currency, AccountKind.AVAILABLE.value)
        frozen = await repo.account_of(owner, currency, AccountKind.FROZEN.value)
    if available is not None and frozen is None:
        await ledger.open_account(owner, currency, AccountKind.FROZEN)


async def merchant_hold(repo: AccountRepository, owner: str, currency: str) -> MerchantHold:
    """The merchant's AVAILABLE and FROZEN accounts, or ACCOUNT_NOT_FOUND naming the missing one."""
    ids = []
    for kind in (AccountKind.AVAILABLE, AccountKind.FROZEN):
        account = await repo.account_of(owner, currency, kind.value)
        if account is None:
            raise NotFound("ACCOUNT_NOT_FOUND",
                           f"{owner} has no {kind.value} account in {currency}")
        ids.append(account.id)
    return MerchantHold(ids[0], ids[1])


class AccountControls:
    """Operator actions over the accounts of one ledger."""

    def __init__(self, ledger: AccountService, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._ledger = ledger
        self._sessions = sessions

    async def set_status(self, account_id: int, status: AccountStatus, operator: str,
                         note: str) -> StatusChange:
        """Sets the freeze mode, audited; leaving CANCELLED is refused (ACCOUNT_CANCELLED)."""
        operator, note = parse_operator(operator), parse_note("note", note)

        async def work() -> StatusChange:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                locked = await repo.lock_accounts([account_id]) if account_id > 0 else []
                if not locked:
                    raise NotFound("ACCOUNT_NOT_FOUND", f"account {account_id} does not exist")
                account = locked[0]
                if account.status == status.value:
                    return StatusChange(account, False)
                if account.status == AccountStatus.CANCELLED.value:
                    raise DomainError("ACCOUNT_CANCELLED",
                                      f"account {account_id} is CANCELLED, which is final")
                now = utc_now()
                repo.add(AccountStatusChange(account_id=account_id, old_status=account.status,
                                             new_status=status.value, operator=operator,
                                             note=note, created_at=now))
                account.status, account.updated_at = status.value, now
                await repo.flush()
                return StatusChange(account, True)

        return await retry_key_clash(work)

    async def freeze_amount(self, freeze_id: str, owner: str, currency: str, amount: int,
                            operator: str, note: str) -> PostingResult:
        """Holds ``amount`` of the merchant's available funds: AVAILABLE → FROZEN."""
        return await self._hold(f"freeze:{parse_short_id('freeze_id', freeze_id)}", FREEZE,
                                owner, currency, amount, operator, note)

    async def unfreeze_amount(self, unfreeze_id: str, owner: str, currency: str, amount: int,
                              operator: str, note: str) -> PostingResult:
        """Releases ``amount`` of the merchant's held funds: FROZEN → AVAILABLE."""
        return await self._hold(f"unfreeze:{parse_short_id('unfreeze_id', unfreeze_id)}",
                                UNFREEZE, owner, currency, amount, operator, note)

    async def _hold(self, posting_id: str, code: str, owner: str, currency: str, amount: int,
                    operator: str, note: str) -> PostingResult:
        owner, currency = parse_owner(owner), parse_currency(currency)
        amount, operator = parse_amount(amount), parse_operator(operator)
        note = parse_note("note", note)
        await open_frozen_account(self._ledger, self._sessions, owner, currency)
        async with self._sessions.begin() as session:
            hold = await merchant_hold(AccountRepository(session), owner, currency)
        debit, credit = ((hold.available_id, hold.frozen_id) if code == FREEZE
                         else (hold.frozen_id, hold.available_id))
        return await self._ledger.post(posting_id, [TransferSpec(
            debit, credit, amount, code, audit_memo(operator, note))])

    async def adjust(self, adjustment_id: str, debit_account_id: int, credit_account_id: int,
                     amount: int, reason: str, operator: str) -> PostingResult:
        """An operator's adjustment: one ADJUSTMENT transfer whose memo keeps who and why."""
        posting_id = f"adj:{parse_short_id('adjustment_id', adjustment_id)}"
        reason, operator = parse_note("reason", reason, required=True), parse_operator(operator)
        return await self._ledger.post(posting_id, [TransferSpec(
            debit_account_id, credit_account_id, amount, ADJUSTMENT, audit_memo(operator, reason))])
