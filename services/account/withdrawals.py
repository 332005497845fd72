"""Withdrawals (提现): hold the amount, approve or reject, then paid or failed (§3.4).

Each step is one transaction that locks the withdrawal row, checks its state, moves the state by
a conditional UPDATE, records the audited step (unique per withdrawal and state) and posts the
money, all or none. A retried step finds its step row and returns the withdrawal unchanged, so
it moves money once; the derived posting ids (``wd:<id>:<state>``) make that visible in the
ledger too. A refused posting rolls the step back, so it may be tried again later.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.account.controls import audit_memo, merchant_hold, open_frozen_account
from paymesh.services.account.models import Withdrawal, WithdrawalStep
from paymesh.services.account.posting import (
    AccountKind,
    TransferSpec,
    parse_amount,
    parse_currency,
    parse_note,
    parse_operator,
    parse_owner,
    parse_short_id,
)
from paymesh.services.account.repository import AccountRepository
from paymesh.services.account.service import AccountService, retry_key_clash
from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import AlreadyExists, DomainError, InvalidArgument, NotFound

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100


class WithdrawalState(StrEnum):
    """Where a withdrawal stands; stored by name."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    PAID = "PAID"
    FAILED = "FAILED"


# The state each step leaves from, keyed by the state it reaches.
STEP_FROM = {
    WithdrawalState.APPROVED: WithdrawalState.REQUESTED,
    WithdrawalState.REJECTED: WithdrawalState.REQUESTED,
    WithdrawalState.PAID: WithdrawalState.APPROVED,
    WithdrawalState.FAILED: WithdrawalState.APPROVED,
}
# The transfer code of each step that moves money.
STEP_CODE = {
    WithdrawalState.REQUESTED: "WITHDRAWAL_FREEZE",
    WithdrawalState.REJECTED: "WITHDRAWAL_REJECT",
    WithdrawalState.PAID: "WITHDRAWAL_PAID",
    WithdrawalState.FAILED: "WITHDRAWAL_FAILED",
}


@dataclass(frozen=True)
class WithdrawalView:
    """A withdrawal with its audited steps, and whether this call only replayed a step."""

    withdrawal: Withdrawal
    steps: list[WithdrawalStep]
    replayed: bool


@dataclass(frozen=True)
class WithdrawalPage:
    """A page of withdrawals, newest first, and the cursor of the next (older) page."""

    withdrawals: list[WithdrawalView]
    next_token: str
    has_more: bool


def posting_id_of(withdrawal_id: str, state: WithdrawalState) -> str:
    """The posting id of the step that reaches ``state``."""
    return f"wd:{withdrawal_id}:{state.value.lower()}"


