"""AccountService over gRPC: protobuf in, domain calls, protobuf out; no business rules here."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.services.account.models import LedgerAccount, LedgerTransfer
from paymesh.services.account.posting import AccountKind, TransferSpec
from paymesh.services.account.service import AccountService, Entry, InvariantReport
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


class AccountServicer(account_pb2_grpc.AccountServiceServicer):
    """Writes are internal to the mesh; reads at the edge need the admin token."""

    def __init__(self, service: AccountService, admin_token: str | None) -> None:
        self._service = service
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



def account_pb(account: LedgerAccount) -> account_pb2.Account:
    return account_pb2.Account(account_id=account.id, owner=account.owner,
                               currency=account.currency, kind=_KIND_PB[AccountKind(account.kind)],
                               may_go_negative=account.may_go_negative, balance=account.balance,
                               create_time=timestamp_of(account.created_at))


def transfer_pb(transfer: LedgerTransfer) -> account_pb2.Transfer:
    return account_pb2.Transfer(transfer_id=transfer.id, posting_id=transfer.posting_id,
                                index=transfer.position,
                                debit_account_id=transfer.debit_account_id,
                                credit_account_id=transfer.credit_account_id,
                                amount=transfer.amount, code=transfer.code, memo=transfer.memo,
                                create_time=timestamp_of(transfer.created_at))


def entry_pb(entry: Entry) -> account_pb2.Entry:
    return account_pb2.Entry(transfer=transfer_pb(entry.transfer), amount=entry.amount,
                             balance_after=entry.balance_after,
                             counterparty_account_id=entry.counterparty_account_id)


def invariants_pb(report: InvariantReport) -> account_pb2.CheckInvariantsResponse:
    return account_pb2.CheckInvariantsResponse(
        totals=[account_pb2.CurrencyTotal(currency=t.currency, total=t.total,
                                          account_count=t.account_count)
                for t in report.totals],
        discrepancies=[account_pb2.AccountDiscrepancy(
            account_id=d.account_id, stored_balance=d.stored_balance,
            transfers_balance=d.transfers_balance, disallowed_negative=d.disallowed_negative)
            for d in report.discrepancies],
        sound=report.sound)
