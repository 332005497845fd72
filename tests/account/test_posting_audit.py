"""GetPostings and ListPostingIds through a real stub: postings read back with their accounts,
refusals told apart, prefixes listed page by page, and both refused at the edge."""

from __future__ import annotations

import grpc
import pytest

from paymesh.account.v1 import account_pb2 as pb
from paymesh.account.v1.account_pb2_grpc import AccountServiceStub
from paymesh.services.common.edge import EDGE_HEADER
from paymesh.services.common.errors import reason_of
from tests.account.test_account_grpc import move, open_account, post

Stub = AccountServiceStub


async def test_postings_come_back_with_their_accounts_and_refusals_with_their_reason(
        stub: Stub) -> None:
    clearing = await open_account(stub, "channel:A1.sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    fee = await open_account(stub, "platform", pb.ACCOUNT_KIND_FEE_INCOME)
    await post(stub, "pay:P1", move(clearing, pending, 994, "PAY_SUCCESS"),
               move(clearing, fee, 6, "PAY_FEE"))
    with pytest.raises(grpc.aio.AioRpcError):
        await post(stub, "refund-hold:R1", move(pending, fee, 5000, "REFUND_HOLD"))

    found = (await stub.GetPostings(pb.GetPostingsRequest(
        posting_ids=["refund-hold:R1", "nothing:here", "pay:P1", "pay:P1"]))).postings
    assert [p.posting_id for p in found] == ["refund-hold:R1", "pay:P1"]
    refused, paid = found
    assert (refused.status, refused.reason, len(refused.transfers)) == (
        pb.POSTING_STATUS_REFUSED, "INSUFFICIENT_FUNDS", 0)
    assert paid.status == pb.POSTING_STATUS_POSTED and paid.reason == ""
    assert [(t.transfer.index, t.transfer.amount, t.transfer.code, t.debit_account.owner,
             t.debit_account.kind, t.credit_account.owner, t.credit_account.kind,
             t.credit_account.currency) for t in paid.transfers] == [
        (0, 994, "PAY_SUCCESS", "channel:A1.sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING, "M1",
         pb.ACCOUNT_KIND_PENDING, "CNY"),
        (1, 6, "PAY_FEE", "channel:A1.sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING, "platform",
         pb.ACCOUNT_KIND_FEE_INCOME, "CNY")]
    assert paid.transfers[0].debit_account.account_id == clearing


async def test_ids_of_one_prefix_are_listed_in_order_a_page_at_a_time(stub: Stub) -> None:
    clearing = await open_account(stub, "channel:sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    for posting_id in ("pay:P3", "pay:P1", "payout:X", "pay:P2", "pa:y", "refund:R1"):
        await post(stub, posting_id, move(clearing, pending, 10))
    with pytest.raises(grpc.aio.AioRpcError):  # refused: listed only when asked
        await post(stub, "pay:P0", move(pending, clearing, 10**6))

    seen, token, pages = [], "", 0
    while True:
        page = await stub.ListPostingIds(pb.ListPostingIdsRequest(prefix="pay:", page_size=2,
                                                                  page_token=token))
        seen += page.posting_ids
        pages += 1
        if not page.has_more:
            assert page.next_page_token == ""
            break
        token = page.next_page_token
    assert seen == ["pay:P1", "pay:P2", "pay:P3"] and pages == 2
    every = await stub.ListPostingIds(pb.ListPostingIdsRequest(prefix="pay:",
                                                               include_refused=True))
    assert list(every.posting_ids) == ["pay:P0", "pay:P1", "pay:P2", "pay:P3"]
    assert not every.has_more
    none = await stub.ListPostingIds(pb.ListPostingIdsRequest(prefix="recon:"))
    assert list(none.posting_ids) == [] and not none.has_more


@pytest.mark.parametrize("request_", [
    pb.GetPostingsRequest(),
    pb.GetPostingsRequest(posting_ids=[f"p{i}" for i in range(1001)]),
    pb.GetPostingsRequest(posting_ids=["x" * 65]),
])
async def test_malformed_lookups_are_refused(stub: Stub, request_: pb.GetPostingsRequest) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetPostings(request_)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_listings_refuse_bad_arguments(stub: Stub) -> None:
    for request in (pb.ListPostingIdsRequest(prefix=""),
                    pb.ListPostingIdsRequest(prefix="pay:", page_size=1001),
                    pb.ListPostingIdsRequest(prefix="pay:", page_token="not a cursor")):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ListPostingIds(request)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_both_are_internal_and_refused_at_the_edge(stub: Stub) -> None:
    edge = ((EDGE_HEADER, "1"),)
    for call in (stub.GetPostings(pb.GetPostingsRequest(posting_ids=["pay:P1"]), metadata=edge),
                 stub.ListPostingIds(pb.ListPostingIdsRequest(prefix="pay:"), metadata=edge)):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert reason_of(raised.value) == "INTERNAL_ONLY"
