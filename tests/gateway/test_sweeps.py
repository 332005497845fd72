"""Order sweeps against the gateway's database, with a scripted channel: what each verdict does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.gateway.callbacks import CallbackIntake
from paymesh.services.gateway.channel_calls import ChannelAnswer, RefundAnswer
from paymesh.services.gateway.models import (
    OutboxEvent,
    PassageDailyUsage,
    PayOrder,
    RefundOrder,
)
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.pay_context import Passage, PayContext
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository
from paymesh.services.gateway.sweeps import OrderSweeps, query_backoff

S = channel_pb2.ChannelState
DAY = "2026-01-01"


@dataclass
class ScriptedChannel:
    """Answers as scripted per pay order id and records every call."""

    query: dict[str, int] = field(default_factory=dict)
    close: dict[str, int] = field(default_factory=dict)
    cancel: dict[str, int] = field(default_factory=dict)
    refund: dict[str, int] = field(default_factory=dict)
    err_codes: dict[str, str] = field(default_factory=dict)  # of the query's answer
    calls: list[tuple[str, str]] = field(default_factory=list)
    # Runs while a query waits for the channel's answer (a callback arriving, or an error).
    on_query: Callable[[str], Awaitable[None]] | None = None

    async def _answer(self, kind: str, pay_order_id: str) -> ChannelAnswer:
        self.calls.append((kind, pay_order_id))
        if kind == "query" and self.on_query is not None:
            await self.on_query(pay_order_id)
        state = getattr(self, kind).get(pay_order_id, S.CHANNEL_STATE_WAITING)
        if kind != "query":
            return ChannelAnswer(state)
        return ChannelAnswer(state, channel_order_no="CH1",
                             err_code=self.err_codes.get(pay_order_id, ""))


class Channels:
    """The ChannelCalls face of a ScriptedChannel."""

    def __init__(self, script: ScriptedChannel) -> None:
        self.script = script

    async def query(self, if_code: str, params: str, pay_order_id: str,
                    channel_order_no: str = "") -> ChannelAnswer:
        return await self.script._answer("query", pay_order_id)

    async def close(self, if_code: str, params: str, pay_order_id: str,
                    channel_order_no: str = "") -> ChannelAnswer:
        return await self.script._answer("close", pay_order_id)

    async def cancel(self, if_code: str, params: str, pay_order_id: str,
                     channel_order_no: str = "") -> ChannelAnswer:
        return await self.script._answer("cancel", pay_order_id)

    async def query_refund(self, request: channel_pb2.QueryRefundRequest) -> RefundAnswer:
        self.script.calls.append(("query_refund", request.refund_order_id))
        return RefundAnswer(self.script.refund.get(request.refund_order_id,
                                                   S.CHANNEL_STATE_WAITING))


class Contexts:
    async def get(self, app_id: str) -> PayContext | None:
        passage = Passage("WX_H5", "sandbox", "0", True, '{"key": "k"}')
        return PayContext(app_id, True, "M1", True, "secret", {"WX_H5": [passage]})


@dataclass
class World:
    engine: AsyncEngine
    orders: PayOrderRepository
    refunds: RefundRepository
    usage: PassageUsage
    script: ScriptedChannel
    sweeps: OrderSweeps


@pytest.fixture
async def world(config: MeshConfig) -> AsyncIterator[World]:
    engine = open_engine(config.db_urls["gateway"])
    orders, refunds, usage = (PayOrderRepository(engine), RefundRepository(engine),
                              PassageUsage(engine))
    script = ScriptedChannel()
    sweeps = OrderSweeps(orders, usage, refunds, Contexts(), Channels(script))  # type: ignore[arg-type]
    yield World(engine, orders, refunds, usage, script, sweeps)
    await engine.dispose()


async def add_order(world: World, pid: str, *, state: int = St.PAYING, way_code: str = "WX_H5",
                    age: float = 120, expires_in: float = 3600, if_code: str = "sandbox",
                    limit_day: str | None = None, **extra: Any) -> None:
    now = utc_now()
    assert await world.orders.insert(PayOrder(
        pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=pid, if_code=if_code,
        way_code=way_code, amount=100, currency="cny", state=state, subject="s", body="b",
        expire_at=now + timedelta(seconds=expires_in), fee_rate="0", fee_amount=0,
        late_success=False, limit_day=limit_day, refunded_amount=0, refund_reserved=0,
        refund_times=0, created_at=now - timedelta(seconds=age), updated_at=now, **extra))
    if limit_day:
        assert await world.usage.reserve(("A1", way_code, "sandbox"), limit_day, 100, 1000)


async def state_of(world: World, pid: str) -> int:
    order = await world.orders.get(pid)
    assert order is not None
    return order.state


async def usage_of(world: World, way_code: str = "WX_H5") -> int:
    """What the passage's day holds in reserved or taken amounts."""
    async with sessions(world.engine)() as session:
        amount = await session.scalar(select(PassageDailyUsage.amount).where(
            PassageDailyUsage.way_code == way_code, PassageDailyUsage.day == DAY))
    return int(amount or 0)


