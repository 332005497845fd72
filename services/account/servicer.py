"""AccountService over gRPC: protobuf in, domain calls, protobuf out; no business rules here."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.services.account.controls import AccountControls
from paymesh.services.account.models import LedgerAccount, LedgerTransfer, WithdrawalStep
from paymesh.services.account.posting import AccountKind, AccountStatus, TransferSpec
from paymesh.services.account.results import PostingResult
from paymesh.services.account.service import AccountService, Entry, InvariantReport
from paymesh.services.account.withdrawals import (
    WithdrawalService,
    WithdrawalState,
    WithdrawalView,
)
from paymesh.services.common.edge import refuse_edge, require_admin
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.timestamps import timestamp_of

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
_KINDS = {
    account_pb2.ACCOUNT_KIND_PENDING: AccountKind.PENDING,
    account_pb2.ACCOUNT_KIND_AVAILABLE: AccountKind.AVAILABLE,
    account_pb2.ACCOUNT_KIND_FROZEN: AccountKind.FROZEN,
    account_pb2.ACCOUNT_KIND_RESERVE: AccountKind.RESERVE,
    account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING: AccountKind.CHANNEL_CLEARING,
    account_pb2.ACCOUNT_KIND_FEE_INCOME: AccountKind.FEE_INCOME,
    account_pb2.ACCOUNT_KIND_SETTLEMENT_PAYABLE: AccountKind.SETTLEMENT_PAYABLE,
}
_KIND_PB = {kind: value for value, kind in _KINDS.items()}
_STATUSES = {
    account_pb2.ACCOUNT_STATUS_ACTIVE: AccountStatus.ACTIVE,
    account_pb2.ACCOUNT_STATUS_STOP_IN: AccountStatus.STOP_IN,
    account_pb2.ACCOUNT_STATUS_STOP_OUT: AccountStatus.STOP_OUT,
    account_pb2.ACCOUNT_STATUS_FROZEN: AccountStatus.FROZEN,
    account_pb2.ACCOUNT_STATUS_CANCELLED: AccountStatus.CANCELLED,
}
_STATUS_PB = {status: value for value, status in _STATUSES.items()}
_STATE_PB = {
    WithdrawalState.REQUESTED: account_pb2.WITHDRAWAL_STATE_REQUESTED,
    WithdrawalState.APPROVED: account_pb2.WITHDRAWAL_STATE_APPROVED,
    WithdrawalState.REJECTED: account_pb2.WITHDRAWAL_STATE_REJECTED,
    WithdrawalState.PAID: account_pb2.WITHDRAWAL_STATE_PAID,
    WithdrawalState.FAILED: account_pb2.WITHDRAWAL_STATE_FAILED,
}


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    """Ledger writes are internal to the mesh; reads and operator actions at the edge need the
    admin token."""

    def __init__(self, service: AccountService, controls: AccountControls,
                 withdrawals: WithdrawalService, admin_token: str | None) -> None:
        self._service = service
        self._controls = controls
        self._withdrawals = withdrawals
        self._admin_token = admin_token

    async def OpenAccount(self, request: account_pb2.OpenAccountRequest, context: Ctx
                          ) -> account_pb2.OpenAccountResponse:
        refuse_edge(context)
        kind = _KINDS.get(request.kind)
        if kind is None:
            raise InvalidArgument("kind", "kind must be one of the ACCOUNT_KIND_ values")
        opened = await self._service.open_account(request.owner, request.currency, kind)
        return account_pb2.OpenAccountResponse(account=account_pb(opened.account),
                                               created=opened.created)

    async def Post(self, request: account_pb2.PostRequest, context: Ctx
                   ) -> account_pb2.PostResponse:
        refuse_edge(context)
        specs = [TransferSpec(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.memo)
                 for t in request.transfers]
        result = await self._service.post(request.posting_id, specs)
        return account_pb2.PostResponse(transfers=[transfer_pb(t) for t in result.transfers],
                                        replayed=result.replayed)

    async def GetBalances(self, request: account_pb2.GetBalancesRequest, context: Ctx
                          ) -> account_pb2.GetBalancesResponse:
        require_admin(context, self._admin_token)
        accounts = await self._service.balances(request.account_id, request.owner)
        return account_pb2.GetBalancesResponse(accounts=[account_pb(a) for a in accounts])

    async def ListEntries(self, request: account_pb2.ListEntriesRequest, context: Ctx
                          ) -> account_pb2.ListEntriesResponse:
        require_admin(context, self._admin_token)
        page = await self._service.entries(request.account_id, request.page.page_size,
                                           request.page.page_token)
        return account_pb2.ListEntriesResponse(
            entries=[entry_pb(e) for e in page.entries],
            page=common_pb2.PageResponse(next_page_token=page.next_token,
                                         has_more=page.has_more))

    async def CheckInvariants(self, request: account_pb2.CheckInvariantsRequest, context: Ctx
                              ) -> account_pb2.CheckInvariantsResponse:
        require_admin(context, self._admin_token)
        return invariants_pb(await self._service.check_invariants())

    async def SetAccountStatus(self, request: account_pb2.SetAccountStatusRequest, context: Ctx
                               ) -> account_pb2.SetAccountStatusResponse:
        require_admin(context, self._admin_token)
        status = _STATUSES.get(request.status)
        if status is None:
            raise InvalidArgument("status", "status must be one of the ACCOUNT_STATUS_ values")
        change = await self._controls.set_status(request.account_id, status, request.operator,
                                                 request.note)
        return account_pb2.SetAccountStatusResponse(account=account_pb(change.account),
                                                    changed=change.changed)

    async def FreezeAmount(self, request: account_pb2.FreezeAmountRequest, context: Ctx
                           ) -> account_pb2.FreezeAmountResponse:
        require_admin(context, self._admin_token)
        result = await self._controls.freeze_amount(request.freeze_id, request.owner,
                                                    request.currency, request.amount,
                                                    request.operator, request.note)
        return account_pb2.FreezeAmountResponse(transfer=_single(result),
                                                replayed=result.replayed)

    async def UnfreezeAmount(self, request: account_pb2.UnfreezeAmountRequest, context: Ctx
                             ) -> account_pb2.UnfreezeAmountResponse:
        require_admin(context, self._admin_token)
        result = await self._controls.unfreeze_amount(request.unfreeze_id, request.owner,
                                                      request.currency, request.amount,
                                                      request.operator, request.note)
        return account_pb2.UnfreezeAmountResponse(transfer=_single(result),
                                                  replayed=result.replayed)

    async def RequestWithdrawal(self, request: account_pb2.RequestWithdrawalRequest, context: Ctx
                                ) -> account_pb2.RequestWithdrawalResponse:
        refuse_edge(context)
        view = await self._withdrawals.request(request.withdrawal_id, request.owner,
                                               request.currency, request.amount,
                                               request.operator, request.note)
        return account_pb2.RequestWithdrawalResponse(withdrawal=withdrawal_pb(view),
                                                     replayed=view.replayed)

    async def ApproveWithdrawal(self, request: account_pb2.ApproveWithdrawalRequest, context: Ctx
                                ) -> account_pb2.ApproveWithdrawalResponse:
        require_admin(context, self._admin_token)
        view = await self._withdrawals.approve(request.withdrawal_id, request.operator,
                                               request.note)
        return account_pb2.ApproveWithdrawalResponse(withdrawal=withdrawal_pb(view),
                                                     replayed=view.replayed)

    async def RejectWithdrawal(self, request: account_pb2.RejectWithdrawalRequest, context: Ctx
                               ) -> account_pb2.RejectWithdrawalResponse:
        require_admin(context, self._admin_token)
        view = await self._withdrawals.reject(request.withdrawal_id, request.operator,
                                              request.note)
        return account_pb2.RejectWithdrawalResponse(withdrawal=withdrawal_pb(view),
                                                    replayed=view.replayed)

    async def MarkWithdrawalPaid(self, request: account_pb2.MarkWithdrawalPaidRequest,
                                 context: Ctx) -> account_pb2.MarkWithdrawalPaidResponse:
        refuse_edge(context)
        view = await self._withdrawals.mark_paid(request.withdrawal_id, request.operator,
                                                 request.note)
        return account_pb2.MarkWithdrawalPaidResponse(withdrawal=withdrawal_pb(view),
                                                      replayed=view.replayed)

    async def MarkWithdrawalFailed(self, request: account_pb2.MarkWithdrawalFailedRequest,
                                   context: Ctx) -> account_pb2.MarkWithdrawalFailedResponse:
        refuse_edge(context)
        view = await self._withdrawals.mark_failed(request.withdrawal_id, request.operator,
                                                   request.note)
        return account_pb2.MarkWithdrawalFailedResponse(withdrawal=withdrawal_pb(view),
                                                        replayed=view.replayed)

    async def Adjust(self, request: account_pb2.AdjustRequest, context: Ctx
                     ) -> account_pb2.AdjustResponse:
        require_admin(context, self._admin_token)
        result = await self._controls.adjust(request.adjustment_id, request.debit_account_id,
                                             request.credit_account_id, request.amount,
                                             request.reason, request.operator)
        return account_pb2.AdjustResponse(transfer=_single(result), replayed=result.replayed)


def _single(result: PostingResult) -> account_pb2.Transfer:
    return transfer_pb(result.transfers[0])


def withdrawal_pb(view: WithdrawalView) -> account_pb2.Withdrawal:
    """The proto of a withdrawal with its audited steps."""
    w = view.withdrawal
    return account_pb2.Withdrawal(
        withdrawal_id=w.withdrawal_id, owner=w.owner, currency=w.currency, amount=w.amount,
        state=_STATE_PB[WithdrawalState(w.state)], steps=[step_pb(s) for s in view.steps],
        create_time=timestamp_of(w.created_at), update_time=timestamp_of(w.updated_at))


def step_pb(step: WithdrawalStep) -> account_pb2.WithdrawalStep:
    """The proto of one audited withdrawal step."""
    return account_pb2.WithdrawalStep(state=_STATE_PB[WithdrawalState(step.state)],
                                      operator=step.operator, note=step.note,
                                      posting_id=step.posting_id,
                                      create_time=timestamp_of(step.created_at))


def account_pb(account: LedgerAccount) -> account_pb2.Account:
    """The proto of an account with its balance and freeze mode."""
    return account_pb2.Account(account_id=account.id, owner=account.owner,
                               currency=account.currency, kind=_KIND_PB[AccountKind(account.kind)],
                               may_go_negative=account.may_go_negative, balance=account.balance,
                               create_time=timestamp_of(account.created_at),
                               status=_STATUS_PB[AccountStatus(account.status)])


def transfer_pb(transfer: LedgerTransfer) -> account_pb2.Transfer:
    """The proto of a recorded transfer."""
    return account_pb2.Transfer(transfer_id=transfer.id, posting_id=transfer.posting_id,
                                index=transfer.position,
                                debit_account_id=transfer.debit_account_id,
                                credit_account_id=transfer.credit_account_id,
                                amount=transfer.amount, code=transfer.code, memo=transfer.memo,
                                create_time=timestamp_of(transfer.created_at))


def entry_pb(entry: Entry) -> account_pb2.Entry:
    """The proto of one account's side of a transfer."""
    return account_pb2.Entry(transfer=transfer_pb(entry.transfer), amount=entry.amount,
                             balance_after=entry.balance_after,
                             counterparty_account_id=entry.counterparty_account_id)


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
