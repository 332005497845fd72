"""The account service's domain values as protobuf messages, and its enums both ways."""

from __future__ import annotations

from paymesh.account.v1 import account_pb2
from paymesh.services.account.audit import AuditedPosting
from paymesh.services.account.models import (
    POSTED,
    LedgerAccount,
    LedgerTransfer,
    WithdrawalStep,
)
from paymesh.services.account.results import Entry, InvariantReport
from paymesh.services.account.settlement import SettlementRun, SkipReason, Terms
from paymesh.services.account.statement import DailyStatement
from paymesh.services.account.withdrawals import WithdrawalState, WithdrawalView
from paymesh.services.common.timestamps import timestamp_of

KINDS = {
    account_pb2.ACCOUNT_KIND_PENDING: "PENDING",
    account_pb2.ACCOUNT_KIND_AVAILABLE: "AVAILABLE",
    account_pb2.ACCOUNT_KIND_FROZEN: "FROZEN",
    account_pb2.ACCOUNT_KIND_RESERVE: "RESERVE",
    account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING: "CHANNEL_CLEARING",
    account_pb2.ACCOUNT_KIND_FEE_INCOME: "FEE_INCOME",
    account_pb2.ACCOUNT_KIND_SETTLEMENT_PAYABLE: "SETTLEMENT_PAYABLE",
}
_KIND_PB = {kind: value for value, kind in KINDS.items()}
STATUSES = {
    account_pb2.ACCOUNT_STATUS_ACTIVE: "ACTIVE",
    account_pb2.ACCOUNT_STATUS_STOP_IN: "STOP_IN",
    account_pb2.ACCOUNT_STATUS_STOP_OUT: "STOP_OUT",
    account_pb2.ACCOUNT_STATUS_FROZEN: "FROZEN",
    account_pb2.ACCOUNT_STATUS_CANCELLED: "CANCELLED",
}
_STATUS_PB = {status: value for value, status in STATUSES.items()}
STATE_PB = {
    WithdrawalState.REQUESTED: account_pb2.WITHDRAWAL_STATE_REQUESTED,
    WithdrawalState.APPROVED: account_pb2.WITHDRAWAL_STATE_APPROVED,
    WithdrawalState.REJECTED: account_pb2.WITHDRAWAL_STATE_REJECTED,
    WithdrawalState.PAID: account_pb2.WITHDRAWAL_STATE_PAID,
    WithdrawalState.FAILED: account_pb2.WITHDRAWAL_STATE_FAILED,
}
STATES = {value: state for state, value in STATE_PB.items()}
_SKIP_PB = {
    SkipReason.HELD: account_pb2.SETTLEMENT_SKIP_REASON_HELD,
    SkipReason.ACCOUNT_STATUS: account_pb2.SETTLEMENT_SKIP_REASON_ACCOUNT_STATUS,
    SkipReason.PENDING_SHORT: account_pb2.SETTLEMENT_SKIP_REASON_PENDING_SHORT,
}


def account_pb(account: LedgerAccount) -> account_pb2.Account:
    """The proto of an account with its balance and freeze mode."""
    return account_pb2.Account(account_id=account.id, owner=account.owner,
                               currency=account.currency, kind=_KIND_PB[account.kind],
                               may_go_negative=account.may_go_negative, balance=account.balance,
                               create_time=timestamp_of(account.created_at),
                               status=_STATUS_PB[account.status])


def transfer_pb(transfer: LedgerTransfer) -> account_pb2.Transfer:
    """The proto of a recorded transfer."""
    return account_pb2.Transfer(transfer_id=transfer.id, posting_id=transfer.posting_id,
                                index=transfer.position,
                                debit_account_id=transfer.debit_account_id,
                                credit_account_id=transfer.credit_account_id,
                                amount=transfer.amount, code=transfer.code, memo=transfer.memo,
                                create_time=timestamp_of(transfer.created_at),
                                value_date=transfer.value_date)


