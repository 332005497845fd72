"""AccountService through a real stub against an in-process server on port 0."""

from __future__ import annotations

import grpc
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from paymesh.account.v1 import account_pb2 as pb
from paymesh.account.v1.account_pb2_grpc import AccountServiceStub
from paymesh.common.v1 import common_pb2
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine
from paymesh.services.common.edge import EDGE_HEADER
from paymesh.services.common.errors import reason_of

Stub = AccountServiceStub


async def open_account(stub: Stub, owner: str, kind: int, currency: str = "CNY") -> int:
    response = await stub.OpenAccount(pb.OpenAccountRequest(owner=owner, currency=currency,
                                                            kind=kind))
    return response.account.account_id


async def balance(stub: Stub, account_id: int) -> int:
    response = await stub.GetBalances(pb.GetBalancesRequest(account_id=account_id))
    return response.accounts[0].balance


def move(debit: int, credit: int, amount: int, code: str = "TEST") -> pb.TransferRequest:
    return pb.TransferRequest(debit_account_id=debit, credit_account_id=credit, amount=amount,
                              code=code)


async def post(stub: Stub, posting_id: str, *transfers: pb.TransferRequest) -> pb.PostResponse:
    return await stub.Post(pb.PostRequest(posting_id=posting_id, transfers=transfers))


async def refused(stub: Stub, posting_id: str, *transfers: pb.TransferRequest
                  ) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await post(stub, posting_id, *transfers)
    return error.value


async def assert_sound(stub: Stub) -> None:
    report = await stub.CheckInvariants(pb.CheckInvariantsRequest())
    assert report.sound and not report.discrepancies
    assert all(total.total == 0 for total in report.totals)


@pytest.fixture
async def clearing(stub: Stub) -> int:
    return await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)


@pytest.fixture
async def pending(stub: Stub) -> int:
    return await open_account(stub, "M0001", pb.ACCOUNT_KIND_PENDING)


async def test_open_account_is_idempotent_per_owner_currency_and_kind(stub: Stub) -> None:
    first = await stub.OpenAccount(pb.OpenAccountRequest(owner="M1", currency="CNY",
                                                         kind=pb.ACCOUNT_KIND_PENDING))
    again = await stub.OpenAccount(pb.OpenAccountRequest(owner="M1", currency="CNY",
                                                         kind=pb.ACCOUNT_KIND_PENDING))
    assert first.created and not again.created and first.account == again.account
    other = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    usd = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING, "USD")
    assert len({first.account.account_id, other, usd}) == 3
    assert not first.account.may_go_negative and first.account.balance == 0
    owned = await stub.GetBalances(pb.GetBalancesRequest(owner="M1"))
    assert [a.account_id for a in owned.accounts] == sorted([first.account.account_id, other, usd])


async def test_open_account_refuses_bad_fields(stub: Stub) -> None:
    for request in (pb.OpenAccountRequest(owner="M1", currency="CNY"),
                    pb.OpenAccountRequest(owner="", currency="CNY", kind=pb.ACCOUNT_KIND_PENDING),
                    pb.OpenAccountRequest(owner="M1", currency="rmb",
                                          kind=pb.ACCOUNT_KIND_PENDING)):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await stub.OpenAccount(request)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_post_moves_money_and_a_repost_returns_the_first_result(
        stub: Stub, clearing: int, pending: int) -> None:
    fee = await open_account(stub, "platform", pb.ACCOUNT_KIND_FEE_INCOME)
    first = await post(stub, "pay:1:success", move(clearing, pending, 9945, "PAY_SUCCESS"),
                       move(clearing, fee, 55, "PAY_FEE"))
    assert not first.replayed and [t.index for t in first.transfers] == [0, 1]
    again = await post(stub, "pay:1:success", move(clearing, pending, 9945, "PAY_SUCCESS"),
                       move(clearing, fee, 55, "PAY_FEE"))
    assert again.replayed and list(again.transfers) == list(first.transfers)
    assert (await balance(stub, clearing), await balance(stub, pending),
            await balance(stub, fee)) == (-10000, 9945, 55)
    entries = await stub.ListEntries(pb.ListEntriesRequest(account_id=pending))
    assert len(entries.entries) == 1
    await assert_sound(stub)


async def test_the_same_id_with_other_content_is_refused(
        stub: Stub, clearing: int, pending: int) -> None:
    await post(stub, "p1", move(clearing, pending, 100))
    for changed in (move(clearing, pending, 101), move(clearing, pending, 100, "OTHER")):
        error = await refused(stub, "p1", changed)
        assert error.code() == grpc.StatusCode.ALREADY_EXISTS
        assert reason_of(error) == "POSTING_ID_REUSED"
    assert await balance(stub, pending) == 100


async def test_insufficient_funds_moves_nothing_across_the_posting(
        stub: Stub, clearing: int, pending: int) -> None:
    available = await open_account(stub, "M0001", pb.ACCOUNT_KIND_AVAILABLE)
    await post(stub, "fund", move(clearing, pending, 100))
    # The first transfer alone would pass; the second overdraws, so neither happens.
    error = await refused(stub, "settle", move(pending, available, 60),
                          move(pending, available, 41))
    assert reason_of(error) == "INSUFFICIENT_FUNDS"
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"account {pending}" in (error.details() or "")
    assert (await balance(stub, pending), await balance(stub, available)) == (100, 0)
    entries = await stub.ListEntries(pb.ListEntriesRequest(account_id=available))
    assert not entries.entries
    # As in TigerBeetle, the failed id stays failed even once the funds are there.
    await post(stub, "fund-more", move(clearing, pending, 1))
    again = await refused(stub, "settle", move(pending, available, 60),
                          move(pending, available, 41))
    assert reason_of(again) == "INSUFFICIENT_FUNDS"
    assert await balance(stub, available) == 0
    await post(stub, "settle-2", move(pending, available, 60), move(pending, available, 41))
    assert (await balance(stub, pending), await balance(stub, available)) == (0, 101)
    await assert_sound(stub)


