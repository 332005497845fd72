"""Query, close, reverse, refund and refund query against the simulator's book."""

from __future__ import annotations

from typing import Any

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.simulators.wxpay import WxpaySimulator

from .conftest import order, refund_of

S = ChannelState


async def paid_order(adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any],
                     notify: str, amount: int = 1000) -> Any:
    pay = order("WX_NATIVE", amount=amount)
    assert (await adapter.pay(params, pay, notify)).state is S.WAITING
    sim.pay(pay.pay_order_id)
    return pay


async def test_query_follows_the_payment(adapter: WxpayAdapter, sim: WxpaySimulator,
                                         params: dict[str, Any], notify: str) -> None:
    pay = order("WX_NATIVE")
    await adapter.pay(params, pay, notify)
    assert (await adapter.query(params, pay.pay_order_id)).state is S.WAITING
    transaction = sim.pay(pay.pay_order_id)
    result = await adapter.query(params, pay.pay_order_id)
    assert result.state is S.CONFIRM_SUCCESS
    assert result.channel_order_no == transaction["transaction_id"]


async def test_query_of_an_unknown_order_is_confirm_fail(adapter: WxpayAdapter,
                                                         params: dict[str, Any]) -> None:
    result = await adapter.query(params, "P0000000000NOPE")
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "ORDER_NOT_EXIST")


async def test_orders_of_one_mode_are_invisible_to_the_other(
        adapter: WxpayAdapter, sim: WxpaySimulator, notify: str) -> None:
    pay = order("WX_NATIVE")
    await adapter.pay(sim.adapter_params(isv=True), pay, notify)
    result = await adapter.query(sim.adapter_params(), pay.pay_order_id)
    assert result.err_code == "ORDER_NOT_EXIST"


async def test_close_an_unpaid_order(adapter: WxpayAdapter, sim: WxpaySimulator,
                                     params: dict[str, Any], notify: str) -> None:
    pay = order("WX_JSAPI", extra='{"openid":"o1"}')
    await adapter.pay(params, pay, notify)
    assert (await adapter.close(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS
    assert sim.order(pay.pay_order_id)["trade_state"] == "CLOSED"
    assert (await adapter.close(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS
    queried = await adapter.query(params, pay.pay_order_id)
    assert (queried.state, queried.err_code) == (S.CONFIRM_FAIL, "CLOSED")
    assert (await adapter.close(params, "P00000000000NONE")).state is S.CONFIRM_SUCCESS


async def test_close_a_paid_order_is_refused(adapter: WxpayAdapter, sim: WxpaySimulator,
                                             params: dict[str, Any], notify: str) -> None:
    pay = await paid_order(adapter, sim, params, notify)
    result = await adapter.close(params, pay.pay_order_id)
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "ORDERPAID")
    assert sim.order(pay.pay_order_id)["trade_state"] == "SUCCESS"


async def test_reverse_a_paid_barcode(adapter: WxpayAdapter, sim: WxpaySimulator,
                                      params: dict[str, Any]) -> None:
    pay = order("WX_BAR", extra='{"authCode":"114567890123456789"}')
    assert (await adapter.pay(params, pay, "")).state is S.CONFIRM_SUCCESS
    assert (await adapter.cancel(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS
    assert sim.order(pay.pay_order_id)["trade_state"] == "REVOKED"
    not_barcode = await adapter.cancel(params, (await _native(adapter, params)).pay_order_id)
    assert (not_barcode.state, not_barcode.err_code) == (S.CONFIRM_FAIL, "INVALID_REQUEST")


async def _native(adapter: WxpayAdapter, params: dict[str, Any]) -> Any:
    pay = order("WX_NATIVE")
    await adapter.pay(params, pay, "http://127.0.0.1:9/n")
    return pay


async def test_refund_processing_then_success(adapter: WxpayAdapter, sim: WxpaySimulator,
                                              params: dict[str, Any], notify: str) -> None:
    pay = await paid_order(adapter, sim, params, notify)
    refund = refund_of(pay, 300)
    result = await adapter.refund(params, refund, notify)
    assert (result.state, result.refund_amount) == (S.WAITING, 300)
    assert result.channel_refund_no
    again = await adapter.refund(params, refund, notify)
    assert again.channel_refund_no == result.channel_refund_no
    waiting = await adapter.query_refund(params, pay.pay_order_id, refund.refund_order_id)
    assert waiting.state is S.WAITING
    sim.finish_refund(refund.refund_order_id, "SUCCESS")
    done = await adapter.query_refund(params, pay.pay_order_id, refund.refund_order_id)
    assert (done.state, done.refund_amount, done.channel_refund_no) == \
        (S.CONFIRM_SUCCESS, 300, result.channel_refund_no)
    assert (await adapter.query(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS


async def test_refunds_never_exceed_the_payment(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                params: dict[str, Any], notify: str) -> None:
    pay = await paid_order(adapter, sim, params, notify)
    assert (await adapter.refund(params, refund_of(pay, 700), notify)).state is S.WAITING
    too_much = await adapter.refund(params, refund_of(pay, 301), notify)
    assert (too_much.state, too_much.err_code) == (S.CONFIRM_FAIL, "INVALID_REQUEST")
    rest = await adapter.refund(params, refund_of(pay, 300), notify)
    assert rest.state is S.WAITING


async def test_refund_closed_or_abnormal_is_confirm_fail(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any], notify: str) -> None:
    pay = await paid_order(adapter, sim, params, notify)
    for status in ("CLOSED", "ABNORMAL"):
        refund = refund_of(pay, 100)
        await adapter.refund(params, refund, notify)
        sim.finish_refund(refund.refund_order_id, status)
        result = await adapter.query_refund(params, pay.pay_order_id, refund.refund_order_id)
        assert (result.state, result.err_code) == (S.CONFIRM_FAIL, f"REFUND_{status}")


async def test_refund_of_an_unpaid_or_unknown_order_is_refused(
        adapter: WxpayAdapter, params: dict[str, Any], notify: str) -> None:
    unpaid = await _native(adapter, params)
    result = await adapter.refund(params, refund_of(unpaid, 1), notify)
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "INVALID_REQUEST")
    ghost = order(pay_order_id="P000000000GHOST")
    result = await adapter.refund(params, refund_of(ghost, 1), notify)
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "RESOURCE_NOT_EXISTS")
    missing = await adapter.query_refund(params, ghost.pay_order_id, "R000000NOPE")
    assert (missing.state, missing.err_code) == (S.CONFIRM_FAIL, "RESOURCE_NOT_EXISTS")


async def test_refund_at_once_when_the_channel_settles_immediately(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any], notify: str) -> None:
    pay = await paid_order(adapter, sim, params, notify)
    sim.api.refund_outcome = "SUCCESS"
    try:
        result = await adapter.refund(params, refund_of(pay, 1000), notify)
    finally:
        sim.api.refund_outcome = "PROCESSING"
    assert (result.state, result.refund_amount) == (S.CONFIRM_SUCCESS, 1000)