async def test_paying_orders_take_the_channels_verdict(world: World) -> None:
    await add_order(world, "Ppaid")
    await add_order(world, "Pfail", limit_day=DAY)
    await add_order(world, "Pwait")
    await add_order(world, "Pyoung", age=10)  # not old enough to ask about
    world.script.query.update(Ppaid=S.CHANNEL_STATE_CONFIRM_SUCCESS,
                              Pfail=S.CHANNEL_STATE_CONFIRM_FAIL)
    done = await world.sweeps.sweep_paying(timedelta(seconds=60), 200)
    assert (done.examined, done.settled, done.cancelled) == (3, 2, 0)
    paid = await world.orders.get("Ppaid")
    assert paid is not None and (paid.state, paid.channel_order_no) == (St.SUCCESS, "CH1")
    assert paid.success_at is not None
    assert [await state_of(world, p) for p in ("Pfail", "Pwait", "Pyoung")] == [
        St.FAIL, St.PAYING, St.PAYING]
    assert await usage_of(world) == 0  # the failed order's reservation was given back


async def test_a_barcode_order_is_polled_early_and_reversed_after_30_s(world: World) -> None:
    await add_order(world, "Pnew", way_code="WX_BAR", age=2)
    await add_order(world, "Ppolled", way_code="WX_BAR", age=8)
    await add_order(world, "Pstale", way_code="WX_BAR", age=31, limit_day=DAY)
    await add_order(world, "Prefused", way_code="WX_BAR", age=31)
    await add_order(world, "Plate", way_code="WX_BAR", age=31)
    world.script.cancel.update(Pstale=S.CHANNEL_STATE_CONFIRM_SUCCESS,
                               Prefused=S.CHANNEL_STATE_UNKNOWN)
    world.script.query.update(Plate=S.CHANNEL_STATE_CONFIRM_SUCCESS)  # paid after all
    done = await world.sweeps.sweep_paying(timedelta(seconds=60), 200)
    assert (done.examined, done.settled, done.cancelled) == (4, 2, 1)
    assert [await state_of(world, p) for p in ("Pnew", "Ppolled", "Pstale", "Prefused",
                                                "Plate")] == [
        St.PAYING, St.PAYING, St.CANCEL, St.PAYING, St.SUCCESS]
    assert ("cancel", "Plate") not in world.script.calls
    assert ("cancel", "Ppolled") not in world.script.calls
    assert await usage_of(world, "WX_BAR") == 0