def audited_posting_pb(found: AuditedPosting) -> account_pb2.LedgerPosting:
    """The proto of a posting read back for an audit, its transfers' accounts described."""
    def side(account_id: int) -> account_pb2.PostingAccount:
        account = found.accounts[account_id]
        return account_pb2.PostingAccount(account_id=account.id, owner=account.owner,
                                          currency=account.currency, kind=_KIND_PB[account.kind])

    posting = found.posting
    return account_pb2.LedgerPosting(
        posting_id=posting.posting_id,
        status=(account_pb2.POSTING_STATUS_POSTED if posting.status == POSTED
                else account_pb2.POSTING_STATUS_REFUSED),
        reason=posting.reason or "", create_time=timestamp_of(posting.created_at),
        transfers=[account_pb2.PostingTransfer(transfer=transfer_pb(t),
                                               debit_account=side(t.debit_account_id),
                                               credit_account=side(t.credit_account_id))
                   for t in found.transfers])


def entry_pb(entry: Entry) -> account_pb2.Entry:
    """The proto of one account's side of a transfer."""
    return account_pb2.Entry(transfer=transfer_pb(entry.transfer), amount=entry.amount,
                             balance_after=entry.balance_after,
                             counterparty_account_id=entry.counterparty_account_id)


def withdrawal_pb(view: WithdrawalView) -> account_pb2.Withdrawal:
    """The proto of a withdrawal with its audited steps."""
    w = view.withdrawal
    return account_pb2.Withdrawal(
        withdrawal_id=w.withdrawal_id, owner=w.owner, currency=w.currency, amount=w.amount,
        state=STATE_PB[WithdrawalState(w.state)], steps=[step_pb(s) for s in view.steps],
        create_time=timestamp_of(w.created_at), update_time=timestamp_of(w.updated_at))


def step_pb(step: WithdrawalStep) -> account_pb2.WithdrawalStep:
    """The proto of one audited withdrawal step."""
    return account_pb2.WithdrawalStep(state=STATE_PB[WithdrawalState(step.state)],
                                      operator=step.operator, note=step.note,
                                      posting_id=step.posting_id,
                                      create_time=timestamp_of(step.created_at))


def invariants_pb(report: InvariantReport) -> account_pb2.CheckInvariantsResponse:
    """The proto of the ledger audit."""
    return account_pb2.CheckInvariantsResponse(
        totals=[account_pb2.CurrencyTotal(currency=t.currency, total=t.total,
                                          account_count=t.account_count)
                for t in report.totals],
        discrepancies=[account_pb2.AccountDiscrepancy(
            account_id=d.account_id, stored_balance=d.stored_balance,
            transfers_balance=d.transfers_balance, disallowed_negative=d.disallowed_negative)
            for d in report.discrepancies],
        sound=report.sound)


def terms_pb(terms: Terms) -> account_pb2.SettlementTerms:
    """The proto of a merchant's settlement terms."""
    return account_pb2.SettlementTerms(owner=terms.owner, settle_days=terms.settle_days,
                                       is_default=terms.is_default, operator=terms.operator,
                                       note=terms.note,
                                       update_time=timestamp_of(terms.updated_at))


def settle_due_pb(run: SettlementRun) -> account_pb2.SettleDueResponse:
    """The proto of what a settlement run did."""
    return account_pb2.SettleDueResponse(
        merchants_examined=run.merchants_examined, postings_made=len(run.postings),
        totals=[account_pb2.SettledTotal(currency=c, amount=a, posting_count=n)
                for c, a, n in run.totals()],
        postings=[account_pb2.SettlementPosting(owner=p.owner, currency=p.currency,
                                                value_date=p.value_date, amount=p.amount,
                                                posting_id=p.posting_id)
                  for p in run.postings],
        skipped=[account_pb2.SettlementSkip(owner=s.owner, currency=s.currency,
                                            value_date=s.value_date, reason=_SKIP_PB[s.reason],
                                            amount=s.amount, message=s.message)
                 for s in run.skipped],
        today=run.today.isoformat())


def statement_pb(statement: DailyStatement) -> account_pb2.GetDailyStatementResponse:
    """The proto of a merchant's daily statement."""
    return account_pb2.GetDailyStatementResponse(
        owner=statement.owner, date=statement.day.isoformat(),
        window_start=timestamp_of(statement.start), window_end=timestamp_of(statement.end),
        accounts=[account_pb2.AccountStatement(
            account_id=a.account.id, currency=a.account.currency,
            kind=_KIND_PB[a.account.kind], opening_balance=a.opening, credits=a.credits,
            debits=a.debits, closing_balance=a.closing, entry_count=a.entry_count,
            codes=[account_pb2.CodeTotal(code=c.code, credits=c.credits, debits=c.debits,
                                         entry_count=c.count) for c in a.codes])
            for a in statement.accounts])
