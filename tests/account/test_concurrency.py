"""Simultaneous postings on the same accounts serialise: no overdraft, no lost update, no double.

Run on SQLite and on MariaDB (PAYMESH_TEST_BACKEND=mariadb), where the accounts are locked with
SELECT … FOR UPDATE in id order and a deadlock reruns the transaction.
"""

from __future__ import annotations

import asyncio

import grpc

from paymesh.account.v1 import account_pb2 as pb
from paymesh.services.common.errors import reason_of
from tests.account.test_account_grpc import Stub, assert_sound, balance, move, open_account, post


async def test_200_simultaneous_debits_of_1_from_150_succeed_exactly_150_times(
        stub: Stub) -> None:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    available = await open_account(stub, "M1", pb.ACCOUNT_KIND_AVAILABLE)
    await post(stub, "fund", move(clearing, pending, 150))
    results = await asyncio.gather(*(post(stub, f"debit-{i}", move(pending, available, 1))
                                     for i in range(200)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(f, grpc.aio.AioRpcError) and reason_of(f) == "INSUFFICIENT_FUNDS"
               for f in failures), failures[:3]
    assert len(results) - len(failures) == 150
    assert (await balance(stub, pending), await balance(stub, available)) == (0, 150)
    entries = await stub.ListEntries(pb.ListEntriesRequest(account_id=available))
    assert entries.page.has_more and len(entries.entries) == 20
    balances_after = [e.balance_after for e in entries.entries]
    assert balances_after == list(range(150, 130, -1))  # each saw the one before it
    await assert_sound(stub)


async def test_simultaneous_retries_of_one_posting_move_money_once(stub: Stub) -> None:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    pending = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    results = await asyncio.gather(*(post(stub, "pay:42:success", move(clearing, pending, 500))
                                     for _ in range(30)))
    assert sum(not r.replayed for r in results) == 1
    assert len({r.transfers[0].SerializeToString() for r in results}) == 1
    assert await balance(stub, pending) == 500
    await assert_sound(stub)


async def test_crossing_postings_do_not_deadlock_or_lose_updates(stub: Stub) -> None:
    clearing = await open_account(stub, "sandbox:app1", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
    a = await open_account(stub, "M1", pb.ACCOUNT_KIND_PENDING)
    b = await open_account(stub, "M2", pb.ACCOUNT_KIND_PENDING)
    await post(stub, "fund", move(clearing, a, 1000), move(clearing, b, 1000))
    # Each posting touches both accounts, half of them in each direction, with a third account
    # so the lock sets overlap in different orders.
    await asyncio.gather(*(
        post(stub, f"cross-{i}", move(a, b, 3), move(b, clearing, 1)) if i % 2 else
        post(stub, f"cross-{i}", move(b, a, 3), move(a, clearing, 1))
        for i in range(100)))
    assert (await balance(stub, a), await balance(stub, b)) == (950, 950)
    await assert_sound(stub)


async def test_simultaneous_opens_of_one_account_open_it_once(stub: Stub) -> None:
    results = await asyncio.gather(*(stub.OpenAccount(pb.OpenAccountRequest(
        owner="M9", currency="CNY", kind=pb.ACCOUNT_KIND_RESERVE)) for _ in range(20)))
    assert sum(r.created for r in results) == 1
    assert len({r.account.account_id for r in results}) == 1
