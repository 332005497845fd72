"""Refund holds against the real gateway and account databases (an in-process account service),
with a scripted channel: a refund takes the merchant's money into FROZEN before the channel is
asked, success moves it to clearing, failure, closure and abandonment give it back, and a refund
the merchant cannot fund is refused with nothing changed. A refund whose request died before the
channel answered is resumed by the merchant's retry or by the refund sweep, held once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc
import pytest
from sqlalchemy import select

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.channel.v1 import channel_pb2
from paymesh.services.account.server import create as create_account
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.gateway.channel_calls import RefundAnswer
from paymesh.services.gateway.fees import KEEP, RETURN_PRO_RATA
from paymesh.services.gateway.ledger_events import LEDGER_CONSUMER, TOPICS, LedgerEvents
from paymesh.services.gateway.models import OutboxEvent, PayOrder, RefundOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import OutboxDispatcher, Subscription
from paymesh.services.gateway.pay_context import Passage, PayContext
from paymesh.services.gateway.protocol import ApiError
from paymesh.services.gateway.refund_holds import RefundHolds, hold_amount
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.refunds import Refunds
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository
from paymesh.services.gateway.sweeps import OrderSweeps

S = channel_pb2.ChannelState
MCH, APP = "M100", "A100"
PENDING, AVAILABLE, FROZEN = (apb.ACCOUNT_KIND_PENDING, apb.ACCOUNT_KIND_AVAILABLE,
                              apb.ACCOUNT_KIND_FROZEN)
CONTEXT = PayContext(APP, True, MCH, True, "secret",
                     {"WX_H5": [Passage("WX_H5", "sandbox", "0", True, '{"key": "k"}')]})


@dataclass
class Channel:
    """Answers refunds as scripted (a state, or an exception to raise) and records them."""

    refund_state: Any = S.CHANNEL_STATE_CONFIRM_SUCCESS
    query_state: int = S.CHANNEL_STATE_WAITING
    refunds: list[str] = field(default_factory=list)

    async def refund(self, request: channel_pb2.RefundRequest) -> RefundAnswer:
        self.refunds.append(request.refund_order_id)
        if isinstance(self.refund_state, Exception):
            raise self.refund_state
        return RefundAnswer(self.refund_state, channel_refund_no="CR1")

    async def query_refund(self, request: channel_pb2.QueryRefundRequest) -> RefundAnswer:
        return RefundAnswer(self.query_state)


class Contexts:
    async def get(self, app_id: str) -> PayContext | None:
        return CONTEXT


class LostAnswers:
    """The account stub, but Post fails after (or instead of) reaching the ledger."""

    def __init__(self, stub: account_pb2_grpc.AccountServiceStub, *, reaches: bool) -> None:
        self._stub, self._reaches = stub, reaches

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stub, name)

    async def Post(self, request: apb.PostRequest, **kwargs: Any) -> apb.PostResponse:
        if not request.posting_id.startswith("refund-hold:"):
            return await self._stub.Post(request, **kwargs)
        if self._reaches:
            await self._stub.Post(request, **kwargs)
        code = grpc.StatusCode.DEADLINE_EXCEEDED if self._reaches else grpc.StatusCode.UNAVAILABLE
        raise grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(),
                                   details="the ledger did not answer")


@dataclass
class World:
    stub: account_pb2_grpc.AccountServiceStub
    orders: PayOrderRepository
    refunds: RefundRepository
    events: LedgerEvents
    channel: Channel
    outbox: OutboxDispatcher
    engine: Any

    def api(self, stub: Any = None, holds: bool = True) -> Refunds:
        ledger = stub or self.stub
        return Refunds(self.refunds, self.orders, self.channel, "http://edge",  # type: ignore[arg-type]
                       holds=RefundHolds(ledger, self.events) if holds else None)

    async def balances(self) -> dict[int, int]:
        accounts = (await self.stub.GetBalances(apb.GetBalancesRequest(owner=MCH))).accounts
        found = {kind: 0 for kind in (PENDING, AVAILABLE, FROZEN)}
        found.update({a.kind: a.balance for a in accounts})
        return found

    async def posting(self, posting_id: str) -> apb.LedgerPosting | None:
        found = (await self.stub.GetPostings(apb.GetPostingsRequest(
            posting_ids=[posting_id]))).postings
        return found[0] if found else None


@pytest.fixture
async def world(config: MeshConfig) -> AsyncIterator[World]:
    server = await create_account(config, "127.0.0.1:0")
    engine = open_engine(config.db_urls["gateway"])
    async with open_channel(f"127.0.0.1:{server.port}") as channel:
        stub = account_pb2_grpc.AccountServiceStub(channel)
        orders, refunds = PayOrderRepository(engine), RefundRepository(engine)
        events = LedgerEvents(stub, orders, refunds)
        outbox = OutboxDispatcher(engine, [Subscription.of(LEDGER_CONSUMER, TOPICS,
                                                           events.on_event)])
        yield World(stub, orders, refunds, events, Channel(), outbox, engine)
    await engine.dispose()
    await server.stop(grace=1.0)


async def paid_order(world: World, pid: str, amount: int = 1000, fee: int = 6,
                     rule: int = RETURN_PRO_RATA) -> None:
    now = utc_now()
    assert await world.orders.insert(PayOrder(
        pay_order_id=pid, mch_no=MCH, app_id=APP, mch_order_no=pid, if_code="sandbox",
        way_code="WX_H5", amount=amount, currency="cny", state=St.SUCCESS, subject="s",
        body="b", expire_at=now + timedelta(hours=2), fee_rate="0.006", fee_amount=fee,
        refund_fee_rule=rule, channel_config_key=f"{APP}.sandbox", late_success=False,
        refunded_amount=0, refund_reserved=0, refund_times=0, success_at=now, created_at=now,
        updated_at=now))
    await world.events.post_payment(pid)


def ask(pid: str, amount: int, number: str = "", reason: str = "returned") -> dict[str, str]:
    return {"payOrderId": pid, "mchRefundNo": number or f"RN{pid}{amount}",
            "refundAmount": str(amount), "currency": "cny", "refundReason": reason}


async def refund_rows(world: World, pid: str) -> list[RefundOrder]:
    async with sessions(world.engine)() as session:
        return list((await session.scalars(select(RefundOrder).where(
            RefundOrder.pay_order_id == pid))).all())


async def reservation(world: World, pid: str) -> tuple[int, int, str | None]:
    order = await world.orders.get(pid)
    assert order is not None
    return order.refunded_amount, order.refund_reserved, order.refund_in_flight


async def test_success_holds_the_net_then_moves_it_from_frozen_to_clearing(world: World) -> None:
    await paid_order(world, "P1")
    assert await world.balances() == {PENDING: 994, AVAILABLE: 0, FROZEN: 0}
    answer = await world.api().refund_order(ask("P1", 500), CONTEXT, None)
    assert answer["state"] == 2
    rid = str(answer["refundOrderId"])
    # Held before the channel was asked: the net (500 less the fee share 3) sits in FROZEN.
    hold = await world.posting(f"refund-hold:{rid}")
    assert hold is not None and [(t.transfer.code, t.transfer.amount, t.debit_account.kind,
                                  t.credit_account.kind) for t in hold.transfers] == [
        ("REFUND_HOLD", 497, PENDING, FROZEN)]
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 497}
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 0}
    refund = await world.posting(f"refund:{rid}")
    assert refund is not None and [(t.transfer.code, t.transfer.amount, t.debit_account.kind,
                                    t.credit_account.kind) for t in refund.transfers] == [
        ("REFUND", 497, FROZEN, apb.ACCOUNT_KIND_CHANNEL_CLEARING),
        ("REFUND_FEE", 3, apb.ACCOUNT_KIND_FEE_INCOME, apb.ACCOUNT_KIND_CHANNEL_CLEARING)]
    assert await world.posting(f"refund-release:{rid}") is None


async def test_a_failed_refund_gives_back_what_pending_and_available_held(world: World) -> None:
    await paid_order(world, "P1")
    pending = (await world.stub.OpenAccount(apb.OpenAccountRequest(
        owner=MCH, currency="CNY", kind=PENDING))).account.account_id
    available = (await world.stub.OpenAccount(apb.OpenAccountRequest(
        owner=MCH, currency="CNY", kind=AVAILABLE))).account.account_id
    await world.stub.Post(apb.PostRequest(posting_id="settle:test", transfers=[
        apb.TransferRequest(debit_account_id=pending, credit_account_id=available, amount=900,
                            code="SETTLEMENT")]))
    world.channel.refund_state = S.CHANNEL_STATE_CONFIRM_FAIL
    answer = await world.api().refund_order(ask("P1", 500), CONTEXT, None)
    assert answer["state"] == 3
    rid = str(answer["refundOrderId"])
    # Pending had 94: the other 403 of the 497 came from available.
    assert await world.balances() == {PENDING: 0, AVAILABLE: 497, FROZEN: 497}
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 94, AVAILABLE: 900, FROZEN: 0}
    release = await world.posting(f"refund-release:{rid}")
    assert release is not None
    assert sorted((t.transfer.amount, t.credit_account.kind) for t in release.transfers) == [
        (94, PENDING), (403, AVAILABLE)]
    assert await reservation(world, "P1") == (0, 0, None)


async def test_a_refund_the_merchant_cannot_fund_is_refused_and_changes_nothing(
        world: World) -> None:
    await paid_order(world, "P1", rule=KEEP)  # the fee stays: a full refund needs 1000
    before = await world.balances()
    with pytest.raises(ApiError) as refused:
        await world.api().refund_order(ask("P1", 1000, "SAME1"), CONTEXT, None)
    assert (refused.value.code, refused.value.msg) == (9999,
                                                       "insufficient balance for this refund")
    assert world.channel.refunds == []
    assert await refund_rows(world, "P1") == []
    assert await reservation(world, "P1") == (0, 0, None)
    assert await world.balances() == before
    # The refund number was never used: the merchant asks again for what it can fund.
    answer = await world.api().refund_order(ask("P1", 994, "SAME1"), CONTEXT, None)
    assert answer["state"] == 2 and answer["refundAmount"] == 994


@pytest.mark.parametrize("reaches", [False, True])
async def test_an_unreachable_ledger_refuses_as_a_system_error_and_nothing_stays_held(
        world: World, reaches: bool) -> None:
    await paid_order(world, "P1")
    with pytest.raises(ApiError) as refused:
        await world.api(LostAnswers(world.stub, reaches=reaches)).refund_order(
            ask("P1", 500), CONTEXT, None)
    assert refused.value.code == 10 and "try again" in refused.value.msg
    assert world.channel.refunds == [] and await refund_rows(world, "P1") == []
    assert await reservation(world, "P1") == (0, 0, None)
    # When the hold did reach the ledger (only its answer was lost), the abandonment event
    # gives it back.
    held = {PENDING: 497, AVAILABLE: 0, FROZEN: 497} if reaches else {
        PENDING: 994, AVAILABLE: 0, FROZEN: 0}
    assert await world.balances() == held
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 994, AVAILABLE: 0, FROZEN: 0}


async def test_a_crash_between_the_hold_and_the_channel_is_healed_by_the_sweep(
        world: World) -> None:
    await paid_order(world, "P1")
    world.channel.refund_state = RuntimeError("the gateway died here")
    with pytest.raises(RuntimeError):
        await world.api().refund_order(ask("P1", 500), CONTEXT, None)
    [refund] = await refund_rows(world, "P1")
    assert refund.state == 0 and await world.balances() == {PENDING: 497, AVAILABLE: 0,
                                                            FROZEN: 497}
    world.channel.query_state = S.CHANNEL_STATE_CONFIRM_FAIL  # the channel never took it
    later = utc_now() + timedelta(hours=3)
    sweeps = OrderSweeps(world.orders, PassageUsage(world.engine), world.refunds, Contexts(),
                         world.channel, clock=lambda: later)  # type: ignore[arg-type]
    assert (await sweeps.sweep_refunds(10)).settled == 1
    [closed] = await refund_rows(world, "P1")
    assert closed.state == 4 and await reservation(world, "P1") == (0, 0, None)
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 994, AVAILABLE: 0, FROZEN: 0}


async def test_a_refund_made_without_a_hold_is_booked_as_before(world: World) -> None:
    await paid_order(world, "P1")
    answer = await world.api(holds=False).refund_order(ask("P1", 500), CONTEXT, None)
    rid = str(answer["refundOrderId"])
    assert await world.posting(f"refund-hold:{rid}") is None
    await world.outbox.dispatch_due()
    refund = await world.posting(f"refund:{rid}")
    assert refund is not None and [(t.transfer.amount, t.debit_account.kind)
                                   for t in refund.transfers] == [
        (497, PENDING), (3, apb.ACCOUNT_KIND_FEE_INCOME)]
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 0}


async def test_concurrent_refunds_of_one_merchant_never_take_more_than_it_has(
        world: World) -> None:
    for i in range(20):
        await paid_order(world, f"P{i:02d}", amount=100, fee=0, rule=KEEP)
    pending = (await world.stub.OpenAccount(apb.OpenAccountRequest(
        owner=MCH, currency="CNY", kind=PENDING))).account.account_id
    sink = (await world.stub.OpenAccount(apb.OpenAccountRequest(
        owner="elsewhere", currency="CNY", kind=PENDING))).account.account_id
    await world.stub.Post(apb.PostRequest(posting_id="adj:away", transfers=[
        apb.TransferRequest(debit_account_id=pending, credit_account_id=sink, amount=1000,
                            code="ADJUSTMENT")]))  # funds for 10 refunds of 100 are left

    async def one(i: int) -> int:
        try:
            return int((await world.api().refund_order(ask(f"P{i:02d}", 100), CONTEXT,
                                                       None))["state"])
        except ApiError as error:
            assert error.msg == "insufficient balance for this refund"
            return -1

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    assert outcomes.count(2) == 10 and outcomes.count(-1) == 10
    assert len(world.channel.refunds) == 10
    assert await world.balances() == {PENDING: 0, AVAILABLE: 0, FROZEN: 1000}
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 0, AVAILABLE: 0, FROZEN: 0}


def test_the_hold_is_the_refund_less_the_fee_share_it_will_return() -> None:
    order = PayOrder(amount=1234, fee_amount=7, refund_fee_rule=RETURN_PRO_RATA)
    assert hold_amount(order, 600, []) == 597  # 7 × 600 / 1234 = 3.40 → 3
    assert hold_amount(order, 634, [600]) == 630  # the 4 left
    assert hold_amount(PayOrder(amount=1234, fee_amount=7, refund_fee_rule=KEEP), 634,
                       [600]) == 634


async def test_events_of_an_abandoned_refund_are_ledger_only(world: World) -> None:
    await paid_order(world, "P1")
    with pytest.raises(ApiError):
        await world.api(LostAnswers(world.stub, reaches=False)).refund_order(
            ask("P1", 500), CONTEXT, None)
    async with sessions(world.engine)() as session:
        topics = (await session.scalars(select(OutboxEvent.topic).where(
            OutboxEvent.topic.like("refund.%")))).all()
    assert topics == ["refund.abandoned"]


async def stored_refund(world: World, pid: str, amount: int, number: str,
                        age: timedelta = timedelta(0)) -> RefundOrder:
    """A refund stored with its reservation, as by a request that died right after."""
    created = utc_now() - age
    refund = RefundOrder(
        refund_order_id=f"R{number}", pay_order_id=pid, mch_no=MCH, app_id=APP,
        mch_refund_no=number, if_code="sandbox", channel_config_key=f"{APP}.sandbox",
        pay_amount=1000, refund_amount=amount, currency="cny", state=0, reason="returned",
        expire_at=created + timedelta(hours=2), created_at=created, updated_at=created)
    assert await world.refunds.open_refund(refund)
    return refund


def sweeps_at(world: World, moment: Any, resumer: Refunds | None) -> OrderSweeps:
    return OrderSweeps(world.orders, PassageUsage(world.engine), world.refunds, Contexts(),
                       world.channel, clock=lambda: moment,  # type: ignore[arg-type]
                       resumer=resumer)


async def test_a_retry_resumes_a_refund_its_first_request_left_created(world: World) -> None:
    await paid_order(world, "P1")
    await stored_refund(world, "P1", 500, "SAME1")  # the gateway died before the hold
    answer = await world.api().refund_order(ask("P1", 500, "SAME1"), CONTEXT, None)
    assert (answer["state"], answer["refundOrderId"]) == (2, "RSAME1")
    assert world.channel.refunds == ["RSAME1"]
    assert await world.posting("refund-hold:RSAME1") is not None  # held before the channel
    assert await reservation(world, "P1") == (500, 0, None)
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 0}
    # Asked again once more: answered from the stored refund, nothing sent twice.
    again = await world.api().refund_order(ask("P1", 500, "SAME1"), CONTEXT, None)
    assert again["state"] == 2 and world.channel.refunds == ["RSAME1"]


async def test_a_retry_after_a_death_between_hold_and_channel_holds_once(world: World) -> None:
    await paid_order(world, "P1")
    world.channel.refund_state = RuntimeError("the gateway died here")
    with pytest.raises(RuntimeError):
        await world.api().refund_order(ask("P1", 500, "SAME1"), CONTEXT, None)
    world.channel.refund_state = S.CHANNEL_STATE_CONFIRM_SUCCESS
    answer = await world.api().refund_order(ask("P1", 500, "SAME1"), CONTEXT, None)
    assert answer["state"] == 2
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 497}  # held once
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 0}


async def test_a_retry_while_the_ledger_is_unreachable_keeps_the_refund(world: World) -> None:
    await paid_order(world, "P1")
    await stored_refund(world, "P1", 500, "SAME1")
    with pytest.raises(ApiError) as refused:
        await world.api(LostAnswers(world.stub, reaches=True)).refund_order(
            ask("P1", 500, "SAME1"), CONTEXT, None)
    assert refused.value.code == 10 and "try again" in refused.value.msg
    # Not undone (the first request might have got further): still created and reserved.
    [kept] = await refund_rows(world, "P1")
    assert kept.state == 0 and world.channel.refunds == []
    assert await reservation(world, "P1") == (0, 500, "RSAME1")
    answer = await world.api().refund_order(ask("P1", 500, "SAME1"), CONTEXT, None)
    assert answer["state"] == 2 and world.channel.refunds == ["RSAME1"]
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 497}


async def test_the_first_request_cannot_undo_a_refund_taken_over(world: World) -> None:
    await paid_order(world, "P1")
    first = await stored_refund(world, "P1", 500, "SAME1")
    taken = await world.refunds.take_over(first)
    assert taken is not None and taken.updated_at != first.updated_at
    assert not await world.refunds.abandon(first)  # its view of the row is stale
    assert [r.refund_order_id for r in await refund_rows(world, "P1")] == ["RSAME1"]
    assert await world.refunds.abandon(taken)  # the one driving it may still undo it


async def test_the_sweep_resumes_a_refund_left_created_after_a_minute(world: World) -> None:
    await paid_order(world, "P1")
    await stored_refund(world, "P1", 500, "SAME1")
    now = utc_now()
    young = await sweeps_at(world, now + timedelta(seconds=30), world.api()).sweep_refunds(10)
    assert young.examined == 0 and world.channel.refunds == []  # its request may be at work
    done = await sweeps_at(world, now + timedelta(seconds=61), world.api()).sweep_refunds(10)
    assert (done.examined, done.settled) == (1, 1)
    assert world.channel.refunds == ["RSAME1"]
    [refund] = await refund_rows(world, "P1")
    assert refund.state == 2 and await reservation(world, "P1") == (500, 0, None)
    await world.outbox.dispatch_due()
    assert await world.balances() == {PENDING: 497, AVAILABLE: 0, FROZEN: 0}
    assert await world.posting("refund:RSAME1") is not None


async def test_the_sweep_fails_a_stuck_refund_the_merchant_cannot_fund(world: World) -> None:
    await paid_order(world, "P1", rule=KEEP)  # the fee stays: a full refund needs 1000
    await stored_refund(world, "P1", 1000, "SAME1", age=timedelta(seconds=90))
    done = await sweeps_at(world, utc_now(), world.api()).sweep_refunds(10)
    assert done.settled == 1 and world.channel.refunds == []
    [refund] = await refund_rows(world, "P1")
    assert (refund.state, refund.err_code) == (3, "HOLD_INSUFFICIENT_FUNDS")
    assert await reservation(world, "P1") == (0, 0, None)
    assert await world.balances() == {PENDING: 994, AVAILABLE: 0, FROZEN: 0}