async def test_expiry_asks_the_channel_first_and_never_closes_a_paid_order(
        world: World) -> None:
    await add_order(world, "Pinit", state=St.INIT, expires_in=-1, limit_day=DAY)
    await add_order(world, "Ppaid", expires_in=-1)
    await add_order(world, "Punpaid", expires_in=-1)
    await add_order(world, "Pstubborn", expires_in=-1)
    await add_order(world, "Palive", expires_in=60)
    world.script.query.update(Ppaid=S.CHANNEL_STATE_CONFIRM_SUCCESS)
    world.script.close.update(Punpaid=S.CHANNEL_STATE_CONFIRM_SUCCESS,
                              Pstubborn=S.CHANNEL_STATE_CONFIRM_FAIL)
    done = await world.sweeps.expire(200)
    assert (done.examined, done.closed, done.paid) == (4, 2, 1)
    assert [await state_of(world, p) for p in ("Pinit", "Ppaid", "Punpaid", "Pstubborn",
                                                "Palive")] == [
        St.CLOSED, St.SUCCESS, St.CLOSED, St.PAYING, St.PAYING]
    assert ("query", "Pinit") not in world.script.calls  # never reached a channel
    assert ("close", "Ppaid") not in world.script.calls
    assert await usage_of(world) == 0
    world.script.close["Pstubborn"] = S.CHANNEL_STATE_CONFIRM_SUCCESS  # a later run retries
    assert (await world.sweeps.expire(200)).closed == 1


async def open_refund(world: World, pid: str, rid: str, *, expires_in: float = 7200,
                      state: int = 1) -> RefundOrder:
    await add_order(world, pid, state=St.SUCCESS)
    now = utc_now()
    refund = RefundOrder(
        refund_order_id=rid, pay_order_id=pid, mch_no="M1", app_id="A1", mch_refund_no=rid,
        if_code="sandbox", pay_amount=100, refund_amount=40, currency="cny", state=0,
        reason="r", expire_at=now + timedelta(seconds=expires_in), created_at=now,
        updated_at=now)
    assert await world.refunds.open_refund(refund)
    if state == 1:
        assert await world.refunds.update(rid, [0], state=1)
    return refund


async def refund_view(world: World, rid: str, pid: str) -> tuple[int, int, int, str | None]:
    refund, order = await world.refunds.get(rid), await world.orders.get(pid)
    assert refund is not None and order is not None
    return refund.state, order.refunded_amount, order.refund_reserved, order.refund_in_flight


async def test_refund_sweep_settles_pending_refunds_and_closes_expired_ones(
        world: World) -> None:
    await open_refund(world, "P1", "Rdone")
    await open_refund(world, "P2", "Rwait")
    await open_refund(world, "P3", "Rold", expires_in=-1)
    await open_refund(world, "P4", "Rlate", expires_in=-1, state=0)  # its answer never came
    await open_refund(world, "P5", "Rfresh", state=0)  # in flight: left alone
    await open_refund(world, "P6", "Rgone", expires_in=-1, state=0)  # never reached a channel
    world.script.refund.update(Rdone=S.CHANNEL_STATE_CONFIRM_SUCCESS,
                               Rlate=S.CHANNEL_STATE_CONFIRM_SUCCESS,
                               Rgone=S.CHANNEL_STATE_CONFIRM_FAIL)
    done = await world.sweeps.sweep_refunds(200)
    assert (done.examined, done.settled) == (5, 3)
    assert await refund_view(world, "Rdone", "P1") == (2, 40, 0, None)
    assert await refund_view(world, "Rwait", "P2") == (1, 0, 40, "Rwait")
    # Expired but still pending at the channel: kept open, its amount still reserved.
    assert await refund_view(world, "Rold", "P3") == (1, 0, 40, "Rold")
    assert await refund_view(world, "Rgone", "P6") == (4, 0, 0, None)
    assert await refund_view(world, "Rlate", "P4") == (2, 40, 0, None)  # never closed
    assert await refund_view(world, "Rfresh", "P5") == (0, 0, 40, "Rfresh")



async def events_of(world: World, pid: str) -> list[str]:
    async with sessions(world.engine)() as session:
        return list((await session.scalars(select(OutboxEvent.topic).where(
            OutboxEvent.order_id == pid))).all())


