"""What the ledger's operations return: plain values, free of storage sessions and gRPC."""

from __future__ import annotations

from dataclasses import dataclass

from paymesh.services.account.models import LedgerAccount, LedgerTransfer


@dataclass(frozen=True)
class OpenedAccount:
    """An account and whether this call opened it."""

    account: LedgerAccount
    created: bool


@dataclass(frozen=True)
class PostingResult:
    """The transfers a posting recorded, and whether this call only replayed it."""

    transfers: list[LedgerTransfer]
    replayed: bool


@dataclass(frozen=True)
class Entry:
    """One account's side of a transfer: signed amount, balance after, the other account."""

    transfer: LedgerTransfer
    amount: int
    balance_after: int
    counterparty_account_id: int


@dataclass(frozen=True)
class EntryPage:
    """A page of entries, newest first, and the cursor of the next (older) page."""

    entries: list[Entry]
    next_token: str
    has_more: bool


@dataclass(frozen=True)
class CurrencyTotal:
    """The sum of every balance in one currency (0 when sound) and how many accounts."""

    currency: str
    total: int
    account_count: int


@dataclass(frozen=True)
class Discrepancy:
    """An account whose stored balance disagrees with its transfers or is wrongly negative."""

    account_id: int
    stored_balance: int
    transfers_balance: int
    disallowed_negative: bool


@dataclass(frozen=True)
class InvariantReport:
    """The audit of the whole ledger; ``sound`` when every total is 0 and nothing disagrees."""

    totals: list[CurrencyTotal]
    discrepancies: list[Discrepancy]

    @property
    def sound(self) -> bool:
        """True when every total is 0 and no account breaks an invariant."""
        return not self.discrepancies and all(t.total == 0 for t in self.totals)