async def test_only_negative_allowed_accounts_go_below_zero(
        stub: Stub, clearing: int, pending: int) -> None:
    payable = await open_account(stub, "platform", pb.ACCOUNT_KIND_SETTLEMENT_PAYABLE)
    listed = await stub.GetBalances(pb.GetBalancesRequest(account_id=clearing))
    assert listed.accounts[0].may_go_negative
    await post(stub, "a", move(clearing, pending, 700))
    assert await balance(stub, clearing) == -700
    error = await refused(stub, "b", move(payable, clearing, 1))
    assert reason_of(error) == "INSUFFICIENT_FUNDS" and f"account {payable}" in error.details()
    await assert_sound(stub)


async def test_unknown_accounts_and_mixed_currencies_are_refused(
        stub: Stub, clearing: int, pending: int) -> None:
    usd = await open_account(stub, "M0001", pb.ACCOUNT_KIND_PENDING, "USD")
    missing = await refused(stub, "x1", move(clearing, 999_999, 1))
    assert missing.code() == grpc.StatusCode.NOT_FOUND and reason_of(missing) == "ACCOUNT_NOT_FOUND"
    assert reason_of(await refused(stub, "x2", move(clearing, usd, 1))) == "CURRENCY_MISMATCH"
    invalid = await refused(stub, "x3", move(clearing, pending, 0))
    assert invalid.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await balance(stub, clearing) == 0 and await balance(stub, usd) == 0


async def test_entries_page_newest_first_with_a_cursor(
        stub: Stub, clearing: int, pending: int) -> None:
    available = await open_account(stub, "M0001", pb.ACCOUNT_KIND_AVAILABLE)
    for i in range(1, 8):
        await post(stub, f"in-{i}", move(clearing, pending, i))
    await post(stub, "out", move(pending, available, 5))
    seen: list[pb.Entry] = []
    token = ""
    while True:
        page = await stub.ListEntries(pb.ListEntriesRequest(
            account_id=pending, page=common_pb2.PageRequest(page_size=3, page_token=token)))
        seen.extend(page.entries)
        assert page.page.has_more == bool(page.page.next_page_token)
        if not page.page.has_more:
            break
        token = page.page.next_page_token
    assert [e.amount for e in seen] == [-5, 7, 6, 5, 4, 3, 2, 1]
    assert [e.balance_after for e in seen] == [23, 28, 21, 15, 10, 6, 3, 1]
    assert seen[0].counterparty_account_id == available
    assert all(e.counterparty_account_id == clearing for e in seen[1:])
    ids = [e.transfer.transfer_id for e in seen]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 8
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListEntries(pb.ListEntriesRequest(
            account_id=pending, page=common_pb2.PageRequest(page_token="garbage")))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_check_invariants_reports_totals_and_a_tampered_balance(
        stub: Stub, config: MeshConfig, clearing: int, pending: int) -> None:
    await post(stub, "a", move(clearing, pending, 250))
    report = await stub.CheckInvariants(pb.CheckInvariantsRequest())
    assert report.sound and [(t.currency, t.total, t.account_count) for t in report.totals] == [
        ("CNY", 0, 2)]
    engine = open_engine(config.db_urls["account"])
    async with engine.begin() as conn:  # what a bug or a hand edit would do
        await conn.execute(text("UPDATE account SET balance = -3 WHERE id = :id"),
                           {"id": pending})
    await engine.dispose()
    report = await stub.CheckInvariants(pb.CheckInvariantsRequest())
    assert not report.sound and report.totals[0].total == -253
    assert [(d.account_id, d.stored_balance, d.transfers_balance, d.disallowed_negative)
            for d in report.discrepancies] == [(pending, -3, 250, True)]


async def test_transfers_and_postings_cannot_be_changed_or_deleted(
        stub: Stub, config: MeshConfig, clearing: int, pending: int) -> None:
    await post(stub, "a", move(clearing, pending, 250))
    engine = open_engine(config.db_urls["account"])
    for statement in ("UPDATE ledger_transfer SET amount = 1", "DELETE FROM ledger_transfer",
                      "UPDATE posting SET fingerprint = 'x'", "DELETE FROM posting"):
        with pytest.raises(DBAPIError, match="immutable"):
            async with engine.begin() as conn:
                await conn.execute(text(statement))
    await engine.dispose()
    await assert_sound(stub)


async def test_the_edge_may_not_post_and_reads_need_the_admin_token(
        stub: Stub, config: MeshConfig, clearing: int, pending: int) -> None:
    edge = ((EDGE_HEADER, "1"),)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Post(pb.PostRequest(posting_id="e", transfers=[move(clearing, pending, 1)]),
                        metadata=edge)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.GetBalances(pb.GetBalancesRequest(account_id=pending), metadata=edge)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    admin = (*edge, ("authorization", f"Bearer {config.admin_token}"))
    answer = await stub.GetBalances(pb.GetBalancesRequest(account_id=pending), metadata=admin)
    assert answer.accounts[0].balance == 0
