"""Conditional transitions of pay orders: only from allowed states, once, and an order already
loaded in the caller's session sees the change it made."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.gateway.models import OutboxEvent, PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import PAY_SUCCEEDED
from paymesh.services.gateway.repository import PayOrderRepository


def new_order(pid: str) -> PayOrder:
    now = utc_now()
    return PayOrder(
        pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=f"SHOP-{pid}",
        if_code="sandbox", way_code="WX_NATIVE", amount=100, currency="cny", state=St.INIT,
        subject="s", body="b", expire_at=now + timedelta(hours=2), fee_rate="0", fee_amount=0,
        late_success=False, refunded_amount=0, refund_reserved=0, refund_times=0,
        created_at=now, updated_at=now)


async def test_a_transition_moves_an_order_once_and_only_from_allowed_states(
        engine: AsyncEngine) -> None:
    orders = PayOrderRepository(engine)
    assert await orders.insert(new_order("P1"))
    assert not await orders.transition("P1", [St.PAYING], state=St.SUCCESS)
    assert await orders.transition("P1", [St.INIT], state=St.PAYING, pay_data="https://pay/1")
    assert not await orders.transition("P1", [St.INIT], state=St.CLOSED)
    stored = await orders.get("P1")
    assert stored is not None
    assert (stored.state, stored.pay_data) == (St.PAYING, "https://pay/1")


async def test_a_transition_in_the_callers_session_updates_the_order_it_loaded(
        engine: AsyncEngine) -> None:
    orders = PayOrderRepository(engine)
    assert await orders.insert(new_order("P2"))
    async with sessions(engine).begin() as session:
        loaded = await session.get(PayOrder, "P2")
        assert loaded is not None and loaded.state == St.INIT
        assert await PayOrderRepository.transition_in(session, "P2", [St.INIT],
                                                      event=PAY_SUCCEEDED, state=St.SUCCESS,
                                                      channel_order_no="CH-2")
        # The loaded order shows the new state before the commit, as the caller reads it.
        assert (loaded.state, loaded.channel_order_no) == (St.SUCCESS, "CH-2")
    async with sessions(engine)() as session:
        stored = await session.get(PayOrder, "P2")
        assert stored is not None and stored.state == St.SUCCESS
        topics = (await session.scalars(
            select(OutboxEvent.topic).where(OutboxEvent.order_id == "P2"))).all()
        assert list(topics) == [PAY_SUCCEEDED]


async def test_an_inserted_order_carries_its_defaults_and_a_repeat_is_refused(
        engine: AsyncEngine) -> None:
    orders = PayOrderRepository(engine)
    order = new_order("P3")
    assert order.division_mode is None and order.fee_rounding is None
    assert await orders.insert(order)
    stored = await orders.get("P3")
    assert stored is not None
    for column in ("division_mode", "fee_fixed", "fee_rounding", "refund_fee_rule"):
        assert getattr(order, column) == getattr(stored, column) is not None, column
    again = new_order("P3")
    assert not await orders.insert(again)  # the same id
    other = new_order("P4")
    other.mch_order_no = order.mch_order_no
    assert not await orders.insert(other)  # the same merchant order number
    assert await orders.get("P4") is None


async def test_a_transition_writes_its_event_once_with_the_change(engine: AsyncEngine) -> None:
    orders = PayOrderRepository(engine)
    assert await orders.insert(new_order("P5"))
    assert await orders.transition("P5", [St.INIT], event=PAY_SUCCEEDED, state=St.SUCCESS)
    assert not await orders.transition("P5", [St.INIT], event=PAY_SUCCEEDED, state=St.SUCCESS)
    async with sessions(engine)() as session:
        events = (await session.scalars(
            select(OutboxEvent).where(OutboxEvent.order_id == "P5"))).all()
        assert [(e.topic, e.attempts, e.delivered_at) for e in events] == [
            (PAY_SUCCEEDED, 0, None)]
