"""Withdrawals (提现) through a real stub: every path, retries, wrong states, balances."""

from __future__ import annotations

import grpc
import pytest

from paymesh.account.v1 import account_pb2 as pb
from paymesh.services.common.errors import reason_of
from tests.account.test_account_controls import failure, set_status
from tests.account.test_account_grpc import Stub, assert_sound, balance, move, open_account, post

Accounts = tuple[int, int]  # available, frozen


@pytest.fixture
async def merchant(stub: Stub) -> Accounts:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    frozen = await open_account(stub, "M1", pb.ACCOUNT_KIND_FROZEN)
    await post(stub, "fund", move(clearing, available, 1000))
    return available, frozen


async def request(stub: Stub, withdrawal_id: str, amount: int) -> pb.RequestWithdrawalResponse:
    return await stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
        withdrawal_id=withdrawal_id, owner="M1", currency="CNY", amount=amount,
        operator="merchant:M1", note="monthly"))


async def step(stub: Stub, rpc: str, withdrawal_id: str, operator: str = "ops:bob"
               ) -> pb.ApproveWithdrawalResponse:
    method = getattr(stub, rpc)
    request_type = getattr(pb, f"{rpc}Request")
    response: pb.ApproveWithdrawalResponse = await method(request_type(
        withdrawal_id=withdrawal_id, operator=operator, note=f"{rpc} note"))
    return response


async def balances(stub: Stub, merchant: Accounts) -> tuple[int, int]:
    return await balance(stub, merchant[0]), await balance(stub, merchant[1])


async def payable(stub: Stub) -> int:
    accounts = (await stub.GetBalances(pb.GetBalancesRequest(owner="platform"))).accounts
    return sum(a.balance for a in accounts if a.kind == pb.ACCOUNT_KIND_SETTLEMENT_PAYABLE)


async def wrong_state(stub: Stub, rpc: str, withdrawal_id: str) -> None:
    error = await failure(step(stub, rpc, withdrawal_id))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(error) == "WITHDRAWAL_STATE"


async def test_a_paid_withdrawal_leaves_the_merchant_once(stub: Stub, merchant: Accounts
                                                          ) -> None:
    first = await request(stub, "w1", 300)
    assert not first.replayed and first.withdrawal.state == pb.WITHDRAWAL_STATE_REQUESTED
    assert await balances(stub, merchant) == (700, 300)
    again = await request(stub, "w1", 300)
    assert again.replayed and again.withdrawal == first.withdrawal
    assert await balances(stub, merchant) == (700, 300)
    reused = await failure(request(stub, "w1", 301))
    assert reused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(reused) == "WITHDRAWAL_ID_REUSED"
    await wrong_state(stub, "MarkWithdrawalPaid", "w1")  # maker-checker: approval first
    await wrong_state(stub, "MarkWithdrawalFailed", "w1")
    approved = await step(stub, "ApproveWithdrawal", "w1")
    assert approved.withdrawal.state == pb.WITHDRAWAL_STATE_APPROVED and not approved.replayed
    assert await balances(stub, merchant) == (700, 300)
    assert (await step(stub, "ApproveWithdrawal", "w1", "ops:eve")).replayed
    await wrong_state(stub, "RejectWithdrawal", "w1")
    paid = await step(stub, "MarkWithdrawalPaid", "w1", "payout-job")
    assert paid.withdrawal.state == pb.WITHDRAWAL_STATE_PAID and not paid.replayed
    assert await balances(stub, merchant) == (700, 0) and await payable(stub) == 300
    retried = await step(stub, "MarkWithdrawalPaid", "w1", "payout-job")
    assert retried.replayed and retried.withdrawal == paid.withdrawal
    assert await balances(stub, merchant) == (700, 0) and await payable(stub) == 300
    await wrong_state(stub, "MarkWithdrawalFailed", "w1")
    await wrong_state(stub, "RejectWithdrawal", "w1")
    assert [(s.state, s.operator, s.note, s.posting_id) for s in paid.withdrawal.steps] == [
        (pb.WITHDRAWAL_STATE_REQUESTED, "merchant:M1", "monthly", "wd:w1:requested"),
        (pb.WITHDRAWAL_STATE_APPROVED, "ops:bob", "ApproveWithdrawal note", ""),
        (pb.WITHDRAWAL_STATE_PAID, "payout-job", "MarkWithdrawalPaid note", "wd:w1:paid")]
    assert all(s.create_time.seconds > 0 for s in paid.withdrawal.steps)
    entries = (await stub.ListEntries(pb.ListEntriesRequest(account_id=merchant[1]))).entries
    assert [(e.amount, e.transfer.code) for e in entries] == [(-300, "WITHDRAWAL_PAID"),
                                                              (300, "WITHDRAWAL_FREEZE")]
    await assert_sound(stub)