async def test_a_payment_the_channel_closed_ends_closed_not_failed(world: World) -> None:
    # The merchant's close reached the channel but its answer was lost (or the channel's own
    # expiry closed it): the channel's query says closed, each channel in its words.
    for pid, code in (("Psandbox", "ORDER_CLOSED"), ("Pwx", "CLOSED"),
                      ("Pali", "TRADE_CLOSED")):
        await add_order(world, pid, limit_day=DAY)
        world.script.query[pid] = S.CHANNEL_STATE_CONFIRM_FAIL
        world.script.err_codes[pid] = code
    await add_order(world, "Prevoked")
    await add_order(world, "Pdeclined")
    world.script.query.update(Prevoked=S.CHANNEL_STATE_CONFIRM_FAIL,
                              Pdeclined=S.CHANNEL_STATE_CONFIRM_FAIL)
    world.script.err_codes.update(Prevoked="REVOKED", Pdeclined="PAYER_DECLINED")
    done = await world.sweeps.sweep_paying(timedelta(seconds=60), 200)
    assert (done.examined, done.settled, done.cancelled) == (5, 5, 1)
    assert [await state_of(world, p) for p in ("Psandbox", "Pwx", "Pali", "Prevoked",
                                                "Pdeclined")] == [
        St.CLOSED, St.CLOSED, St.CLOSED, St.CANCEL, St.FAIL]
    closed = await world.orders.get("Pwx")
    assert closed is not None and closed.err_code == "CLOSED"
    # Only the failed payment is a failure the merchant is told about.
    assert [await events_of(world, p) for p in ("Psandbox", "Prevoked", "Pdeclined")] == [
        [], [], ["pay.failed"]]
    assert await usage_of(world) == 0  # the closed orders' reservations were given back


@dataclass
class Resumer:
    """Stands in for the gateway's Refunds: records what the sweep asks it to resume."""

    resumed: list[str] = field(default_factory=list)

    async def drive(self, refund: RefundOrder, params_json: str) -> bool:
        self.resumed.append(refund.refund_order_id)
        return True


async def test_the_refund_sweep_resumes_created_refunds_older_than_the_stuck_age(
        world: World) -> None:
    resumer = Resumer()
    sweeps = OrderSweeps(world.orders, world.usage, world.refunds, Contexts(),
                         Channels(world.script), resumer=resumer)  # type: ignore[arg-type]
    await open_refund(world, "P1", "Rfresh", state=0)
    await open_refund(world, "P2", "Rpending")
    done = await sweeps.sweep_refunds(200, stuck_after=timedelta(seconds=60))
    assert resumer.resumed == [] and done.examined == 1  # only the pending one is asked about
    async with sessions(world.engine).begin() as session:  # Rfresh's request died 2 min ago
        refund = await session.get(RefundOrder, "Rfresh")
        assert refund is not None
        refund.created_at = utc_now() - timedelta(minutes=2)
    done = await sweeps.sweep_refunds(200, stuck_after=timedelta(seconds=60))
    assert resumer.resumed == ["Rfresh"] and (done.examined, done.settled) == (2, 1)
    await sweeps.sweep_refunds(200, stuck_after=timedelta(minutes=5))
    assert resumer.resumed == ["Rfresh"]  # a longer stuck age leaves it alone


class Verdicts:
    """The ChannelCalls face the callback intake uses: a scripted verdict per order."""

    def __init__(self) -> None:
        self.err_codes: dict[str, str] = {}

    async def verify_callback(self, request: channel_pb2.VerifyCallbackRequest
                              ) -> channel_pb2.VerifyCallbackResponse:
        pid = request.body.decode()
        return channel_pb2.VerifyCallbackResponse(
            verified=True, pay_order_id=pid, amount=100, currency="CNY",
            channel_state=S.CHANNEL_STATE_CONFIRM_FAIL, err_code=self.err_codes[pid],
            err_msg="the channel says no")


