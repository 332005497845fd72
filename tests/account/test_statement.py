"""Daily statements over a constructed day: the China Standard Time window by recording time,
opening and closing balances, credits, debits, per-code totals and entry counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import grpc

from paymesh.account.v1 import account_pb2 as pb
from tests.account.test_account_controls import failure
from tests.account.test_account_grpc import Stub, open_account, post
from tests.account.test_settlement import move

Clock = Callable[[datetime], None]  # the ``at`` fixture: when the next postings are recorded


def utc(day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, micro, tzinfo=UTC)


def row(statement: pb.AccountStatement) -> tuple[int, int, int, int, int]:
    return (statement.opening_balance, statement.credits, statement.debits,
            statement.closing_balance, statement.entry_count)


def codes(statement: pb.AccountStatement) -> dict[str, tuple[int, int, int]]:
    return {c.code: (c.credits, c.debits, c.entry_count) for c in statement.codes}


async def test_a_constructed_day_adds_up(stub: Stub, at: Clock) -> None:
    clearing = await open_account(stub, "channel:sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    fees = await open_account(stub, "platform", pb.ACCOUNT_KIND_FEE_INCOME)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    frozen = await open_account(stub, "M1", pb.ACCOUNT_KIND_FROZEN)
    usd = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING, "USD")
    usd_clearing = await open_account(stub, "channel:stripe", pb.ACCOUNT_KIND_CHANNEL_CLEARING,
                                      "USD")
    # 2024-03-05 in China is [03-04 16:00, 03-05 16:00) UTC.
    at(utc(4, 15, 59, 59, 999999))  # 23:59:59.999999 on 03-04 in China: before the day
    await post(stub, "pay-a", move(clearing, pending, 1000, "PAY_SUCCESS"))
    at(utc(4, 16))  # midnight: the day's first instant
    await post(stub, "pay-b", move(clearing, pending, 500, "PAY_SUCCESS"),
               move(clearing, fees, 3, "PAY_FEE"))
    at(utc(5, 2))
    await post(stub, "refund-a", move(pending, clearing, 200, "REFUND"))
    at(utc(5, 3))
    await post(stub, "settle", move(pending, available, 1000, "SETTLEMENT", "2024-03-04"))
    at(utc(5, 4))
    await post(stub, "adj", move(clearing, available, 50, "ADJUSTMENT"))
    await post(stub, "wd", move(available, frozen, 300, "WITHDRAWAL_FREEZE"))
    await post(stub, "usd", move(usd_clearing, usd, 42, "PAY_SUCCESS"))
    at(utc(5, 15, 59, 59, 999999))  # the day's last microsecond
    await post(stub, "pay-c", move(clearing, pending, 70, "PAY_SUCCESS"))
    at(utc(5, 16))  # midnight again: the next day
    await post(stub, "pay-d", move(clearing, pending, 9, "PAY_SUCCESS"))

    day = await stub.GetDailyStatement(pb.GetDailyStatementRequest(owner="M1", currency="CNY",
                                                                   date="2024-03-05"))
    assert (day.owner, day.date) == ("M1", "2024-03-05")
    assert day.window_start.ToDatetime(tzinfo=UTC) == utc(4, 16)
    assert day.window_end.ToDatetime(tzinfo=UTC) == utc(5, 16)
    assert [(a.account_id, a.kind, a.currency) for a in day.accounts] == [
        (pending, pb.ACCOUNT_KIND_PENDING, "CNY"), (available, pb.ACCOUNT_KIND_AVAILABLE, "CNY"),
        (frozen, pb.ACCOUNT_KIND_FROZEN, "CNY")]
    by_kind = {a.kind: a for a in day.accounts}
    assert row(by_kind[pb.ACCOUNT_KIND_PENDING]) == (1000, 570, 1200, 370, 4)
    assert codes(by_kind[pb.ACCOUNT_KIND_PENDING]) == {
        "PAY_SUCCESS": (570, 0, 2), "REFUND": (0, 200, 1), "SETTLEMENT": (0, 1000, 1)}
    assert row(by_kind[pb.ACCOUNT_KIND_AVAILABLE]) == (0, 1050, 300, 750, 3)
    assert codes(by_kind[pb.ACCOUNT_KIND_AVAILABLE]) == {
        "ADJUSTMENT": (50, 0, 1), "SETTLEMENT": (1000, 0, 1), "WITHDRAWAL_FREEZE": (0, 300, 1)}
    assert row(by_kind[pb.ACCOUNT_KIND_FROZEN]) == (0, 300, 0, 300, 1)
    assert [c.code for c in by_kind[pb.ACCOUNT_KIND_PENDING].codes] == [
        "PAY_SUCCESS", "REFUND", "SETTLEMENT"]  # by code

    before = await stub.GetDailyStatement(pb.GetDailyStatementRequest(
        owner="M1", currency="CNY", date="2024-03-04"))
    assert row(before.accounts[0]) == (0, 1000, 0, 1000, 1)
    after = await stub.GetDailyStatement(pb.GetDailyStatementRequest(
        owner="M1", currency="CNY", date="2024-03-06"))
    assert row(after.accounts[0]) == (370, 9, 0, 379, 1)
    assert row(after.accounts[1]) == (750, 0, 0, 750, 0) and not after.accounts[1].codes
    every = await stub.GetDailyStatement(pb.GetDailyStatementRequest(owner="M1",
                                                                     date="2024-03-05"))
    assert [(a.currency, a.kind) for a in every.accounts] == [
        ("CNY", pb.ACCOUNT_KIND_PENDING), ("CNY", pb.ACCOUNT_KIND_AVAILABLE),
        ("CNY", pb.ACCOUNT_KIND_FROZEN), ("USD", pb.ACCOUNT_KIND_PENDING)]
    assert every.accounts[3].account_id == usd and row(every.accounts[3]) == (0, 42, 0, 42, 1)
    # The closing balance is the balance the day's last entry left.
    entries = await stub.ListEntries(pb.ListEntriesRequest(account_id=pending))
    assert [e.balance_after for e in entries.entries][:2] == [379, 370]


async def test_a_statement_refuses_bad_arguments_and_lists_only_merchant_accounts(
        stub: Stub) -> None:
    for request, field in ((pb.GetDailyStatementRequest(owner="M1", date="2024-3-5"), "date"),
                           (pb.GetDailyStatementRequest(owner="M1", date=""), "date"),
                           (pb.GetDailyStatementRequest(owner="", date="2024-03-05"), "owner"),
                           (pb.GetDailyStatementRequest(owner="M1", currency="cny",
                                                        date="2024-03-05"), "currency")):
        error = await failure(stub.GetDailyStatement(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()
    await open_account(stub, "platform", pb.ACCOUNT_KIND_FEE_INCOME)
    platform = await stub.GetDailyStatement(pb.GetDailyStatementRequest(owner="platform",
                                                                        date="2024-03-05"))
    assert not platform.accounts
    nobody = await stub.GetDailyStatement(pb.GetDailyStatementRequest(owner="M404",
                                                                      date="2024-03-05"))
    assert nobody.owner == "M404" and not nobody.accounts
