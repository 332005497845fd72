"""The adapter against the simulator: every wayCode family, normal merchant and ISV."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.simulators.alipay import APP_ID, SUB_MERCHANT_APP_ID, AlipaySimulator

from . import order

S = ChannelState
MODES = ["normal", "isv"]


def mode_params(sim: AlipaySimulator, mode: str) -> dict[str, Any]:
    return sim.adapter_params(isv=mode == "isv")


def merchant_of(mode: str) -> str:
    return SUB_MERCHANT_APP_ID if mode == "isv" else APP_ID


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("way", ["ALI_QR", "ALI_OC"])
async def test_qr_pay_waits_then_query_follows_the_trade(
        adapter: AlipayAdapter, sim: AlipaySimulator, mode: str, way: str) -> None:
    params = mode_params(sim, mode)
    pay_order = order(way, amount=12345, body="描述")
    result = await adapter.pay(params, pay_order, "http://127.0.0.1:9/notify")
    assert (result.state, result.pay_data_type) == (S.WAITING, "codeUrl")
    assert result.pay_data.startswith("https://qr.alipay.com/bax")  # \/ unescaped, exactly
    trade = sim.trade(pay_order.pay_order_id)
    assert (trade["fen"], trade["auth_app_id"]) == (12345, merchant_of(mode))
    unscanned = await adapter.query(params, pay_order.pay_order_id)
    assert (unscanned.state, unscanned.err_code) == (S.WAITING, "ACQ.TRADE_NOT_EXIST")
    sim.pay(pay_order.pay_order_id)
    paid = await adapter.query(params, pay_order.pay_order_id)
    assert paid.state is S.CONFIRM_SUCCESS and paid.channel_order_no == trade["trade_no"]
    again = await adapter.pay(params, pay_order, "")
    assert again.state is S.UNKNOWN and again.err_code == "ACQ.TRADE_HAS_SUCCESS"


async def test_the_other_merchants_trade_is_invisible(adapter: AlipayAdapter,
                                                      sim: AlipaySimulator) -> None:
    """An ISV trade lives under the sub-merchant: without app_auth_token it does not exist."""
    pay_order = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}')
    await adapter.pay(sim.adapter_params(isv=True), pay_order, "")
    alone = await adapter.query(sim.adapter_params(), pay_order.pay_order_id)
    assert alone.err_code == "ACQ.TRADE_NOT_EXIST"


@pytest.mark.parametrize("mode", MODES)
async def test_barcode_pays_at_once(adapter: AlipayAdapter, sim: AlipaySimulator,
                                    mode: str) -> None:
    pay_order = order("ALI_BAR", amount=250, extra='{"authCode":"287951669607283456"}')
    result = await adapter.pay(mode_params(sim, mode), pay_order, "")
    assert (result.state, result.pay_data_type) == (S.CONFIRM_SUCCESS, "none")
    assert result.channel_order_no == sim.trade(pay_order.pay_order_id)["trade_no"]


async def test_barcode_waiting_for_a_pin_then_paid_or_cancelled(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    sim.control("barcode", auth_code="281234567890123456", mode="password")
    first = order("ALI_BAR", extra='{"authCode":"281234567890123456"}')
    waiting = await adapter.pay(params, first, "")
    assert waiting.state is S.WAITING and waiting.channel_order_no
    assert (await adapter.query(params, first.pay_order_id)).state is S.WAITING
    sim.control("password", out_trade_no=first.pay_order_id, result="pay")
    assert (await adapter.query(params, first.pay_order_id)).state is S.CONFIRM_SUCCESS

    second = order("ALI_BAR", extra='{"authCode":"281234567890123456"}')
    assert (await adapter.pay(params, second, "")).state is S.WAITING
    cancelled = await adapter.cancel(params, second.pay_order_id)
    assert cancelled.state is S.CONFIRM_SUCCESS
    closed = await adapter.query(params, second.pay_order_id)
    assert (closed.state, closed.err_code) == (S.CONFIRM_FAIL, "TRADE_CLOSED")


async def test_barcode_refusals_are_confirmed_failures(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    sim.control("barcode", auth_code="289999999999999999", mode="insufficient")
    poor = await adapter.pay(params, order("ALI_BAR", extra='{"authCode":"289999999999999999"}'),
                             "")
    assert (poor.state, poor.err_code) == (S.CONFIRM_FAIL, "ACQ.BUYER_BALANCE_NOT_ENOUGH")
    assert poor.err_msg
    bad = await adapter.pay(params, order("ALI_BAR", extra='{"authCode":"123"}'), "")
    assert (bad.state, bad.err_code) == (S.CONFIRM_FAIL, "ACQ.PAYMENT_AUTH_CODE_INVALID")


async def test_cancel_before_the_payment_arrives_blocks_it(
        adapter: AlipayAdapter, params: dict[str, Any]) -> None:
    pay_order = order("ALI_BAR", extra='{"authCode":"287951669607283456"}')
    assert (await adapter.cancel(params, pay_order.pay_order_id)).state is S.CONFIRM_SUCCESS
    late = await adapter.pay(params, pay_order, "")
    assert (late.state, late.err_code) == (S.CONFIRM_FAIL, "ACQ.TRADE_HAS_CLOSE")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("way", ["ALI_WAP", "ALI_PC"])
async def test_page_pay_url_opens_the_cashier(adapter: AlipayAdapter, sim: AlipaySimulator,
                                              http: httpx.AsyncClient, mode: str,
                                              way: str) -> None:
    params = mode_params(sim, mode)
    pay_order = order(way, amount=100, return_url="https://shop.example/done")
    result = await adapter.pay(params, pay_order, "https://pay.example/notify")
    assert (result.state, result.pay_data_type) == (S.WAITING, "payurl")
    assert result.pay_data.startswith(sim.gateway_url + "?")
    query = dict(parse_qsl(urlsplit(result.pay_data).query))
    assert query["return_url"] == "https://shop.example/done"
    assert bool(query.get("app_auth_token")) is (mode == "isv")
    page = (await http.get(result.pay_data)).text
    assert 'id="result">WAIT_BUYER_PAY' in page, page
    sim.pay(pay_order.pay_order_id)
    assert (await adapter.query(params, pay_order.pay_order_id)).state is S.CONFIRM_SUCCESS


async def test_page_pay_form_posts_to_the_cashier(adapter: AlipayAdapter, sim: AlipaySimulator,
                                                  http: httpx.AsyncClient,
                                                  params: dict[str, Any]) -> None:
    pay_order = order("ALI_WAP", extra='{"payDataType":"form"}')
    result = await adapter.pay(params, pay_order, "")
    assert result.pay_data_type == "form"
    action = html.unescape(re.search(r'action="([^"]+)"', result.pay_data)[1])  # type: ignore
    biz = html.unescape(re.search(r'name="biz_content" value="([^"]+)"',
                                  result.pay_data)[1])  # type: ignore[index]
    page = (await http.post(action, data={"biz_content": biz})).text
    assert 'id="result">WAIT_BUYER_PAY' in page, page
    tampered = (await http.post(action, data={"biz_content": biz.replace("0.01", "0.02")})).text
    assert "isv.invalid-signature" in tampered


@pytest.mark.parametrize("mode", MODES)
async def test_app_pay_order_string_is_accepted_by_the_app(
        adapter: AlipayAdapter, sim: AlipaySimulator, mode: str) -> None:
    params = mode_params(sim, mode)
    pay_order = order("ALI_APP", amount=999)
    result = await adapter.pay(params, pay_order, "https://pay.example/notify")
    assert (result.state, result.pay_data_type) == (S.WAITING, "aliapp")
    opened = sim.control("app_pay", order_string=result.pay_data)
    assert opened["out_trade_no"] == pay_order.pay_order_id
    assert sim.trade(pay_order.pay_order_id)["auth_app_id"] == merchant_of(mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("way", "buyer", "field"), [
    ("ALI_JSAPI", "2088102146225135", "buyer_id"),
    ("ALI_LITE", "074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5", "buyer_open_id"),
])
async def test_jsapi_and_mini_program_return_the_trade_no(
        adapter: AlipayAdapter, sim: AlipaySimulator, mode: str, way: str, buyer: str,
        field: str) -> None:
    params = mode_params(sim, mode)
    pay_order = order(way, extra=f'{{"buyerUserId":"{buyer}"}}')
    result = await adapter.pay(params, pay_order, "")
    trade = sim.trade(pay_order.pay_order_id)
    assert (result.state, result.pay_data_type) == (S.WAITING, "aliapp")
    assert result.pay_data == result.channel_order_no == trade["trade_no"]
    assert trade[field] == buyer
    with pytest.raises(Exception, match="ACQ.BUYER_NOT_MATCH"):
        sim.pay(pay_order.pay_order_id, buyer_id="2088000000000001")
    sim.pay(pay_order.pay_order_id, buyer_id=buyer)
    assert (await adapter.query(params, pay_order.pay_order_id)).state is S.CONFIRM_SUCCESS


@pytest.mark.parametrize("mode", MODES)
async def test_close_then_late_payment_is_refused(adapter: AlipayAdapter, sim: AlipaySimulator,
                                                  mode: str) -> None:
    params = mode_params(sim, mode)
    pay_order = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}')
    await adapter.pay(params, pay_order, "")
    assert (await adapter.close(params, pay_order.pay_order_id)).state is S.CONFIRM_SUCCESS
    assert (await adapter.query(params, pay_order.pay_order_id)).state is S.CONFIRM_FAIL
    never = await adapter.close(params, "NEVER" + pay_order.pay_order_id)
    assert never.state is S.CONFIRM_SUCCESS  # nothing to close


async def test_a_paid_trade_cannot_be_closed(adapter: AlipayAdapter, sim: AlipaySimulator,
                                             params: dict[str, Any]) -> None:
    pay_order = order("ALI_BAR", extra='{"authCode":"287951669607283456"}')
    await adapter.pay(params, pay_order, "")
    closed = await adapter.close(params, pay_order.pay_order_id)
    assert (closed.state, closed.err_code) == (S.CONFIRM_FAIL, "ACQ.TRADE_STATUS_ERROR")


async def test_an_expired_code_cannot_be_paid(adapter: AlipayAdapter, sim: AlipaySimulator,
                                              params: dict[str, Any]) -> None:
    pay_order = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}',
                      expire_at=int(sim.now()) + 60)
    await adapter.pay(params, pay_order, "")
    assert sim.trade(pay_order.pay_order_id)["time_expire"]
    sim.control("advance", seconds=120)
    with pytest.raises(Exception, match="ACQ.TRADE_HAS_CLOSE"):
        sim.pay(pay_order.pay_order_id)
    assert (await adapter.query(params, pay_order.pay_order_id)).state is S.CONFIRM_FAIL
