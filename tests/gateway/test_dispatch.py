"""Dispatching an order to its passages against the real database: the order the dispatch
answers with is the stored one, the first passage costs no extra update, and an order that moved
while its channel was being asked is read back rather than overwritten."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.db import utc_now
from paymesh.services.gateway.channel_calls import ChannelAnswer
from paymesh.services.gateway.dispatch import ChannelDispatch, passage_snapshot
from paymesh.services.gateway.fees import FeeModel
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.pay_context import Passage
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository

S = channel_pb2.ChannelState
COMPARED = ("state", "if_code", "channel_config_key", "fee_rate", "fee_amount", "limit_day",
            "channel_order_no", "pay_data_type", "pay_data", "err_code", "err_msg",
            "route_attempts")


class Channels:
    """Answers each pay call with the next answer, after running ``meanwhile`` if set."""

    def __init__(self, *answers: ChannelAnswer) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        self.meanwhile: Callable[[], Awaitable[object]] | None = None

    async def pay(self, request: channel_pb2.PayRequest) -> ChannelAnswer:
        self.asked.append(request.if_code)
        if self.meanwhile is not None:
            await self.meanwhile()
        return self.answers.pop(0)


def passage(if_code: str, rate: str, *, daily_limit: int = 0) -> Passage:
    return Passage(way_code="WX_NATIVE", if_code=if_code, fee_rate=rate, usable=True,
                   channel_params_json="{}", daily_limit=daily_limit,
                   fee_model=FeeModel(rate), channel_config_key=f"A1.{if_code}")


def new_order(pid: str, first: Passage) -> PayOrder:
    now = utc_now()
    return PayOrder(
        pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=f"SHOP-{pid}",
        way_code="WX_NATIVE", amount=10000, currency="cny", state=St.INIT, subject="s",
        body="b", expire_at=now + timedelta(hours=2), late_success=False, refunded_amount=0,
        refund_reserved=0, refund_times=0, created_at=now, updated_at=now,
        **passage_snapshot(10000, first))


def waiting(number: str) -> ChannelAnswer:
    return ChannelAnswer(S.CHANNEL_STATE_WAITING, channel_order_no=number,
                         pay_data_type="codeUrl", pay_data=f"weixin://pay/{number}")


def count_updates(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE PAY_ORDER"):
            seen.append(statement)

    return seen


async def dispatched(engine: AsyncEngine, order: PayOrder, channels: Channels,
                     candidates: list[Passage]) -> tuple[PayOrder, PayOrder]:
    orders = PayOrderRepository(engine)
    dispatch = ChannelDispatch(orders, PassageUsage(engine), channels,  # type: ignore[arg-type]
                               "http://edge.test")
    answered = await dispatch.dispatch(order, candidates)
    stored = await orders.get(order.pay_order_id)
    assert stored is not None
    return answered, stored


def columns(order: PayOrder) -> dict[str, object]:
    return {name: getattr(order, name) for name in COMPARED}


async def test_the_first_passage_is_not_pointed_again_and_the_answer_is_the_stored_order(
        engine: AsyncEngine) -> None:
    first = passage("sandbox", "0.006")
    order = new_order("PD1", first)
    assert await PayOrderRepository(engine).insert(order)
    updates = count_updates(engine)
    answered, stored = await dispatched(engine, order, Channels(waiting("CH-1")), [first])
    assert len(updates) == 1, updates  # only the move to PAYING
    assert stored.state == St.PAYING and stored.channel_order_no == "CH-1"
    assert stored.route_attempts == '[{"ifCode": "sandbox", "result": "WAITING"}]'
    assert columns(answered) == columns(stored)


async def test_a_failed_over_order_carries_the_second_passages_snapshot(
        engine: AsyncEngine) -> None:
    first, second = passage("wxpay", "0.006"), passage("sandbox", "0.0038")
    order = new_order("PD2", first)
    assert await PayOrderRepository(engine).insert(order)
    channels = Channels(ChannelAnswer(S.CHANNEL_STATE_SYS_ERROR, err_code="CHANNEL_UNAVAILABLE"),
                        waiting("CH-2"))
    answered, stored = await dispatched(engine, order, channels, [first, second])
    assert channels.asked == ["wxpay", "sandbox"]
    assert (stored.state, stored.if_code, stored.channel_config_key) == (
        St.PAYING, "sandbox", "A1.sandbox")
    assert (stored.fee_rate, stored.fee_amount) == ("0.0038", 38)
    assert columns(answered) == columns(stored)


async def test_an_order_stored_with_another_snapshot_is_pointed_at_the_passage(
        engine: AsyncEngine) -> None:
    stale, current = passage("sandbox", "0.01"), passage("sandbox", "0.006")
    order = new_order("PD3", stale)  # the passage's fee changed since the order was stored
    assert await PayOrderRepository(engine).insert(order)
    updates = count_updates(engine)
    answered, stored = await dispatched(engine, order, Channels(waiting("CH-3")), [current])
    assert len(updates) == 2, updates
    assert (stored.fee_rate, stored.fee_amount) == ("0.006", 60)
    assert columns(answered) == columns(stored)


async def test_a_daily_limit_is_reserved_and_written_on_the_order(engine: AsyncEngine) -> None:
    limited = passage("sandbox", "0.006", daily_limit=50000)
    order = new_order("PD4", limited)
    assert await PayOrderRepository(engine).insert(order)
    answered, stored = await dispatched(engine, order, Channels(waiting("CH-4")), [limited])
    assert stored.limit_day is not None
    assert columns(answered) == columns(stored)


async def test_an_order_paid_while_its_channel_was_asked_is_read_back(
        engine: AsyncEngine) -> None:
    first = passage("sandbox", "0.006")
    order = new_order("PD5", first)
    orders = PayOrderRepository(engine)
    assert await orders.insert(order)
    channels = Channels(waiting("CH-5"))

    async def callback_first() -> None:
        assert await orders.transition("PD5", [St.INIT, St.PAYING], state=St.SUCCESS,
                                       channel_order_no="CH-5", success_at=utc_now())

    channels.meanwhile = callback_first
    answered, stored = await dispatched(engine, order, channels, [first])
    assert stored.state == St.SUCCESS and stored.pay_data is None
    assert answered.state == St.SUCCESS
    assert columns(answered) == columns(stored)
