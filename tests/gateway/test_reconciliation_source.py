"""ReconciliationSourceService against a real gateway database: UTC+8 day windows, batches,
lookups, and corrections that go through the state machine once, whatever the replays."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.gateway.v1 import gateway_pb2 as pb
from paymesh.gateway.v1.gateway_pb2_grpc import ReconciliationSourceServiceStub
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.common.edge import EDGE_HEADER
from paymesh.services.common.errors import (
    AlreadyExists,
    DomainError,
    InvalidArgument,
    NotFound,
    reason_of,
)
from paymesh.services.gateway.models import (
    OrderCorrection,
    OutboxEvent,
    PayOrder,
    RefundOrder,
    RefundState,
)
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.reconciliation_source import (
    PAY,
    REFUND,
    Action,
    Correction,
    CorrectionResult,
    ReconciliationSource,
    Record,
    day_window,
)
from paymesh.services.gateway.server import create

CST = timezone(timedelta(hours=8))
KEY = "0123456789abcdef01234567.wxpay"
DAY = "2026-03-02"
MIDNIGHT = datetime(2026, 3, 2, tzinfo=CST)  # 2026-03-01T16:00Z
NEXT_MIDNIGHT = datetime(2026, 3, 3, tzinfo=CST)


def epoch(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp())


def pay_row(pid: str, *, created: datetime = MIDNIGHT + timedelta(hours=9),
            success: datetime | None = None, state: int | None = None,
            key: str | None = KEY, **extra: Any) -> dict[str, Any]:
    """The columns of a pay order; paid 5 s after creation unless said otherwise."""
    if success is None and state in (None, St.SUCCESS, St.REFUND):
        success = created + timedelta(seconds=5)
    row = dict(pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=f"O-{pid}",
               if_code="wxpay", way_code="WX_NATIVE", amount=10000, currency="cny",
               state=St.SUCCESS if state is None else state, subject="s", body="b",
               division_mode=0, expire_at=created + timedelta(hours=2), fee_rate="0.006",
               fee_amount=60, fee_fixed=0, fee_floor=0, fee_cap=0, fee_rounding=1,
               refund_fee_rule=1, channel_cost_rate=None, channel_fee_amount=None,
               channel_config_key=key, channel_order_no=f"CH-{pid}", late_success=False,
               refunded_amount=0, refund_reserved=0, refund_in_flight=None, refund_times=0,
               success_at=success, created_at=created, updated_at=created)
    row.update(extra)
    return row


def refund_row(rid: str, pid: str, *, amount: int = 3000, state: int = RefundState.PAYING,
               created: datetime = MIDNIGHT + timedelta(hours=10),
               success: datetime | None = None, key: str | None = KEY) -> dict[str, Any]:
    return dict(refund_order_id=rid, pay_order_id=pid, mch_no="M1", app_id="A1",
                mch_refund_no=f"MR-{rid}", if_code="wxpay", channel_config_key=key,
                pay_amount=10000, refund_amount=amount, currency="cny", state=state,
                reason="r", channel_order_no=f"CH-{pid}", channel_refund_no=f"CR-{rid}",
                success_at=success, expire_at=created + timedelta(hours=2), created_at=created,
                updated_at=created)


@dataclass
class World:
    engine: AsyncEngine
    source: ReconciliationSource
    pokes: list[int]

    async def add(self, *rows: dict[str, Any], table: Any = PayOrder) -> None:
        async with sessions(self.engine).begin() as session:
            await session.execute(insert(table), list(rows))

    async def add_open_refund(self, rid: str, pid: str, amount: int) -> None:
        """A refund in flight, with its amount reserved on the pay order as refunds do."""
        await self.add(refund_row(rid, pid, amount=amount), table=RefundOrder)
        async with sessions(self.engine).begin() as session:
            await session.execute(update(PayOrder).where(PayOrder.pay_order_id == pid).values(
                refund_reserved=amount, refund_in_flight=rid))

    async def pay(self, pid: str) -> PayOrder:
        async with sessions(self.engine)() as session:
            order = await session.get(PayOrder, pid)
        assert order is not None
        return order

    async def refund(self, rid: str) -> RefundOrder:
        async with sessions(self.engine)() as session:
            refund = await session.get(RefundOrder, rid)
        assert refund is not None
        return refund

    async def events(self) -> list[tuple[str, str]]:
        async with sessions(self.engine)() as session:
            rows = await session.execute(select(OutboxEvent.topic, OutboxEvent.order_id)
                                         .order_by(OutboxEvent.event_id))
        return [(topic, order_id) for topic, order_id in rows]

    async def corrections(self) -> int:
        async with sessions(self.engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(OrderCorrection))
                       or 0)

    async def stream(self, key: str = KEY, day: str = DAY) -> list[list[Record]]:
        return [[Record._make(row) for row in batch]
                async for batch in self.source.stream_day(key, day)]


@pytest.fixture
async def world(config: MeshConfig) -> AsyncIterator[World]:
    engine = open_engine(config.db_urls["gateway"])
    pokes: list[int] = []
    yield World(engine, ReconciliationSource(engine, on_event=lambda: pokes.append(1)), pokes)
    await engine.dispose()


async def test_the_day_is_a_china_standard_time_calendar_day(world: World) -> None:
    assert day_window(DAY) == (datetime(2026, 3, 1, 16, tzinfo=UTC),
                               datetime(2026, 3, 2, 16, tzinfo=UTC))
    late_yesterday = MIDNIGHT - timedelta(seconds=1)  # 23:59:59+08 on 1 March
    last_instant = NEXT_MIDNIGHT - timedelta(microseconds=1)
    await world.add(
        pay_row("P01", created=late_yesterday, state=St.CLOSED),  # out: the day before
        pay_row("P02", created=MIDNIGHT, state=St.PAYING),  # in: the day's first instant
        pay_row("P03", created=late_yesterday, success=MIDNIGHT + timedelta(seconds=1)),
        pay_row("P04", created=late_yesterday, success=late_yesterday),  # out: all the day before
        pay_row("P05", created=last_instant, success=NEXT_MIDNIGHT),  # in: created in it
        pay_row("P06", created=NEXT_MIDNIGHT, state=St.PAYING),  # out: the next day
        pay_row("P07", key="other.wxpay"),  # another channel config
        pay_row("P08", created=MIDNIGHT + timedelta(hours=3), channel_cost_rate="0.0025",
                channel_fee_amount=25, refunded_amount=3000, amount=10000),
        pay_row("P09", created=MIDNIGHT - timedelta(days=3),
                success=NEXT_MIDNIGHT - timedelta(seconds=1)),  # a late success of the day
    )
    await world.add(
        refund_row("R1", "P08", state=RefundState.SUCCESS, created=late_yesterday,
                   success=MIDNIGHT),
        refund_row("R2", "P08", created=MIDNIGHT - timedelta(days=1)),  # still open, older
        refund_row("R3", "P08", created=NEXT_MIDNIGHT - timedelta(seconds=1)),
        refund_row("R4", "P08", created=NEXT_MIDNIGHT),
        refund_row("R5", "P07", key="other.wxpay"),
        table=RefundOrder)

    batches = await world.stream()
    records = [record for batch in batches for record in batch]
    assert [(r.kind, r.pay_order_id, r.refund_order_id) for r in records] == [
        (PAY, "P02", ""), (PAY, "P03", ""), (PAY, "P05", ""), (PAY, "P08", ""), (PAY, "P09", ""),
        (REFUND, "P08", "R1"), (REFUND, "P08", "R3")]
    by_id = {r.refund_order_id or r.pay_order_id: r for r in records}
    assert by_id["P03"] == Record(
        PAY, "P03", "", "M1", "CH-P03", 10000, St.SUCCESS, 60, None,
        epoch(MIDNIGHT + timedelta(seconds=1)), epoch(late_yesterday), "CNY", KEY, 0)
    assert (by_id["P02"].state, by_id["P02"].success_time) == (St.PAYING, 0)
    assert (by_id["P08"].channel_fee_amount, by_id["P08"].refunded_amount) == (25, 3000)
    assert by_id["R1"] == Record(REFUND, "P08", "R1", "M1", "CR-R1", 3000, RefundState.SUCCESS,
                                 0, None, epoch(MIDNIGHT), epoch(late_yesterday), "CNY", KEY, 0)
    # The day before holds what was created then, paid then or not at all.
    before = [r for batch in await world.stream(day="2026-03-01") for r in batch]
    assert [r.refund_order_id or r.pay_order_id for r in before] == [
        "P01", "P03", "P04", "R1", "R2"]


async def test_records_cross_batch_boundaries_once_each_in_id_order(world: World) -> None:
    # 1800 orders created the day before and paid in the day, 2400 created in it, 30 created in
    # it whose ids fall between the others', and orders that must not appear: 40 of the day
    # before (ids between too) and 50 of another config. Inserted backwards, so the database
    # has to sort.
    start = MIDNIGHT - timedelta(seconds=7200)
    rows = [pay_row(f"P{n:05d}", created=start + timedelta(seconds=4 * n),
                    success=start + timedelta(seconds=4 * n + 7300)) for n in range(4200)]
    rows += [pay_row(f"P{n:05d}x", created=MIDNIGHT + timedelta(minutes=n)) for n in range(30)]
    rows += [pay_row(f"P{n:05d}y", created=MIDNIGHT - timedelta(hours=5)) for n in range(40)]
    rows += [pay_row(f"Q{n:03d}", key="other.wxpay") for n in range(50)]
    await world.add(*rows[::-1])
    await world.add(*[refund_row(f"R{n:02d}", "P04000", amount=1) for n in range(5)],
                    table=RefundOrder)
    expected = sorted([f"P{n:05d}" for n in range(4200)] + [f"P{n:05d}x" for n in range(30)])

    batches = await world.stream()
    assert [len(batch) for batch in batches] == [2000, 2000, 230, 5]
    pays = [r.pay_order_id for batch in batches[:3] for r in batch]
    assert pays == expected  # each once, in id order across the batch boundaries
    assert all(r.kind == PAY for batch in batches[:3] for r in batch)
    assert [r.refund_order_id for r in batches[3]] == [f"R{n:02d}" for n in range(5)]


async def test_stream_and_lookup_refuse_bad_fields_naming_them(world: World) -> None:
    for day in ("2026-3-02", "20260302", "2026-02-30", "", "2026-03-02T00:00", "２０２６-03-02"):
        with pytest.raises(InvalidArgument) as error:
            await world.stream(day=day)
        assert error.value.field == "bill_date"
    for key in ("", "k" * 97):
        with pytest.raises(InvalidArgument) as error:
            await world.stream(key=key)
        assert error.value.field == "channel_config_key"
    with pytest.raises(InvalidArgument) as error:
        await world.source.lookup([f"P{n}" for n in range(1001)], [])
    assert error.value.field == "pay_order_ids"
    with pytest.raises(InvalidArgument) as error:
        await world.source.lookup([], [f"R{n}" for n in range(1001)])
    assert error.value.field == "refund_order_ids"


async def test_lookup_answers_pay_orders_first_each_in_the_order_asked(world: World) -> None:
    await world.add(pay_row("P1"), pay_row("P2", created=MIDNIGHT - timedelta(days=40)),
                    pay_row("P3", key=None))
    await world.add(refund_row("R1", "P1"), refund_row("R2", "P2"), table=RefundOrder)
    found = await world.source.lookup(["P3", "NOPE", "P1", "P3", "P2"], ["R2", "R9", "R1"])
    assert [(r.kind, r.pay_order_id, r.refund_order_id) for r in found] == [
        (PAY, "P3", ""), (PAY, "P1", ""), (PAY, "P2", ""), (REFUND, "P2", "R2"),
        (REFUND, "P1", "R1")]
    assert found[0].channel_config_key == ""  # an order older than config keys
    assert found[2].create_time == epoch(MIDNIGHT - timedelta(days=40))
    assert await world.source.lookup([f"X{n}" for n in range(1000)], []) == []
    assert await world.source.lookup([], []) == []


def fix(action: Action, pid: str, correction_id: str = "MK1", **fields: Any) -> Correction:
    return Correction(correction_id=correction_id, action=action, pay_order_id=pid, **fields)


async def test_mark_pay_succeeded_is_a_late_success_with_its_event(world: World) -> None:
    await world.add(pay_row("P1", state=St.CLOSED, channel_order_no=None, err_code="EXPIRED"))
    paid_at = MIDNIGHT + timedelta(minutes=5)
    correction = fix(Action.MARK_PAY_SUCCEEDED, "P1", channel_order_no="4200001",
                     success_time=epoch(paid_at), reason="in the WeChat bill")
    done = await world.source.apply(correction)
    assert not done.replayed
    assert (done.previous_state, done.previous_amount, done.previous_fee_amount) == (
        St.CLOSED, 10000, 60)
    assert (done.record.state, done.record.channel_order_no, done.record.success_time) == (
        St.SUCCESS, "4200001", epoch(paid_at))
    order = await world.pay("P1")
    assert (order.state, order.channel_order_no, order.success_at, order.err_code,
            order.late_success) == (St.SUCCESS, "4200001", paid_at, None, True)
    assert await world.events() == [("pay.succeeded", "P1")]
    assert world.pokes == [1]

    again = await world.source.apply(correction)  # a replay: the first answer, nothing new
    assert again.replayed and again.record == done.record
    assert (again.previous_state, again.previous_amount) == (St.CLOSED, 10000)
    assert await world.events() == [("pay.succeeded", "P1")] and world.pokes == [1]
    assert await world.corrections() == 1

    with pytest.raises(AlreadyExists) as reused:
        await world.source.apply(replace(correction, channel_order_no="4200002"))
    assert reused.value.reason == "CORRECTION_ID_REUSED"
    with pytest.raises(DomainError) as wrong_state:  # paid now: a new id is refused
        await world.source.apply(replace(correction, correction_id="MK2"))
    assert wrong_state.value.reason == "CORRECTION_STATE"
    assert "paid (state 2)" in wrong_state.value.message


async def test_mark_pay_failed_needs_a_paid_order_with_nothing_refunded(world: World) -> None:
    await world.add(pay_row("P1"), pay_row("P2", refunded_amount=1), pay_row("P3"),
                    pay_row("P4", state=St.PAYING))
    await world.add_open_refund("R3", "P3", 100)
    for pid, state in (("P2", "paid (state 2, 1 fen refunded"), ("P3", "100 fen in flight"),
                       ("P4", "paying (state 1)")):
        with pytest.raises(DomainError) as refused:
            await world.source.apply(fix(Action.MARK_PAY_FAILED, pid, f"F{pid}"))
        assert refused.value.reason == "CORRECTION_STATE" and state in refused.value.message
    assert await world.corrections() == 0

    done = await world.source.apply(fix(Action.MARK_PAY_FAILED, "P1", reason="not in the bill"))
    assert (done.previous_state, done.record.state, done.record.success_time) == (
        St.SUCCESS, St.FAIL, 0)
    order = await world.pay("P1")
    assert (order.state, order.err_code, order.err_msg, order.success_at) == (
        St.FAIL, "RECONCILIATION", "not in the bill", None)
    assert await world.events() == [("pay.failed", "P1")] and world.pokes == [1]


async def test_corrections_wait_until_the_payment_reached_the_ledger(world: World) -> None:
    await world.add(pay_row("P1", state=St.PAYING))
    await world.source.apply(fix(Action.MARK_PAY_SUCCEEDED, "P1", "MK1"))
    with pytest.raises(DomainError) as waiting:  # pay.succeeded not delivered yet
        await world.source.apply(fix(Action.CORRECT_PAY_AMOUNT, "P1", "MK2", amount=9000))
    assert waiting.value.reason == "CORRECTION_STATE" and "not delivered" in str(waiting.value)
    async with sessions(world.engine).begin() as session:
        await session.execute(update(OutboxEvent).values(delivered_at=utc_now()))
    await world.source.apply(fix(Action.CORRECT_PAY_AMOUNT, "P1", "MK2", amount=9000))
    await world.source.apply(fix(Action.MARK_PAY_FAILED, "P1", "MK3"))
    with pytest.raises(DomainError) as twice:  # pay.succeeded was given to this order already
        await world.source.apply(fix(Action.MARK_PAY_SUCCEEDED, "P1", "MK4"))
    assert twice.value.reason == "CORRECTION_STATE" and "a second time" in str(twice.value)
    assert (await world.pay("P1")).state == St.FAIL


async def test_correct_pay_amount_recomputes_fees_from_the_order_snapshot(world: World) -> None:
    # Fee model on the order: 0.6 % + 10 fen fixed, capped at 50; channel cost 0.25 %.
    await world.add(pay_row("P1", amount=10000, fee_amount=50, fee_fixed=10, fee_cap=50,
                            channel_cost_rate="0.0025", channel_fee_amount=25),
                    pay_row("P2", amount=10000, fee_rate="0.0055", fee_amount=55),
                    pay_row("P3", amount=500, refunded_amount=500, state=St.REFUND))
    done = await world.source.apply(fix(Action.CORRECT_PAY_AMOUNT, "P1", amount=3001))
    # 3001 × 0.006 = 18.006 → 18, + 10 = 28 (under the cap); channel 3001 × 0.0025 → 8
    assert (done.previous_amount, done.previous_fee_amount) == (10000, 50)
    assert (done.record.amount, done.record.fee_amount, done.record.channel_fee_amount) == (
        3001, 28, 8)
    order = await world.pay("P1")
    assert (order.amount, order.fee_amount, order.channel_fee_amount, order.state) == (
        3001, 28, 8, St.SUCCESS)
    low = await world.source.apply(fix(Action.CORRECT_PAY_AMOUNT, "P2", "MK2", amount=99))
    assert (low.record.amount, low.record.fee_amount, low.record.channel_fee_amount) == (
        99, 1, None)  # 0.5445 half up; no channel cost rate known: stays unknown
    with pytest.raises(DomainError) as refunded:
        await world.source.apply(fix(Action.CORRECT_PAY_AMOUNT, "P3", "MK3", amount=400))
    assert refunded.value.reason == "CORRECTION_STATE" and "refunded (state 5" in str(
        refunded.value)
    assert await world.events() == [] and world.pokes == []  # the caller moves the money


async def test_set_channel_fee_changes_only_the_platform_cost(world: World) -> None:
    await world.add(pay_row("P1", channel_fee_amount=25), pay_row("P2", state=St.REFUND,
                                                                  refunded_amount=10000),
                    pay_row("P3", state=St.PAYING))
    done = await world.source.apply(fix(Action.SET_CHANNEL_FEE, "P1", channel_fee=31))
    assert (done.record.channel_fee_amount, done.record.fee_amount, done.record.amount) == (
        31, 60, 10000)
    zero = await world.source.apply(fix(Action.SET_CHANNEL_FEE, "P2", "MK2", channel_fee=0))
    assert zero.record.channel_fee_amount == 0 and zero.record.state == St.REFUND
    with pytest.raises(DomainError) as unpaid:
        await world.source.apply(fix(Action.SET_CHANNEL_FEE, "P3", "MK3", channel_fee=1))
    assert unpaid.value.reason == "CORRECTION_STATE" and "paying (state 1)" in str(unpaid.value)
    assert await world.events() == []


async def test_mark_refund_succeeded_settles_it_like_the_channel_would(world: World) -> None:
    await world.add(pay_row("P1", amount=10000))
    await world.add_open_refund("R1", "P1", 10000)
    refunded_at = MIDNIGHT + timedelta(hours=20)
    done = await world.source.apply(fix(
        Action.MARK_REFUND_SUCCEEDED, "P1", refund_order_id="R1", channel_order_no="503001",
        success_time=epoch(refunded_at)))
    assert (done.previous_state, done.previous_amount) == (RefundState.PAYING, 10000)
    assert (done.record.kind, done.record.state, done.record.success_time,
            done.record.channel_order_no) == (REFUND, RefundState.SUCCESS, epoch(refunded_at),
                                              "503001")
    order = await world.pay("P1")
    assert (order.refunded_amount, order.refund_reserved, order.refund_in_flight,
            order.refund_times, order.state) == (10000, 0, None, 1, St.REFUND)
    assert (await world.refund("R1")).success_at == refunded_at
    assert await world.events() == [("refund.succeeded", "R1")] and world.pokes == [1]


async def test_mark_refund_failed_gives_the_reserved_amount_back(world: World) -> None:
    await world.add(pay_row("P1"), pay_row("P2"))
    await world.add_open_refund("R1", "P1", 3000)
    await world.add(refund_row("R2", "P2", state=RefundState.FAIL), table=RefundOrder)
    with pytest.raises(NotFound) as elsewhere:  # a refund of another order
        await world.source.apply(fix(Action.MARK_REFUND_FAILED, "P2", refund_order_id="R1"))
    assert elsewhere.value.reason == "REFUND_NOT_FOUND"
    with pytest.raises(DomainError) as ended:
        await world.source.apply(fix(Action.MARK_REFUND_FAILED, "P2", refund_order_id="R2"))
    assert ended.value.reason == "CORRECTION_STATE" and "failed (state 3)" in str(ended.value)

    done = await world.source.apply(fix(Action.MARK_REFUND_FAILED, "P1", refund_order_id="R1",
                                        reason="no such refund at the channel"))
    assert (done.previous_state, done.record.state) == (RefundState.PAYING, RefundState.FAIL)
    order, refund = await world.pay("P1"), await world.refund("R1")
    assert (order.state, order.refunded_amount, order.refund_reserved,
            order.refund_in_flight) == (St.SUCCESS, 0, 0, None)
    assert (refund.err_code, refund.err_msg) == ("RECONCILIATION", "no such refund at the channel")
    assert await world.events() == [("refund.failed", "R1")]


async def test_corrections_refuse_bad_fields_and_unknown_orders(world: World) -> None:
    await world.add(pay_row("P1"))
    bad = {
        "correction_id": fix(Action.SET_CHANNEL_FEE, "P1", ""),
        "action": Correction("MK1", 0, "P1"),
        "pay_order_id": fix(Action.SET_CHANNEL_FEE, ""),
        "refund_order_id": fix(Action.MARK_REFUND_FAILED, "P1"),
        "amount": fix(Action.CORRECT_PAY_AMOUNT, "P1", amount=0),
        "channel_fee": fix(Action.SET_CHANNEL_FEE, "P1", channel_fee=-1),
        "success_time": fix(Action.MARK_PAY_SUCCEEDED, "P1", success_time=-5),
        "reason": fix(Action.MARK_PAY_FAILED, "P1", reason="x" * 257),
    }
    bad_ids = ("x" * 65, "tab\there", "订单")
    cases = [*bad.items(), *(("correction_id", fix(Action.SET_CHANNEL_FEE, "P1", cid))
                             for cid in bad_ids)]
    for field, correction in cases:
        with pytest.raises(InvalidArgument) as error:
            await world.source.apply(correction)
        assert error.value.field == field
    with pytest.raises(NotFound) as missing:
        await world.source.apply(fix(Action.SET_CHANNEL_FEE, "P404"))
    assert missing.value.reason == "ORDER_NOT_FOUND"
    assert await world.corrections() == 0 and (await world.pay("P1")).channel_fee_amount is None


async def test_a_failure_before_commit_leaves_no_trace_and_a_retry_applies(world: World) -> None:
    await world.add(pay_row("P1"))

    def broken_clock() -> datetime:
        raise RuntimeError("crash while recording the correction")

    crashing = ReconciliationSource(world.engine, clock=broken_clock)
    correction = fix(Action.SET_CHANNEL_FEE, "P1", channel_fee=12)
    with pytest.raises(RuntimeError):
        await crashing.apply(correction)
    assert (await world.pay("P1")).channel_fee_amount is None and await world.corrections() == 0
    assert not (await world.source.apply(correction)).replayed
    assert (await world.source.apply(correction)).replayed


async def test_ten_identical_corrections_at_once_apply_once(world: World) -> None:
    await world.add(pay_row("P1"), pay_row("P2"))
    correction = fix(Action.MARK_PAY_FAILED, "P1", "MK-SAME", reason="bank miss")
    outcomes = await asyncio.gather(*(world.source.apply(correction) for _ in range(10)),
                                    return_exceptions=True)
    results = [o for o in outcomes if isinstance(o, CorrectionResult)]
    assert sorted(r.replayed for r in results) == [False] + [True] * 9, outcomes
    assert len({r.record for r in results}) == 1 and results[0].record.state == St.FAIL
    assert {r.previous_state for r in results} == {St.SUCCESS}
    assert await world.events() == [("pay.failed", "P1")] and len(world.pokes) == 1
    # Ten different ids for the same change: one applies, the others find the state moved.
    outcomes = await asyncio.gather(
        *(world.source.apply(fix(Action.MARK_PAY_FAILED, "P2", f"MK-{n}")) for n in range(10)),
        return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == 9 and {e.reason for e in refused} == {"CORRECTION_STATE"}
    assert await world.events() == [("pay.failed", "P1"), ("pay.failed", "P2")]
    assert await world.corrections() == 2


def field_of(error: grpc.aio.AioRpcError) -> str:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return bad.field_violations[0].field
    return ""


async def test_the_gateway_serves_it_inside_the_mesh_only(config: MeshConfig) -> None:
    engine = open_engine(config.db_urls["gateway"])
    await World(engine, ReconciliationSource(engine), []).add(
        pay_row("P1"), pay_row("P2", created=MIDNIGHT - timedelta(days=2)))
    await engine.dispose()
    running = await create(config, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ReconciliationSourceServiceStub(channel)
            day = [r async for r in stub.StreamDayRecords(pb.StreamDayRecordsRequest(
                channel_config_key=KEY, bill_date=DAY))]
            assert [[r.pay_order_id for r in batch.records] for batch in day] == [["P1"]]
            record = day[0].records[0]
            assert (record.kind, record.amount, record.currency, record.state,
                    record.HasField("channel_fee_amount")) == (
                pb.RECORD_KIND_PAY, 10000, "CNY", St.SUCCESS, False)
            found = await stub.LookupRecords(pb.LookupRecordsRequest(pay_order_ids=["P2", "P9"]))
            assert [r.pay_order_id for r in found.records] == ["P2"]
            request = pb.ApplyCorrectionRequest(
                correction_id="MK1", action=pb.CORRECTION_ACTION_SET_CHANNEL_FEE,
                pay_order_id="P1", channel_fee=0)
            first = await stub.ApplyCorrection(request)
            again = await stub.ApplyCorrection(request)
            assert (first.replayed, again.replayed, again.record.channel_fee_amount,
                    again.record.HasField("channel_fee_amount"), again.previous_state) == (
                False, True, 0, True, St.SUCCESS)

            with pytest.raises(grpc.aio.AioRpcError) as bad:
                async for _ in stub.StreamDayRecords(pb.StreamDayRecordsRequest(
                        channel_config_key=KEY, bill_date="2026-13-01")):
                    pass
            assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field_of(bad.value) == "bill_date"
            with pytest.raises(grpc.aio.AioRpcError) as reused:
                await stub.ApplyCorrection(pb.ApplyCorrectionRequest(
                    correction_id="MK1", action=pb.CORRECTION_ACTION_SET_CHANNEL_FEE,
                    pay_order_id="P1", channel_fee=1))
            assert (reused.value.code(), reason_of(reused.value)) == (
                grpc.StatusCode.ALREADY_EXISTS, "CORRECTION_ID_REUSED")

            edge = ((EDGE_HEADER, "1"),)
            calls = [
                stub.LookupRecords(pb.LookupRecordsRequest(pay_order_ids=["P1"]), metadata=edge),
                stub.ApplyCorrection(request, metadata=edge)]
            for call in calls:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call
                assert (refused.value.code(), reason_of(refused.value)) == (
                    grpc.StatusCode.PERMISSION_DENIED, "INTERNAL_ONLY")
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                async for _ in stub.StreamDayRecords(pb.StreamDayRecordsRequest(
                        channel_config_key=KEY, bill_date=DAY), metadata=edge):
                    pass
            assert reason_of(refused.value) == "INTERNAL_ONLY"
    finally:
        await running.stop(grace=1.0)


def column_records(message: pb.StreamDayRecordsResponse) -> list[tuple[Any, ...]]:
    c = message.columns
    fees = [fee if known else None for fee, known in zip(c.channel_fee_amounts,
                                                         c.channel_fee_known, strict=True)]
    return list(zip(c.kinds, c.pay_order_ids, c.refund_order_ids, c.mch_nos,
                    c.channel_order_nos, c.amounts, c.states, c.fee_amounts, fees,
                    c.success_times, c.currencies, strict=True))


def record_fields(r: pb.PlatformRecord) -> tuple[Any, ...]:
    """The PlatformRecord fields a columnar stream carries, in PlatformRecordColumns' order."""
    return (r.kind, r.pay_order_id, r.refund_order_id, r.mch_no, r.channel_order_no, r.amount,
            r.state, r.fee_amount,
            r.channel_fee_amount if r.HasField("channel_fee_amount") else None, r.success_time,
            r.currency)