async def test_a_callback_saying_closed_or_reversed_ends_the_order_as_the_sweep_does(
        world: World) -> None:
    verdicts = Verdicts()
    intake = CallbackIntake(world.orders, Contexts(), verdicts)  # type: ignore[arg-type]
    for pid, code in (("Pclosed", "TRADE_CLOSED"), ("Previd", "REVOKED"),
                      ("Pdeclined", "BANK_DECLINED")):
        await add_order(world, pid)
        verdicts.err_codes[pid] = code
        reply = await intake.pay_notify("sandbox", pid, [], "text/plain", pid.encode())
        assert reply.status == 200
    assert [await state_of(world, p) for p in ("Pclosed", "Previd", "Pdeclined")] == [
        St.CLOSED, St.CANCEL, St.FAIL]
    async with sessions(world.engine)() as session:
        events = (await session.scalars(select(OutboxEvent.order_id).where(
            OutboxEvent.topic == "pay.failed"))).all()
    assert events == ["Pdeclined"]  # only a payment that failed is told as failed


def test_the_query_backoff_doubles_from_a_minute_to_ten_and_barcodes_stay_at_5_s() -> None:
    assert [query_backoff(n) for n in range(6)] == [
        timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)]
    assert query_backoff(100_000) == timedelta(minutes=10)  # weeks of queries: still the cap
    assert {query_backoff(n, barcode=True) for n in (0, 1, 5, 100)} == {timedelta(seconds=5)}
    # The schedule follows the paying age: a mesh that asks after 1 s backs off in seconds.
    assert [query_backoff(n, timedelta(seconds=1)) for n in range(6)] == [
        timedelta(seconds=s) for s in (1, 2, 4, 8, 10, 10)]


class Clock:
    """The sweep's clock, set by the test."""

    def __init__(self) -> None:
        self.start = self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now


def clocked(world: World, clock: Clock) -> OrderSweeps:
    return OrderSweeps(world.orders, world.usage, world.refunds, Contexts(),
                       Channels(world.script), clock)  # type: ignore[arg-type]


async def sweep_at(world: World, sweeps: OrderSweeps, clock: Clock, seconds: float,
                   limit: int = 200) -> list[str]:
    """Runs the paying sweep ``seconds`` after the clock's start; the orders it asked about."""
    clock.now = clock.start + timedelta(seconds=seconds)
    world.script.calls.clear()
    await sweeps.sweep_paying(timedelta(seconds=60), limit)
    return sorted(pid for kind, pid in world.script.calls if kind == "query")


async def schedule_of(world: World, pid: str) -> tuple[datetime | None, int]:
    order = await world.orders.get(pid)
    assert order is not None
    return order.next_query_at, order.query_count


async def test_a_backlog_larger_than_the_batch_is_worked_through_not_asked_again_and_again(
        world: World) -> None:
    for n in range(5):
        await add_order(world, f"P{n}", age=600 - 60 * n)  # P0 the oldest
    clock = Clock()
    sweeps = clocked(world, clock)
    assert await sweep_at(world, sweeps, clock, 0, limit=3) == ["P0", "P1", "P2"]  # oldest first
    assert await sweep_at(world, sweeps, clock, 5, limit=3) == ["P3", "P4"]  # then the rest
    assert await sweep_at(world, sweeps, clock, 10, limit=3) == []
    assert await schedule_of(world, "P0") == (clock.start + timedelta(minutes=1), 1)
    assert await schedule_of(world, "P4") == (clock.start + timedelta(seconds=65), 1)
    assert await sweep_at(world, sweeps, clock, 58, limit=3) == []  # not due yet
    assert await sweep_at(world, sweeps, clock, 60, limit=3) == ["P0", "P1", "P2"]
    assert await sweep_at(world, sweeps, clock, 65, limit=3) == ["P3", "P4"]
    assert await sweep_at(world, sweeps, clock, 175, limit=3) == []  # 2 min this time
    # Created 65 s before the run at 180 (by the sweep's clock), never asked: it has waited
    # longest, so it goes first, then those due at 180, the older first; those due at 185 wait.
    await add_order(world, "Pnew", age=-115)
    assert await sweep_at(world, sweeps, clock, 180, limit=3) == ["P0", "P1", "Pnew"]
    assert await sweep_at(world, sweeps, clock, 185, limit=3) == ["P2", "P3", "P4"]
    assert await schedule_of(world, "P0") == (clock.start + timedelta(seconds=180 + 240), 3)
    assert await schedule_of(world, "Pnew") == (clock.start + timedelta(seconds=180 + 60), 1)


