"""Refunds and refund queries against the simulator, normal merchant and ISV."""

from __future__ import annotations

from typing import Any

import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.base import ChannelState, RefundOrder
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.simulators.alipay import AlipaySimulator

from . import order, order_id

S = ChannelState


async def paid_order(adapter: AlipayAdapter, params: dict[str, Any], amount: int) -> str:
    pay_order = order("ALI_BAR", amount=amount, extra='{"authCode":"287951669607283456"}')
    assert (await adapter.pay(params, pay_order, "")).state is S.CONFIRM_SUCCESS
    return pay_order.pay_order_id


def refund_of(pay_order_id: str, amount: int, paid: int, refund_id: str = "") -> RefundOrder:
    return RefundOrder(pay_order_id=pay_order_id, refund_order_id=refund_id or order_id("R"),
                       pay_amount=paid, refund_amount=amount, currency="cny", reason="退货")


@pytest.mark.parametrize("isv", [False, True])
async def test_partial_refunds_add_up_to_the_payment_and_no_further(
        adapter: AlipayAdapter, sim: AlipaySimulator, isv: bool) -> None:
    params = sim.adapter_params(isv=isv)
    paid = await paid_order(adapter, params, 1000)
    first = refund_of(paid, 300, 1000)
    done = await adapter.refund(params, first, "")
    assert (done.state, done.refund_amount) == (S.CONFIRM_SUCCESS, 300)
    # The same refund again is idempotent: confirmed through the refund query, no new money.
    again = await adapter.refund(params, first, "")
    assert (again.state, again.refund_amount) == (S.CONFIRM_SUCCESS, 300)
    over = await adapter.refund(params, refund_of(paid, 701, 1000), "")
    assert (over.state, over.err_code) == (S.CONFIRM_FAIL, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL")
    rest = await adapter.refund(params, refund_of(paid, 700, 1000), "")
    assert rest.state is S.CONFIRM_SUCCESS
    trade = sim.trade(paid)
    assert (trade["refunded_fen"], trade["status"]) == (1000, "TRADE_CLOSED")
    assert {r["fen"] for r in trade["refunds"].values()} == {300, 700}
    queried = await adapter.query_refund(params, paid, first.refund_order_id)
    assert (queried.state, queried.refund_amount) == (S.CONFIRM_SUCCESS, 300)


async def test_a_refund_that_never_happened_is_reported_as_not_refunded(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    paid = await paid_order(adapter, params, 100)
    missing = await adapter.query_refund(params, paid, order_id("R"))
    assert (missing.state, missing.err_code) == (S.CONFIRM_FAIL, "REFUND_NOT_EXIST")
    unknown_trade = await adapter.query_refund(params, order_id(), order_id("R"))
    assert (unknown_trade.state, unknown_trade.err_code) == (S.CONFIRM_FAIL,
                                                             "ACQ.TRADE_NOT_EXIST")


async def test_an_unpaid_or_finished_trade_is_not_refunded(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    waiting = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}')
    await adapter.pay(params, waiting, "")
    refused = await adapter.refund(params, refund_of(waiting.pay_order_id, 1, 1), "")
    assert (refused.state, refused.err_code) == (S.CONFIRM_FAIL, "ACQ.TRADE_STATUS_ERROR")
    paid = await paid_order(adapter, params, 100)
    sim.control("finish", out_trade_no=paid)
    finished = await adapter.refund(params, refund_of(paid, 1, 100), "")
    assert (finished.state, finished.err_code) == (S.CONFIRM_FAIL, "ACQ.TRADE_NOT_ALLOW_REFUND")
    assert (await adapter.query(params, paid)).state is S.CONFIRM_SUCCESS


async def test_cancelling_a_paid_barcode_refunds_it(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    paid = await paid_order(adapter, params, 500)
    assert (await adapter.cancel(params, paid)).state is S.CONFIRM_SUCCESS
    trade = sim.trade(paid)
    assert (trade["status"], trade["refunded_fen"]) == ("TRADE_CLOSED", 500)


async def test_refund_amounts_outside_the_payment_are_bad_input(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    for amount in (0, 101):
        with pytest.raises(InvalidArgument):
            await adapter.refund(params, refund_of("P1", amount, 100), "")
