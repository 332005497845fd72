"""AccountService over gRPC: protobuf in, domain calls, protobuf out; no business rules here.

OpenAccount, Post, GetPostings and ListPostingIds are internal (refused at the edge). Every other
RPC has an admin REST route; through the edge it needs the admin bearer token, from inside the
mesh nothing. SettleDue is one RPC for both callers: the jobs process calls it internally, an
operator through ``POST /admin/v1/ledger/settlements:run`` with the token.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeAlias

import grpc
from google.protobuf import timestamp_pb2

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.services.account.audit import PostingAudit
from paymesh.services.account.controls import AccountControls
from paymesh.services.account.posting import AccountKind, AccountStatus, TransferSpec
from paymesh.services.account.protos import (
    KINDS,
    STATES,
    STATUSES,
    account_pb,
    audited_posting_pb,
    entry_pb,
    invariants_pb,
    settle_due_pb,
    statement_pb,
    terms_pb,
    transfer_pb,
    withdrawal_pb,
)
from paymesh.services.account.repository import EntryFilter
from paymesh.services.account.results import PostingResult
from paymesh.services.account.service import AccountService
from paymesh.services.account.settlement import SettlementService
from paymesh.services.account.statement import StatementService
from paymesh.services.account.withdrawals import WithdrawalService
from paymesh.services.common.edge import refuse_edge, require_admin
from paymesh.services.common.errors import InvalidArgument

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    """Ledger writes are internal to the mesh; reads and operator actions at the edge need the
    admin token."""

    def __init__(self, service: AccountService, controls: AccountControls,
                 withdrawals: WithdrawalService, settlement: SettlementService,
                 statements: StatementService, admin_token: str | None,
                 audit: PostingAudit) -> None:
        self._service = service
        self._audit = audit
        self._controls = controls
        self._withdrawals = withdrawals
        self._admin_token = admin_token
        self._settlement = settlement
        self._statements = statements

    async def OpenAccount(self, request: account_pb2.OpenAccountRequest, context: Ctx
                          ) -> account_pb2.OpenAccountResponse:
        refuse_edge(context)
        kind = KINDS.get(request.kind)
        if kind is None:
            raise InvalidArgument("kind", "kind must be one of the ACCOUNT_KIND_ values")
        opened = await self._service.open_account(request.owner, request.currency,
                                                  AccountKind(kind))
        return account_pb2.OpenAccountResponse(account=account_pb(opened.account),
                                               created=opened.created)

    async def Post(self, request: account_pb2.PostRequest, context: Ctx
                   ) -> account_pb2.PostResponse:
        refuse_edge(context)
        specs = [TransferSpec(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.memo,
                              t.value_date)
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
        kept = EntryFilter(
            code=request.code, value_date_from=request.value_date_from,
            value_date_to=request.value_date_to,
            created_after=_moment(request, "created_after"),
            created_before=_moment(request, "created_before"))
        page = await self._service.entries(request.account_id, request.page.page_size,
                                           request.page.page_token, kept)
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
        status = STATUSES.get(request.status)
        if status is None:
            raise InvalidArgument("status", "status must be one of the ACCOUNT_STATUS_ values")
        change = await self._controls.set_status(request.account_id, AccountStatus(status),
                                                 request.operator, request.note)
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
        require_admin(context, self._admin_token)  # at the edge: an operator, for the merchant
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
        require_admin(context, self._admin_token)
        view = await self._withdrawals.mark_paid(request.withdrawal_id, request.operator,
                                                 request.note)
        return account_pb2.MarkWithdrawalPaidResponse(withdrawal=withdrawal_pb(view),
                                                      replayed=view.replayed)

    async def MarkWithdrawalFailed(self, request: account_pb2.MarkWithdrawalFailedRequest,
                                   context: Ctx) -> account_pb2.MarkWithdrawalFailedResponse:
        require_admin(context, self._admin_token)
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

    async def GetWithdrawal(self, request: account_pb2.GetWithdrawalRequest, context: Ctx
                            ) -> account_pb2.GetWithdrawalResponse:
        require_admin(context, self._admin_token)
        view = await self._withdrawals.get(request.withdrawal_id)
        return account_pb2.GetWithdrawalResponse(withdrawal=withdrawal_pb(view))

    async def ListWithdrawals(self, request: account_pb2.ListWithdrawalsRequest, context: Ctx
                              ) -> account_pb2.ListWithdrawalsResponse:
        require_admin(context, self._admin_token)
        state = None
        if request.state != account_pb2.WITHDRAWAL_STATE_UNSPECIFIED:
            state = STATES.get(request.state)
            if state is None:
                raise InvalidArgument("state", "state must be one of the WITHDRAWAL_STATE_ values")
        page = await self._withdrawals.page(request.owner, state, request.page.page_size,
                                            request.page.page_token)
        return account_pb2.ListWithdrawalsResponse(
            withdrawals=[withdrawal_pb(w) for w in page.withdrawals],
            page=common_pb2.PageResponse(next_page_token=page.next_token,
                                         has_more=page.has_more))

    async def SetSettlementTerms(self, request: account_pb2.SetSettlementTermsRequest,
                                 context: Ctx) -> account_pb2.SetSettlementTermsResponse:
        require_admin(context, self._admin_token)
        change = await self._settlement.set_terms(request.owner, request.settle_days,
                                                     request.operator, request.note)
        return account_pb2.SetSettlementTermsResponse(terms=terms_pb(change.terms),
                                                      changed=change.changed)

    async def GetSettlementTerms(self, request: account_pb2.GetSettlementTermsRequest,
                                 context: Ctx) -> account_pb2.GetSettlementTermsResponse:
        require_admin(context, self._admin_token)
        terms = await self._settlement.terms(request.owner)
        return account_pb2.GetSettlementTermsResponse(terms=terms_pb(terms))

    async def SettleDue(self, request: account_pb2.SettleDueRequest, context: Ctx
                        ) -> account_pb2.SettleDueResponse:
        require_admin(context, self._admin_token)  # the jobs process inside, operators at the edge
        run = await self._settlement.settle_due(request.today, request.reconciled_through,
                                                list(request.held_owners), list(request.owners))
        return settle_due_pb(run)

    async def GetDailyStatement(self, request: account_pb2.GetDailyStatementRequest,
                                context: Ctx) -> account_pb2.GetDailyStatementResponse:
        require_admin(context, self._admin_token)
        return statement_pb(await self._statements.daily(request.owner, request.currency,
                                                         request.date))


    async def GetPostings(self, request: account_pb2.GetPostingsRequest, context: Ctx
                          ) -> account_pb2.GetPostingsResponse:
        refuse_edge(context)
        found = await self._audit.postings(list(request.posting_ids))
        return account_pb2.GetPostingsResponse(postings=[audited_posting_pb(p) for p in found])

    async def ListPostingIds(self, request: account_pb2.ListPostingIdsRequest, context: Ctx
                             ) -> account_pb2.ListPostingIdsResponse:
        refuse_edge(context)
        page = await self._audit.posting_ids(request.prefix, request.page_size,
                                                       request.page_token,
                                                       request.include_refused)
        return account_pb2.ListPostingIdsResponse(posting_ids=page.posting_ids,
                                                  next_page_token=page.next_token,
                                                  has_more=page.has_more)


def _single(result: PostingResult) -> account_pb2.Transfer:
    return transfer_pb(result.transfers[0])


def _moment(request: account_pb2.ListEntriesRequest, name: str) -> datetime | None:
    """The timestamp field's instant (aware UTC), or None when it is unset."""
    if not request.HasField(name):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(request, name)
    return stamp.ToDatetime(tzinfo=UTC)