async def test_the_day_streams_as_columns_and_by_partition(config: MeshConfig) -> None:
    engine = open_engine(config.db_urls["gateway"])
    world = World(engine, ReconciliationSource(engine), [])
    # 10,030 pay orders (across the 10,000-record batch), some with a known channel fee, some
    # closed, and refunds; others that are not of the day or not of the config.
    await world.add(*[pay_row(f"P{n:05d}", created=MIDNIGHT + timedelta(seconds=8 * n),
                              **({"channel_cost_rate": "0.006", "channel_fee_amount": 60}
                                 if n % 3 else {}),
                              **({"state": St.CLOSED} if n % 97 == 5 else {}))
                      for n in range(10030)])
    await world.add(pay_row("X1", created=MIDNIGHT - timedelta(days=2)),
                    pay_row("X2", key="other.wxpay"))
    await world.add(*[refund_row(f"R{n:02d}", f"P{n:05d}", state=RefundState.SUCCESS,
                                 success=MIDNIGHT + timedelta(hours=11)) for n in range(40)],
                    table=RefundOrder)
    await engine.dispose()
    running = await create(config, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ReconciliationSourceServiceStub(channel)

            async def stream(**fields: Any) -> list[pb.StreamDayRecordsResponse]:
                return [m async for m in stub.StreamDayRecords(pb.StreamDayRecordsRequest(
                    channel_config_key=KEY, bill_date=DAY, **fields))]

            by_records = [record_fields(r) for m in await stream() for r in m.records]
            assert len(by_records) == 10070
            columnar = await stream(columnar=True)
            assert [len(m.columns.kinds) for m in columnar] == [10000, 30, 40]
            assert not any(m.records or m.HasField("partition") for m in columnar)
            assert [r for m in columnar for r in column_records(m)] == by_records

            partitioned = await stream(columnar=True, partitions=6)
            groups: dict[int, list[tuple[Any, ...]]] = {}
            for message in partitioned:
                assert message.HasField("partition") and message.columns.kinds
                for r in column_records(message):
                    key = r[2] if r[0] == pb.RECORD_KIND_REFUND else r[1]
                    assert zlib.crc32(key.encode()) % 6 == message.partition
                groups.setdefault(message.partition, []).extend(column_records(message))
            assert set(groups) == set(range(6))
            for partition, records in groups.items():  # each partition in the stream's order
                assert records == [r for r in by_records
                                   if zlib.crc32((r[2] or r[1]).encode()) % 6 == partition]

            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stream(columnar=True, partitions=4097)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert field_of(refused.value) == "partitions"
    finally:
        await running.stop(grace=1.0)
