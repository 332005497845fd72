"""Settlement (T+N) through a real stub: terms, per-day postings, idempotence, refunds, holds,
freeze modes, concurrency, and the value dates it counts from."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

import grpc
import pytest
from sqlalchemy import text

from paymesh.account.v1 import account_pb2 as pb
from paymesh.account.v1.account_pb2_grpc import AccountServiceStub
from paymesh.services.account.days import day_of
from paymesh.services.account.server import create
from paymesh.services.account.settings import AccountSettings
from paymesh.services.account.settlement import settlement_posting_id
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import ConfigError, MeshConfig
from paymesh.services.common.db import open_engine, utc_now
from paymesh.services.common.edge import EDGE_HEADER
from paymesh.services.common.errors import reason_of
from tests.account.test_account_controls import failure, set_status
from tests.account.test_account_grpc import Stub, assert_sound, balance, open_account, post

HELD = pb.SETTLEMENT_SKIP_REASON_HELD
STATUS = pb.SETTLEMENT_SKIP_REASON_ACCOUNT_STATUS
SHORT = pb.SETTLEMENT_SKIP_REASON_PENDING_SHORT


@dataclass(frozen=True)
class Shop:
    owner: str
    pending: int
    available: int


def move(debit: int, credit: int, amount: int, code: str, value_date: str = ""
         ) -> pb.TransferRequest:
    return pb.TransferRequest(debit_account_id=debit, credit_account_id=credit, amount=amount,
                              code=code, value_date=value_date)


@pytest.fixture
async def clearing(stub: Stub) -> int:
    return await open_account(stub, "channel:sandbox", pb.ACCOUNT_KIND_CHANNEL_CLEARING)


async def shop(stub: Stub, owner: str) -> Shop:
    return Shop(owner, await open_account(stub, owner, pb.ACCOUNT_KIND_PENDING),
                await open_account(stub, owner, pb.ACCOUNT_KIND_AVAILABLE))


async def pay(stub: Stub, clearing: int, to: Shop, posting_id: str, amount: int, day: str
              ) -> None:
    await post(stub, posting_id, move(clearing, to.pending, amount, "PAY_SUCCESS", day))


async def refund(stub: Stub, clearing: int, of: Shop, posting_id: str, amount: int, day: str
                 ) -> None:
    await post(stub, posting_id, move(of.pending, clearing, amount, "REFUND", day))


async def settle(stub: Stub, today: str, reconciled: str, *, held: tuple[str, ...] = (),
                 owners: tuple[str, ...] = ()) -> pb.SettleDueResponse:
    return await stub.SettleDue(pb.SettleDueRequest(today=today, reconciled_through=reconciled,
                                                    held_owners=held, owners=owners))


def posted(run: pb.SettleDueResponse) -> list[tuple[str, str, int]]:
    return [(p.owner, p.value_date, p.amount) for p in run.postings]


def skipped(run: pb.SettleDueResponse) -> list[tuple[str, str, int, int]]:
    return [(s.owner, s.value_date, s.reason, s.amount) for s in run.skipped]


async def balances(stub: Stub, of: Shop) -> tuple[int, int]:
    return await balance(stub, of.pending), await balance(stub, of.available)


async def settlement_entries(stub: Stub, of: Shop) -> list[tuple[str, int, str]]:
    page = await stub.ListEntries(pb.ListEntriesRequest(account_id=of.available,
                                                        code="SETTLEMENT"))
    return [(e.transfer.value_date, e.amount, e.transfer.posting_id) for e in page.entries]


async def test_t_plus_1_settles_each_due_day_in_one_posting_and_only_once(
        stub: Stub, clearing: int) -> None:
    m1 = await shop(stub, "M1")
    await pay(stub, clearing, m1, "p1", 1000, "2024-03-01")
    await pay(stub, clearing, m1, "p2", 500, "2024-03-02")
    await pay(stub, clearing, m1, "p3", 200, "2024-03-02")
    await pay(stub, clearing, m1, "p4", 300, "2024-03-03")
    first = await settle(stub, "2024-03-03", "2024-03-02")
    assert first.today == "2024-03-03" and first.merchants_examined == 1
    assert posted(first) == [("M1", "2024-03-01", 1000), ("M1", "2024-03-02", 700)]
    assert [p.posting_id for p in first.postings] == ["settle:M1:CNY:2024-03-01",
                                                      "settle:M1:CNY:2024-03-02"]
    assert first.postings_made == 2 and not first.skipped
    assert [(t.currency, t.amount, t.posting_count) for t in first.totals] == [("CNY", 1700, 2)]
    assert await balances(stub, m1) == (300, 1700)
    assert await settlement_entries(stub, m1) == [
        ("2024-03-02", 700, "settle:M1:CNY:2024-03-02"),
        ("2024-03-01", 1000, "settle:M1:CNY:2024-03-01")]
    again = await settle(stub, "2024-03-03", "2024-03-02")
    assert again.postings_made == 0 and not again.postings and not again.totals
    assert await balances(stub, m1) == (300, 1700)
    # The reconciliation gate: a day not reconciled yet waits, however old.
    gated = await settle(stub, "2024-03-20", "2024-03-02")
    assert gated.postings_made == 0 and await balances(stub, m1) == (300, 1700)
    later = await settle(stub, "2024-03-20", "2024-03-19")
    assert posted(later) == [("M1", "2024-03-03", 300)]
    assert await balances(stub, m1) == (0, 2000)
    await assert_sound(stub)


async def test_terms_t0_t1_t3_decide_which_days_are_due(stub: Stub, clearing: int) -> None:
    shops = {n: await shop(stub, owner) for n, owner in ((0, "T0"), (1, "T1"), (3, "T3"))}
    default = await stub.GetSettlementTerms(pb.GetSettlementTermsRequest(owner="T1"))
    assert (default.terms.settle_days, default.terms.is_default) == (1, True)
    for n in (0, 3):
        answer = await stub.SetSettlementTerms(pb.SetSettlementTermsRequest(
            owner=shops[n].owner, settle_days=n, operator="ops:alice", note="contract"))
        assert answer.changed and answer.terms.settle_days == n and not answer.terms.is_default
        assert answer.terms.operator == "ops:alice" and answer.terms.update_time.seconds > 0
    for of in shops.values():
        for day in range(1, 6):
            await pay(stub, clearing, of, f"{of.owner}-{day}", 100 * day, f"2024-03-0{day}")
    run = await settle(stub, "2024-03-05", "2024-03-05")
    assert [(p.owner, p.value_date) for p in run.postings] == [
        *(("T0", f"2024-03-0{d}") for d in range(1, 6)),
        *(("T1", f"2024-03-0{d}") for d in range(1, 5)),
        *(("T3", f"2024-03-0{d}") for d in range(1, 3))]
    assert run.merchants_examined == 3
    assert await balances(stub, shops[0]) == (0, 1500)
    assert await balances(stub, shops[1]) == (500, 1000)
    assert await balances(stub, shops[3]) == (1200, 300)
    # T+3 a day later: one more day is due.
    assert posted(await settle(stub, "2024-03-06", "2024-03-05")) == [
        ("T1", "2024-03-05", 500), ("T3", "2024-03-03", 300)]
    await assert_sound(stub)


async def test_terms_are_validated_and_audited(stub: Stub, config: MeshConfig) -> None:
    for owner, days, field in (("M1", 31, "settle_days"), ("M1", -1, "settle_days"),
                               ("", 1, "owner")):
        error = await failure(stub.SetSettlementTerms(pb.SetSettlementTermsRequest(
            owner=owner, settle_days=days, operator="ops:alice")))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()
    for days in (2, 2, 0, 30):
        await stub.SetSettlementTerms(pb.SetSettlementTermsRequest(
            owner="M1", settle_days=days, operator="ops:bob", note=f"to {days}"))
    terms = (await stub.GetSettlementTerms(pb.GetSettlementTermsRequest(owner="M1"))).terms
    assert (terms.settle_days, terms.operator, terms.note) == (30, "ops:bob", "to 30")
    engine = open_engine(config.db_urls["account"])
    async with engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT old_days, new_days, operator FROM settlement_terms_change ORDER BY id"))).all()
    await engine.dispose()
    assert [tuple(r) for r in rows] == [(None, 2, "ops:bob"), (2, 0, "ops:bob"),
                                        (0, 30, "ops:bob")]  # the repeat of 2 changed nothing


async def test_the_default_terms_come_from_the_settings(config: MeshConfig) -> None:
    assert AccountSettings.from_env({}).default_settle_days == 1
    assert AccountSettings.from_env({"PAYMESH_SETTLEMENT_DAYS": "0"}).default_settle_days == 0
    for bad in ("31", "-1", "1.5", "two"):
        with pytest.raises(ConfigError, match="PAYMESH_SETTLEMENT_DAYS"):
            AccountSettings.from_env({"PAYMESH_SETTLEMENT_DAYS": bad})
    running = await create(config, "127.0.0.1:0", AccountSettings(default_settle_days=2))
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            t2 = AccountServiceStub(channel)
            terms = await t2.GetSettlementTerms(pb.GetSettlementTermsRequest(owner="M7"))
            assert (terms.terms.settle_days, terms.terms.is_default) == (2, True)
            clearing = await open_account(t2, "channel:x", pb.ACCOUNT_KIND_CHANNEL_CLEARING)
            m7 = await shop(t2, "M7")
            await pay(t2, clearing, m7, "a", 10, "2024-03-01")
            await pay(t2, clearing, m7, "b", 20, "2024-03-02")
            assert posted(await settle(t2, "2024-03-03", "2024-03-03")) == [
                ("M7", "2024-03-01", 10)]
    finally:
        await running.stop(grace=1.0)


async def test_a_refund_that_took_pending_caps_the_next_settlement(stub: Stub, clearing: int
                                                                   ) -> None:
    m1 = await shop(stub, "M1")
    await pay(stub, clearing, m1, "p1", 1000, "2024-03-01")
    assert posted(await settle(stub, "2024-03-02", "2024-03-01")) == [("M1", "2024-03-01", 1000)]
    await pay(stub, clearing, m1, "p2", 400, "2024-03-02")
    # A refund of day 1 (settled) recorded on day 3, paid out of what is pending now.
    await refund(stub, clearing, m1, "r1", 300, "2024-03-03")
    assert await balances(stub, m1) == (100, 1000)
    run = await settle(stub, "2024-03-04", "2024-03-03")
    assert posted(run) == [("M1", "2024-03-02", 100)]  # day 2 nets 400; pending holds 100
    assert skipped(run) == [("M1", "2024-03-02", SHORT, 300)]
    assert await balances(stub, m1) == (0, 1100)
    # Day 2 has its posting: a re-run moves nothing and reports nothing.
    again = await settle(stub, "2024-03-04", "2024-03-03")
    assert again.postings_made == 0 and not again.skipped
    # A refund of an unsettled day nets inside that day: day 5 settles 500 - 200.
    await pay(stub, clearing, m1, "p5", 500, "2024-03-05")
    await refund(stub, clearing, m1, "r5", 200, "2024-03-05")
    assert posted(await settle(stub, "2024-03-06", "2024-03-05")) == [("M1", "2024-03-05", 300)]
    # A day whose payments were all refunded nets to 0 and settles nothing.
    await pay(stub, clearing, m1, "p6", 50, "2024-03-06")
    await refund(stub, clearing, m1, "r6", 50, "2024-03-06")
    run = await settle(stub, "2024-03-07", "2024-03-06")
    assert run.postings_made == 0 and not run.skipped
    assert await balances(stub, m1) == (0, 1400)
    await assert_sound(stub)


async def test_nothing_pending_reports_the_day_short_and_a_later_day_settles_what_is_left(
        stub: Stub, clearing: int) -> None:
    m1 = await shop(stub, "M1")
    await pay(stub, clearing, m1, "p1", 200, "2024-03-01")
    await refund(stub, clearing, m1, "r1", 200, "2024-03-02")  # pending is empty again
    run = await settle(stub, "2024-03-03", "2024-03-02")
    assert run.postings_made == 0
    assert skipped(run) == [("M1", "2024-03-01", SHORT, 200)]
    await pay(stub, clearing, m1, "p3", 250, "2024-03-03")
    # The refund of day 2 used up day 1's funds: day 3 settles what there is, all of it its own,
    # and day 1 is never looked at again once a later day has settled.
    later = await settle(stub, "2024-03-04", "2024-03-03")
    assert posted(later) == [("M1", "2024-03-03", 250)]
    assert await balances(stub, m1) == (0, 250)
    assert (await settle(stub, "2024-03-05", "2024-03-04")).skipped == []
    await assert_sound(stub)


async def test_money_of_a_day_not_due_never_settles_early(stub: Stub, clearing: int) -> None:
    m1 = await shop(stub, "M1")
    await pay(stub, clearing, m1, "p1", 100, "2024-03-01")
    await pay(stub, clearing, m1, "p2", 50, "2024-03-02")
    await refund(stub, clearing, m1, "r1", 100, "2024-03-02")  # refunds day 1's payment
    run = await settle(stub, "2024-03-02", "2024-03-01")  # only day 1 is due
    assert run.postings_made == 0
    assert skipped(run) == [("M1", "2024-03-01", SHORT, 100)]
    assert await balances(stub, m1) == (50, 0)  # day 2's 50 waits for its own turn
    assert posted(await settle(stub, "2024-03-03", "2024-03-02")) == [("M1", "2024-03-02", 50)]
    await assert_sound(stub)


async def test_held_merchants_are_skipped_and_reported(stub: Stub, clearing: int) -> None:
    m1, m2 = await shop(stub, "M1"), await shop(stub, "M2")
    for of in (m1, m2):
        await pay(stub, clearing, of, f"{of.owner}-1", 100, "2024-03-01")
        await pay(stub, clearing, of, f"{of.owner}-2", 50, "2024-03-02")
    run = await settle(stub, "2024-03-03", "2024-03-02", held=("M2",))
    assert run.merchants_examined == 2
    assert posted(run) == [("M1", "2024-03-01", 100), ("M1", "2024-03-02", 50)]
    assert skipped(run) == [("M2", "", HELD, 150)]
    assert await balances(stub, m2) == (150, 0)
    released = await settle(stub, "2024-03-03", "2024-03-02")
    assert posted(released) == [("M2", "2024-03-01", 100), ("M2", "2024-03-02", 50)]
    only = await settle(stub, "2024-03-03", "2024-03-02", owners=("M1",))
    assert only.merchants_examined == 1 and only.postings_made == 0


@pytest.mark.parametrize(("kind", "status", "settles"), [
    ("pending", pb.ACCOUNT_STATUS_STOP_OUT, False),
    ("pending", pb.ACCOUNT_STATUS_FROZEN, False),
    ("pending", pb.ACCOUNT_STATUS_CANCELLED, False),
    ("pending", pb.ACCOUNT_STATUS_STOP_IN, True),
    ("available", pb.ACCOUNT_STATUS_STOP_IN, False),
    ("available", pb.ACCOUNT_STATUS_FROZEN, False),
    ("available", pb.ACCOUNT_STATUS_CANCELLED, False),
    ("available", pb.ACCOUNT_STATUS_STOP_OUT, True),
], ids=lambda value: str(value))
async def test_frozen_accounts_are_skipped_without_failing_the_run(
        stub: Stub, clearing: int, kind: str, status: int, settles: bool) -> None:
    m1, m2 = await shop(stub, "M1"), await shop(stub, "M2")
    for of in (m1, m2):
        await pay(stub, clearing, of, f"{of.owner}-1", 100, "2024-03-01")
    await set_status(stub, m1.pending if kind == "pending" else m1.available, status)
    run = await settle(stub, "2024-03-02", "2024-03-01")
    assert ("M2", "2024-03-01", 100) in posted(run)
    if settles:
        assert ("M1", "2024-03-01", 100) in posted(run) and not run.skipped
        assert await balances(stub, m1) == (0, 100)
    else:
        assert skipped(run) == [("M1", "", STATUS, 100)]
        account = m1.pending if kind == "pending" else m1.available
        assert f"account {account} is {pb.AccountStatus.Name(status)[15:]}" in \
            run.skipped[0].message
        assert await balances(stub, m1) == (100, 0)
    await assert_sound(stub)


async def test_an_available_account_is_opened_when_missing(stub: Stub, clearing: int) -> None:
    pending = await open_account(stub, "M5", pb.ACCOUNT_KIND_PENDING)
    await post(stub, "p", move(clearing, pending, 70, "PAY_SUCCESS", "2024-03-01"))
    assert posted(await settle(stub, "2024-03-02", "2024-03-01")) == [("M5", "2024-03-01", 70)]
    accounts = (await stub.GetBalances(pb.GetBalancesRequest(owner="M5"))).accounts
    assert [(a.kind, a.balance) for a in accounts] == [(pb.ACCOUNT_KIND_PENDING, 0),
                                                       (pb.ACCOUNT_KIND_AVAILABLE, 70)]


async def test_settled_funds_can_be_withdrawn_and_held_without_a_frozen_account_yet(
        stub: Stub, clearing: int) -> None:
    pending = await open_account(stub, "M6", pb.ACCOUNT_KIND_PENDING)  # as payments open it
    await post(stub, "p", move(clearing, pending, 500, "PAY_SUCCESS", "2024-03-01"))
    await settle(stub, "2024-03-02", "2024-03-01")
    requested = await stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
        withdrawal_id="w6", owner="M6", currency="CNY", amount=300, operator="ops:alice"))
    assert requested.withdrawal.state == pb.WITHDRAWAL_STATE_REQUESTED
    await stub.FreezeAmount(pb.FreezeAmountRequest(freeze_id="f6", owner="M6", currency="CNY",
                                                   amount=50, operator="ops:alice"))
    accounts = (await stub.GetBalances(pb.GetBalancesRequest(owner="M6"))).accounts
    assert [(a.kind, a.balance) for a in accounts] == [(pb.ACCOUNT_KIND_PENDING, 0),
                                                       (pb.ACCOUNT_KIND_AVAILABLE, 150),
                                                       (pb.ACCOUNT_KIND_FROZEN, 350)]
    # A merchant with nothing available gets no FROZEN account from a refused request.
    error = await failure(stub.RequestWithdrawal(pb.RequestWithdrawalRequest(
        withdrawal_id="w7", owner="M7", currency="CNY", amount=1, operator="ops:alice")))
    assert reason_of(error) == "ACCOUNT_NOT_FOUND"
    assert not (await stub.GetBalances(pb.GetBalancesRequest(owner="M7"))).accounts


async def test_five_simultaneous_runs_and_refunds_settle_each_day_once(
        stub: Stub, clearing: int) -> None:
    shops = [await shop(stub, f"C{i}") for i in range(3)]
    for of in shops:
        for day in (1, 2, 3, 4):  # day 4 is not due: pending always covers the refunds
            await pay(stub, clearing, of, f"{of.owner}-{day}", 1000 * day if day < 4 else 100,
                      f"2024-03-0{day}")
    refunds = [refund(stub, clearing, of, f"{of.owner}-r{i}", 10, "2024-03-04")
               for of in shops for i in range(4)]
    runs = [settle(stub, "2024-03-04", "2024-03-03") for _ in range(5)]
    results = await asyncio.gather(*runs, *refunds)
    made = [p for r in results[:5] for p in r.postings]  # type: ignore[union-attr]
    # Each due day settles exactly once, whichever run got there first. Refunds draw on the oldest
    # funds, so how much of day 1 a settlement took depends on how many refunds it came after;
    # what never varies: nothing of day 4 (not due) left PENDING early, nothing was lost.
    assert Counter((p.owner, p.value_date) for p in made) == {
        (of.owner, f"2024-03-0{d}"): 1 for of in shops for d in (1, 2, 3)}
    assert sum(r.postings_made for r in results[:5]) == 9  # type: ignore[union-attr]
    for of in shops:
        settled = await settlement_entries(stub, of)
        assert sorted(d for d, _, _ in settled) == ["2024-03-01", "2024-03-02", "2024-03-03"]
        pending, available = await balances(stub, of)
        assert pending + available == 6100 - 40
        assert 100 - 40 <= pending <= 100
    # Day 4's turn settles whatever is left, exactly once.
    fourth = await settle(stub, "2024-03-05", "2024-03-04")
    assert [(p.owner, p.value_date) for p in fourth.postings] == [
        (of.owner, "2024-03-04") for of in shops]
    assert (await settle(stub, "2024-03-05", "2024-03-04")).postings_made == 0
    assert [await balances(stub, of) for of in shops] == [(0, 6060)] * 3
    await assert_sound(stub)


async def test_value_dates_are_validated_returned_and_part_of_the_posting(
        stub: Stub, clearing: int) -> None:
    m1 = await shop(stub, "M1")
    for bad in ("2024-13-01", "2024-02-30", "2024/03/01", "20240301", "24-03-01", "2024-3-1",
                " 2024-03-01"):
        error = await failure(post(stub, "v", move(clearing, m1.pending, 1, "PAY"),
                                   move(clearing, m1.pending, 1, "PAY", bad)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason_of(error) == "INVALID_ARGUMENT"
        assert "transfers[1].value_date" in error.details()
    given = await post(stub, "v1", move(clearing, m1.pending, 5, "PAY", "2024-02-29"))
    assert given.transfers[0].value_date == "2024-02-29"
    before = day_of(utc_now()).isoformat()
    recorded = await post(stub, "v2", move(clearing, m1.pending, 5, "PAY"))
    assert recorded.transfers[0].value_date in {before, day_of(utc_now()).isoformat()}
    assert (await post(stub, "v1", move(clearing, m1.pending, 5, "PAY", "2024-02-29"))).replayed
    assert (await post(stub, "v2", move(clearing, m1.pending, 5, "PAY"))).replayed
    for posting_id, other in (("v1", "2024-03-01"), ("v1", ""), ("v2", "2024-02-29")):
        error = await failure(post(stub, posting_id, move(clearing, m1.pending, 5, "PAY", other)))
        assert reason_of(error) == "POSTING_ID_REUSED"
    assert await balance(stub, m1.pending) == 10


async def test_settle_due_refuses_bad_arguments(stub: Stub) -> None:
    for request, field in (
            (pb.SettleDueRequest(today="2024-03-01"), "reconciled_through"),
            (pb.SettleDueRequest(today="2024-3-1", reconciled_through="2024-03-01"), "today"),
            (pb.SettleDueRequest(reconciled_through="yesterday"), "reconciled_through"),
            (pb.SettleDueRequest(reconciled_through="2024-03-01", held_owners=["M1", ""]),
             "held_owners[1]"),
            (pb.SettleDueRequest(reconciled_through="2024-03-01", owners=["a b"]), "owners[0]")):
        error = await failure(stub.SettleDue(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and field in error.details()


async def test_an_empty_today_is_the_current_day_in_china(stub: Stub) -> None:
    before = day_of(utc_now()).isoformat()
    run = await stub.SettleDue(pb.SettleDueRequest(reconciled_through="2024-03-01"))
    assert run.today in {before, day_of(utc_now()).isoformat()}


async def test_through_the_edge_settlement_needs_the_admin_token(stub: Stub, config: MeshConfig
                                                                 ) -> None:
    edge = ((EDGE_HEADER, "1"),)
    request = pb.SettleDueRequest(today="2024-03-02", reconciled_through="2024-03-01")
    for call in (stub.SettleDue(request, metadata=edge),
                 stub.GetSettlementTerms(pb.GetSettlementTermsRequest(owner="M1"),
                                         metadata=edge)):
        error = await failure(call)
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    admin = (*edge, ("authorization", f"Bearer {config.admin_token}"))
    assert (await stub.SettleDue(request, metadata=admin)).today == "2024-03-02"
    refused = await failure(stub.OpenAccount(pb.OpenAccountRequest(
        owner="M1", currency="CNY", kind=pb.ACCOUNT_KIND_PENDING), metadata=admin))
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_long_owner_keeps_the_posting_id_within_64_characters() -> None:
    assert settlement_posting_id("M1", "CNY", "2024-03-01") == "settle:M1:CNY:2024-03-01"
    long_a, long_b = "A" * 64, "A" * 63 + "B"
    ids = {settlement_posting_id(o, "CNY", "2024-03-01") for o in (long_a, long_b)}
    assert len(ids) == 2 and all(len(i) <= 64 and i.startswith("settle:#") for i in ids)
