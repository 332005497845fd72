"""The posting rules of the ledger, free of storage and gRPC so they can be tested alone.

A posting is a caller-identified set of transfers applied in order, all or none (TigerBeetle's
linked transfers). Every balance is credits minus debits; an account whose kind does not allow a
negative balance refuses a debit that would take it below zero.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from paymesh.services.account.days import parse_day
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound

MAX_AMOUNT = 10**15  # fen: ten trillion yuan per transfer, far above any real movement
BALANCE_LIMIT = 2**63 - 1  # a balance must fit the int64 of the proto and the BIGINT column
MAX_TRANSFERS = 1000
_ID = re.compile(r"[\x21-\x7e]{1,64}")
_CODE = re.compile(r"[A-Z0-9_]{1,32}")
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_MEMO = 256


class AccountKind(StrEnum):
    """What an account holds; stored by name."""

    PENDING = "PENDING"
    AVAILABLE = "AVAILABLE"
    FROZEN = "FROZEN"
    RESERVE = "RESERVE"
    CHANNEL_CLEARING = "CHANNEL_CLEARING"
    FEE_INCOME = "FEE_INCOME"
    SETTLEMENT_PAYABLE = "SETTLEMENT_PAYABLE"


class AccountStatus(StrEnum):
    """Freeze mode of an account (§2.2); stored by name. CANCELLED is final."""

    ACTIVE = "ACTIVE"
    STOP_IN = "STOP_IN"  # 冻结止收: refuses credits
    STOP_OUT = "STOP_OUT"  # 冻结止付: refuses debits
    FROZEN = "FROZEN"  # 完全冻结: refuses both
    CANCELLED = "CANCELLED"  # 已注销: refuses both, for ever


_CREDIT_OK = frozenset({AccountStatus.ACTIVE, AccountStatus.STOP_OUT})
_DEBIT_OK = frozenset({AccountStatus.ACTIVE, AccountStatus.STOP_IN})


def allows_credit(status: AccountStatus) -> bool:
    """Whether an account in this mode may be credited (its balance raised)."""
    return status in _CREDIT_OK


def allows_debit(status: AccountStatus) -> bool:
    """Whether an account in this mode may be debited (its balance lowered)."""
    return status in _DEBIT_OK


MERCHANT_KINDS = frozenset({AccountKind.PENDING, AccountKind.AVAILABLE, AccountKind.FROZEN,
                            AccountKind.RESERVE})
# Debit-normal accounts: what others hold for the platform. Their credits-minus-debits balance
# is negative in normal operation (a pay success debits the channel's clearing account).
NEGATIVE_ALLOWED_KINDS = frozenset({AccountKind.CHANNEL_CLEARING})


def may_go_negative(kind: AccountKind) -> bool:
    """Whether an account of this kind may hold a balance below zero."""
    return kind in NEGATIVE_ALLOWED_KINDS


@dataclass(frozen=True)
class TransferSpec:
    """One transfer as the caller asks for it: debit one account, credit another."""

    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str = ""
    memo: str = ""
    value_date: str = ""  # "YYYY-MM-DD" in UTC+8; empty: the day the posting is recorded


@dataclass(frozen=True)
class AccountState:
    """What the rules need to know of an account: currency, balance, overdraft flag, mode."""

    account_id: int
    currency: str
    balance: int
    may_go_negative: bool
    status: AccountStatus = AccountStatus.ACTIVE


class PostingRefused(DomainError):
    """The ledger's state refuses the posting; recorded, so a retry of the id is refused too."""

    def __init__(self, reason: str, message: str, account_id: int) -> None:
        super().__init__(reason, message,
                         code=NotFound.code if reason == "ACCOUNT_NOT_FOUND" else None)
        self.account_id = account_id


def parse_owner(owner: str) -> str:
    """The owner, or InvalidArgument when it is not 1..64 printable ASCII characters."""
    if not _ID.fullmatch(owner):
        raise InvalidArgument("owner", "owner must be 1..64 printable ASCII characters")
    return owner


def parse_currency(currency: str) -> str:
    """The currency, or InvalidArgument when it is not three upper-case letters."""
    if not _CURRENCY.fullmatch(currency):
        raise InvalidArgument("currency", "currency must be three upper-case letters (ISO 4217)")
    return currency


def parse_posting_id(posting_id: str) -> str:
    """The posting id, or InvalidArgument when it is not 1..64 printable ASCII characters."""
    if not _ID.fullmatch(posting_id):
        raise InvalidArgument("posting_id", "posting_id must be 1..64 printable ASCII characters")
    return posting_id


def is_code(code: str) -> bool:
    """Whether ``code`` is a transfer code: 1..32 of A-Z, 0-9 and _."""
    return _CODE.fullmatch(code) is not None


def validate_transfers(transfers: Sequence[TransferSpec]) -> None:
    """Refuses a posting that is malformed whatever the ledger holds (not recorded)."""
    if not 1 <= len(transfers) <= MAX_TRANSFERS:
        raise InvalidArgument("transfers", f"a posting has 1..{MAX_TRANSFERS} transfers")
    for i, t in enumerate(transfers):
        if t.debit_account_id < 1:
            raise InvalidArgument(f"transfers[{i}].debit_account_id", "debit_account_id ≥ 1")
        if t.credit_account_id < 1:
            raise InvalidArgument(f"transfers[{i}].credit_account_id", "credit_account_id ≥ 1")
        if t.debit_account_id == t.credit_account_id:
            raise InvalidArgument(f"transfers[{i}].credit_account_id",
                                  "a transfer debits and credits two different accounts")
        if not 1 <= t.amount <= MAX_AMOUNT:
            raise InvalidArgument(f"transfers[{i}].amount", f"amount in fen is 1..{MAX_AMOUNT}")
        if not _CODE.fullmatch(t.code):
            raise InvalidArgument(f"transfers[{i}].code", "code is 1..32 of A-Z, 0-9 and _")
        if len(t.memo) > MAX_MEMO:
            raise InvalidArgument(f"transfers[{i}].memo", f"memo is at most {MAX_MEMO} characters")
        if t.value_date:
            parse_day(f"transfers[{i}].value_date", t.value_date)