async def test_a_rejected_withdrawal_returns_the_money(stub: Stub, merchant: Accounts) -> None:
    await request(stub, "w2", 400)
    assert await balances(stub, merchant) == (600, 400)
    rejected = await step(stub, "RejectWithdrawal", "w2")
    assert rejected.withdrawal.state == pb.WITHDRAWAL_STATE_REJECTED
    assert await balances(stub, merchant) == (1000, 0)
    assert (await step(stub, "RejectWithdrawal", "w2")).replayed
    assert (await request(stub, "w2", 400)).replayed
    assert await balances(stub, merchant) == (1000, 0)
    for rpc in ("ApproveWithdrawal", "MarkWithdrawalPaid", "MarkWithdrawalFailed"):
        await wrong_state(stub, rpc, "w2")
    assert await balances(stub, merchant) == (1000, 0) and await payable(stub) == 0
    await assert_sound(stub)


async def test_a_failed_payout_returns_the_money(stub: Stub, merchant: Accounts) -> None:
    await request(stub, "w3", 250)
    await step(stub, "ApproveWithdrawal", "w3")
    failed = await step(stub, "MarkWithdrawalFailed", "w3", "payout-job")
    assert failed.withdrawal.state == pb.WITHDRAWAL_STATE_FAILED
    assert await balances(stub, merchant) == (1000, 0)
    assert (await step(stub, "MarkWithdrawalFailed", "w3", "payout-job")).replayed
    assert await balances(stub, merchant) == (1000, 0)
    await wrong_state(stub, "MarkWithdrawalPaid", "w3")
    await wrong_state(stub, "RejectWithdrawal", "w3")
    assert await balances(stub, merchant) == (1000, 0) and await payable(stub) == 0
    await assert_sound(stub)


async def test_a_refused_step_records_nothing_and_may_be_tried_again(
        stub: Stub, merchant: Accounts) -> None:
    short = await failure(request(stub, "w4", 1001))
    assert reason_of(short) == "INSUFFICIENT_FUNDS"
    missing = await failure(step(stub, "ApproveWithdrawal", "w4"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(missing) == "WITHDRAWAL_NOT_FOUND"
    assert await balances(stub, merchant) == (1000, 0)
    await request(stub, "w5", 100)
    await set_status(stub, merchant[1], pb.ACCOUNT_STATUS_STOP_OUT)  # FROZEN may not pay out
    blocked = await failure(step(stub, "RejectWithdrawal", "w5"))
    assert reason_of(blocked) == "ACCOUNT_STATUS"
    assert await balances(stub, merchant) == (900, 100)
    await wrong_state(stub, "MarkWithdrawalPaid", "w5")  # still REQUESTED: the step rolled back
    await set_status(stub, merchant[1], pb.ACCOUNT_STATUS_ACTIVE)
    rejected = await step(stub, "RejectWithdrawal", "w5")
    assert rejected.withdrawal.state == pb.WITHDRAWAL_STATE_REJECTED
    assert [s.state for s in rejected.withdrawal.steps] == [pb.WITHDRAWAL_STATE_REQUESTED,
                                                           pb.WITHDRAWAL_STATE_REJECTED]
    assert await balances(stub, merchant) == (1000, 0)
    bad = await failure(stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
        withdrawal_id="w6", owner="M1", currency="CNY", amount=0, operator="merchant:M1")))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    await assert_sound(stub)