async def test_a_barcode_order_is_still_asked_every_run_and_reversed_after_30_s(
        world: World) -> None:
    await add_order(world, "Pbar", way_code="WX_BAR", age=8)
    world.script.cancel["Pbar"] = S.CHANNEL_STATE_CONFIRM_SUCCESS
    clock = Clock()
    sweeps = clocked(world, clock)
    # Runs a little early (aligned runs reach the gateway after varying delays) still ask it.
    for seconds in (0, 4.5, 9.5, 14.5, 19.5):
        assert await sweep_at(world, sweeps, clock, seconds) == ["Pbar"]
        assert await state_of(world, "Pbar") == St.PAYING
    assert await schedule_of(world, "Pbar") == (clock.start + timedelta(seconds=24.5), 5)
    assert await sweep_at(world, sweeps, clock, 24.5) == ["Pbar"]  # 32.5 s old: reversed
    assert ("cancel", "Pbar") in world.script.calls
    assert await schedule_of(world, "Pbar") == (clock.start + timedelta(seconds=24.5), 5)
    assert await state_of(world, "Pbar") == St.CANCEL


async def test_orders_the_sweep_could_not_ask_about_back_off_too(world: World) -> None:
    await add_order(world, "Pbroken")
    await add_order(world, "Pghost", if_code="ghost")  # the app has no such channel configured

    async def channel_down(pid: str) -> None:
        raise ConnectionError("the channel does not answer")

    world.script.on_query = channel_down
    clock = Clock()
    sweeps = clocked(world, clock)
    assert await sweep_at(world, sweeps, clock, 0) == ["Pbroken"]
    for pid in ("Pbroken", "Pghost"):
        assert await schedule_of(world, pid) == (clock.start + timedelta(minutes=1), 1)
        assert await state_of(world, pid) == St.PAYING
    assert await sweep_at(world, sweeps, clock, 5) == []
    assert await schedule_of(world, "Pghost") == (clock.start + timedelta(minutes=1), 1)


async def test_an_order_a_callback_settles_during_the_query_is_not_touched_by_the_backoff(
        world: World) -> None:
    verdicts = Verdicts()
    intake = CallbackIntake(world.orders, Contexts(), verdicts)  # type: ignore[arg-type]
    await add_order(world, "Psettled")
    await add_order(world, "Pwaiting")
    verdicts.err_codes["Psettled"] = "BANK_DECLINED"

    async def callback_arrives(pid: str) -> None:
        if pid == "Psettled":  # while the sweep waits for the channel, which says waiting
            reply = await intake.pay_notify("sandbox", pid, [], "text/plain", pid.encode())
            assert reply.status == 200

    world.script.on_query = callback_arrives
    before = await world.orders.get("Psettled")
    done = await world.sweeps.sweep_paying(timedelta(seconds=60), 200)
    assert (done.examined, done.settled) == (2, 0)
    settled = await world.orders.get("Psettled")
    assert before is not None and settled is not None
    assert (settled.state, settled.next_query_at, settled.query_count) == (St.FAIL, None, 0)
    assert settled.updated_at > before.updated_at  # the callback's change, and only that
    waiting = await world.orders.get("Pwaiting")
    assert waiting is not None and waiting.state == St.PAYING
    assert waiting.next_query_at is not None and waiting.query_count == 1
    assert not await world.orders.schedule_query("Psettled", utc_now())  # ended: left alone