def fingerprint(transfers: Sequence[TransferSpec]) -> str:
    """A digest of the posting's content, so a reused id with other content is recognised.

    A given value date is part of the content; an empty one (the ledger picks the recording
    day) leaves the digest as it was before value dates existed, so postings recorded then
    still replay.
    """
    canonical = [[t.debit_account_id, t.credit_account_id, t.amount, t.code, t.memo,
                  *([t.value_date] if t.value_date else [])]
                 for t in transfers]
    raw = json.dumps(canonical, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def account_ids(transfers: Sequence[TransferSpec]) -> list[int]:
    """Every account the posting touches, ascending: the order in which they are locked."""
    return sorted({i for t in transfers for i in (t.debit_account_id, t.credit_account_id)})


@dataclass(frozen=True)
class AppliedTransfer:
    """A transfer with both accounts' balances right after it."""

    spec: TransferSpec
    debit_balance_after: int
    credit_balance_after: int


def apply_posting(accounts: Mapping[int, AccountState], transfers: Sequence[TransferSpec]
                  ) -> tuple[dict[int, int], list[AppliedTransfer]]:
    """The new balances of the touched accounts and each transfer's effect, or a refusal.

    Transfers apply in order; each one sees the balances the earlier ones left. Nothing is
    returned unless every transfer passes, which is what makes a posting all or none.
    """
    balances = {account_id: state.balance for account_id, state in accounts.items()}
    applied = []
    for i, t in enumerate(transfers):
        debit, credit = _account(accounts, t.debit_account_id), _account(accounts,
                                                                          t.credit_account_id)
        if debit.currency != credit.currency:
            raise PostingRefused("CURRENCY_MISMATCH",
                                 f"transfer {i}: account {debit.account_id} is {debit.currency}, "
                                 f"account {credit.account_id} is {credit.currency}",
                                 credit.account_id)
        _check_status(i, debit, credit)
        new_debit = balances[debit.account_id] - t.amount
        new_credit = balances[credit.account_id] + t.amount
        if new_debit < 0 and not debit.may_go_negative:
            raise PostingRefused("INSUFFICIENT_FUNDS",
                                 f"transfer {i}: account {debit.account_id} has insufficient "
                                 f"funds: balance {balances[debit.account_id]}, debit {t.amount}",
                                 debit.account_id)
        for account_id, balance in ((debit.account_id, new_debit), (credit.account_id, new_credit)):
            if not -BALANCE_LIMIT <= balance <= BALANCE_LIMIT:
                raise PostingRefused("BALANCE_LIMIT_EXCEEDED",
                                     f"transfer {i}: account {account_id} would leave the int64 "
                                     "range", account_id)
        balances[debit.account_id], balances[credit.account_id] = new_debit, new_credit
        applied.append(AppliedTransfer(t, new_debit, new_credit))
    return balances, applied


def _check_status(index: int, debit: AccountState, credit: AccountState) -> None:
    """Refuses a transfer that the debit or the credit account's freeze mode forbids."""
    if not allows_debit(debit.status):
        raise PostingRefused("ACCOUNT_STATUS",
                             f"transfer {index}: account {debit.account_id} is "
                             f"{debit.status.value} and refuses debits", debit.account_id)
    if not allows_credit(credit.status):
        raise PostingRefused("ACCOUNT_STATUS",
                             f"transfer {index}: account {credit.account_id} is "
                             f"{credit.status.value} and refuses credits", credit.account_id)


def _account(accounts: Mapping[int, AccountState], account_id: int) -> AccountState:
    state = accounts.get(account_id)
    if state is None:
        raise PostingRefused("ACCOUNT_NOT_FOUND", f"account {account_id} does not exist",
                             account_id)
    return state


_SHORT_ID = re.compile(r"[\x21-\x7e]{1,48}")
MAX_NOTE = 200


def parse_short_id(field: str, value: str) -> str:
    """An idempotency id that a derived posting id (prefix + id + step) keeps within 64."""
    if not _SHORT_ID.fullmatch(value):
        raise InvalidArgument(field, f"{field} must be 1..48 printable ASCII characters")
    return value


def parse_operator(operator: str) -> str:
    """Who acts, for the audit trail: 1..64 printable ASCII characters."""
    if not _ID.fullmatch(operator):
        raise InvalidArgument("operator", "operator must be 1..64 printable ASCII characters")
    return operator


def parse_note(field: str, note: str, *, required: bool = False) -> str:
    """Free audit text, at most 200 characters (and not empty when required)."""
    if len(note) > MAX_NOTE or (required and not note.strip()):
        raise InvalidArgument(field, f"{field} is {'1' if required else '0'}..{MAX_NOTE} "
                                     "characters")
    return note


def parse_amount(amount: int) -> int:
    """An amount in fen, 1..MAX_AMOUNT."""
    if not 1 <= amount <= MAX_AMOUNT:
        raise InvalidArgument("amount", f"amount in fen is 1..{MAX_AMOUNT}")
    return amount