class WithdrawalService:
    """Withdrawals over one ledger; paid amounts go to ``platform_owner``'s SETTLEMENT_PAYABLE."""

    def __init__(self, ledger: AccountService, sessions: async_sessionmaker[AsyncSession],
                 platform_owner: str = "platform") -> None:
        self._ledger = ledger
        self._sessions = sessions
        self._platform_owner = platform_owner

    async def request(self, withdrawal_id: str, owner: str, currency: str, amount: int,
                      operator: str, note: str) -> WithdrawalView:
        """Records the withdrawal in REQUESTED and posts AVAILABLE → FROZEN, once per id."""
        withdrawal_id = parse_short_id("withdrawal_id", withdrawal_id)
        owner, currency = parse_owner(owner), parse_currency(currency)
        amount, operator = parse_amount(amount), parse_operator(operator)
        note = parse_note("note", note)
        await open_frozen_account(self._ledger, self._sessions, owner, currency)

        async def work() -> WithdrawalView:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                earlier = await repo.lock_withdrawal(withdrawal_id)
                if earlier is not None:
                    if (earlier.owner, earlier.currency, earlier.amount) != (owner, currency,
                                                                           amount):
                        raise AlreadyExists("WITHDRAWAL_ID_REUSED",
                                            f"withdrawal {withdrawal_id} was requested with "
                                            "another owner, currency or amount")
                    return await _view(repo, earlier, replayed=True)
                hold = await merchant_hold(repo, owner, currency)
                now = utc_now()
                withdrawal = Withdrawal(withdrawal_id=withdrawal_id, owner=owner,
                                        currency=currency, amount=amount,
                                        state=WithdrawalState.REQUESTED.value,
                                        available_account_id=hold.available_id,
                                        frozen_account_id=hold.frozen_id, created_at=now,
                                        updated_at=now)
                repo.add(withdrawal)
                await repo.flush()
                await self._step(repo, withdrawal, WithdrawalState.REQUESTED, operator, note,
                                 hold.available_id, hold.frozen_id)
                return await _view(repo, withdrawal, replayed=False)

        return await retry_key_clash(work)  # a concurrent request of the same id wins the race

    async def get(self, withdrawal_id: str) -> WithdrawalView:
        """The withdrawal with its steps, or WITHDRAWAL_NOT_FOUND."""
        withdrawal_id = parse_short_id("withdrawal_id", withdrawal_id)
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            withdrawal = await repo.withdrawal(withdrawal_id)
            if withdrawal is None:
                raise NotFound("WITHDRAWAL_NOT_FOUND", f"withdrawal {withdrawal_id} does not exist")
            return await _view(repo, withdrawal, replayed=False)

    async def page(self, owner: str, state: WithdrawalState | None, page_size: int,
                   page_token: str) -> WithdrawalPage:
        """Withdrawals, newest request first, of one owner and in one state when given."""
        if owner:
            owner = parse_owner(owner)
        page_size = page_size or DEFAULT_PAGE_SIZE
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page.page_size", f"page_size must be 1..{MAX_PAGE_SIZE}")
        after = decode_withdrawal_cursor(page_token) if page_token else None
        async with self._sessions.begin() as session:
            repo = AccountRepository(session)
            rows = list(await repo.withdrawals_page(owner, state.value if state else "",
                                                    page_size + 1, after))
            page = rows[:page_size]
            steps = await repo.steps_of_many([w.withdrawal_id for w in page])
        has_more = len(rows) > page_size
        token = encode_withdrawal_cursor(page[-1].created_at, page[-1].withdrawal_id) \
            if has_more else ""
        return WithdrawalPage([WithdrawalView(w, steps[w.withdrawal_id], False) for w in page],
                              token, has_more)

    async def approve(self, withdrawal_id: str, operator: str, note: str) -> WithdrawalView:
        """REQUESTED → APPROVED; no money moves."""
        return await self._advance(withdrawal_id, WithdrawalState.APPROVED, operator, note)

    async def reject(self, withdrawal_id: str, operator: str, note: str) -> WithdrawalView:
        """REQUESTED → REJECTED; FROZEN → AVAILABLE."""
        return await self._advance(withdrawal_id, WithdrawalState.REJECTED, operator, note)

    async def mark_paid(self, withdrawal_id: str, operator: str, note: str) -> WithdrawalView:
        """APPROVED → PAID; FROZEN → the platform's SETTLEMENT_PAYABLE."""
        return await self._advance(withdrawal_id, WithdrawalState.PAID, operator, note)

    async def mark_failed(self, withdrawal_id: str, operator: str, note: str) -> WithdrawalView:
        """APPROVED → FAILED; FROZEN → AVAILABLE."""
        return await self._advance(withdrawal_id, WithdrawalState.FAILED, operator, note)

    async def _advance(self, withdrawal_id: str, to: WithdrawalState, operator: str,
                       note: str) -> WithdrawalView:
        withdrawal_id = parse_short_id("withdrawal_id", withdrawal_id)
        operator, note = parse_operator(operator), parse_note("note", note)
        payable: dict[str, int] = {}
        if to is WithdrawalState.PAID:  # resolved before the step's transaction takes locks
            async with self._sessions.begin() as session:
                found = await AccountRepository(session).withdrawal(withdrawal_id)
            if found is not None:
                payable[found.currency] = await self._payable_id(found.currency)

        async def work() -> WithdrawalView:
            async with self._sessions.begin() as session:
                repo = AccountRepository(session)
                withdrawal = await repo.lock_withdrawal(withdrawal_id)
                if withdrawal is None:
                    raise NotFound("WITHDRAWAL_NOT_FOUND",
                                   f"withdrawal {withdrawal_id} does not exist")
                if any(s.state == to.value for s in await repo.steps_of(withdrawal_id)):
                    return await _view(repo, withdrawal, replayed=True)
                allowed = STEP_FROM[to]
                if not await repo.move_withdrawal(withdrawal, allowed.value, to.value):
                    raise DomainError("WITHDRAWAL_STATE",
                                      f"withdrawal {withdrawal_id} is {withdrawal.state}; "
                                      f"{to.value} needs {allowed.value}")
                debit, credit = withdrawal.frozen_account_id, withdrawal.available_account_id
                if to is WithdrawalState.PAID:
                    credit = payable[withdrawal.currency]
                await self._step(repo, withdrawal, to, operator, note, debit, credit)
                return await _view(repo, withdrawal, replayed=False)

        return await retry_key_clash(work)

    async def _step(self, repo: AccountRepository, withdrawal: Withdrawal, to: WithdrawalState,
                    operator: str, note: str, debit: int, credit: int) -> None:
        """Records the audited step and, for a step that moves money, its posting."""
        code = STEP_CODE.get(to)
        posting_id = posting_id_of(withdrawal.withdrawal_id, to) if code else ""
        repo.add(WithdrawalStep(withdrawal_id=withdrawal.withdrawal_id, state=to.value,
                                operator=operator, note=note, posting_id=posting_id,
                                created_at=utc_now()))
        await repo.flush()
        if code:
            memo = audit_memo(operator, f"withdrawal {withdrawal.withdrawal_id} {to.value}")
            await self._ledger.post_within(repo, posting_id, [TransferSpec(
                debit, credit, withdrawal.amount, code, memo)])

    async def _payable_id(self, currency: str) -> int:
        """The platform's SETTLEMENT_PAYABLE account in this currency, opened when missing.

        Opened in its own short transaction before the step's: opening is idempotent, so a step
        refused afterwards leaves only an empty account behind.
        """
        opened = await self._ledger.open_account(self._platform_owner, currency,
                                                 AccountKind.SETTLEMENT_PAYABLE)
        return opened.account.id


async def _view(repo: AccountRepository, withdrawal: Withdrawal, *, replayed: bool
                ) -> WithdrawalView:
    return WithdrawalView(withdrawal, list(await repo.steps_of(withdrawal.withdrawal_id)),
                          replayed)


def encode_withdrawal_cursor(created_at: datetime, withdrawal_id: str) -> str:
    """The opaque page token that resumes a withdrawal listing after this one."""
    raw = json.dumps({"t": created_at.isoformat(), "id": withdrawal_id}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_withdrawal_cursor(token: str) -> tuple[datetime, str]:
    """The (created_at, withdrawal_id) an ``encode_withdrawal_cursor`` token names."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        moment, withdrawal_id = datetime.fromisoformat(raw["t"]), raw["id"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor") from None
    if moment.tzinfo is None or not isinstance(withdrawal_id, str):
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor")
    return moment, withdrawal_id
