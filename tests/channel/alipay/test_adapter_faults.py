"""What the adapter does when the answer cannot be trusted or does not come (reference §6.10).

Rule: never success, never failure, unless Alipay said so in an answer that verifies. A request
that may have reached Alipay leaves the outcome UNKNOWN; one that never left is SYS_ERROR.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.base import ChannelState, RefundOrder
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.simulators.alipay import AlipaySimulator
from paymesh.services.simulators.alipay.crypto import KeyPair

from . import order

S = ChannelState
BAR = '{"authCode":"287951669607283456"}'


@pytest.mark.parametrize(("fault", "err_code"), [
    ({"kind": "tamper"}, "CHANNEL_SIGN_INVALID"),
    ({"kind": "wrongkey"}, "CHANNEL_SIGN_INVALID"),
    ({"kind": "unsigned"}, "CHANNEL_ANSWER_UNSIGNED"),
    ({"kind": "http", "status": 502}, "CHANNEL_HTTP_502"),
    ({"kind": "http", "status": 500}, "CHANNEL_HTTP_500"),
    ({"kind": "code20000"}, "ACQ.SYSTEM_ERROR"),
    ({"kind": "refuse", "code": "40004", "sub_code": "ACQ.SYSTEM_ERROR"}, "ACQ.SYSTEM_ERROR"),
    ({"kind": "delay", "seconds": 1.5}, "CHANNEL_TIMEOUT"),
    ({"kind": "drop"}, "CHANNEL_CONNECTION_BROKEN"),
])
async def test_an_untrusted_or_missing_answer_leaves_the_payment_unknown(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any],
        fault: dict[str, Any], err_code: str) -> None:
    sim.control("fault", method="alipay.trade.pay", **fault)
    pay_order = order("ALI_BAR", extra=BAR)
    result = await adapter.pay(params, pay_order, "")
    assert (result.state, result.err_code) == (S.UNKNOWN, err_code), result.err_msg
    # Resolved by query once the channel answers properly again: paid if Alipay processed it.
    processed = fault["kind"] not in ("http", "refuse")
    later = await adapter.query(params, pay_order.pay_order_id)
    assert later.state is (S.CONFIRM_SUCCESS if processed else S.WAITING)


async def test_a_tampered_query_answer_is_never_a_success(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    pay_order = order("ALI_JSAPI", extra='{"buyerUserId":"2088102146225135"}')
    await adapter.pay(params, pay_order, "")
    sim.control("fault", method="alipay.trade.query", kind="tamper")
    forged = await adapter.query(params, pay_order.pay_order_id)
    assert forged.state is S.UNKNOWN
    assert (await adapter.query(params, pay_order.pay_order_id)).state is S.WAITING


async def test_faults_on_refund_refund_query_close_and_cancel_are_unknown(
        adapter: AlipayAdapter, sim: AlipaySimulator, params: dict[str, Any]) -> None:
    pay_order = order("ALI_BAR", extra=BAR, amount=100)
    await adapter.pay(params, pay_order, "")
    refund = RefundOrder(pay_order.pay_order_id, "R" + pay_order.pay_order_id, 100, 60, "cny")
    for method, call in [
        ("alipay.trade.refund", adapter.refund(params, refund, "")),
        ("alipay.trade.fastpay.refund.query",
         adapter.query_refund(params, pay_order.pay_order_id, refund.refund_order_id)),
        ("alipay.trade.close", adapter.close(params, pay_order.pay_order_id)),
        ("alipay.trade.cancel", adapter.cancel(params, pay_order.pay_order_id)),
    ]:
        sim.control("fault", method=method, kind="wrongkey")
        assert (await call).state is S.UNKNOWN, method
    trade = sim.trade(pay_order.pay_order_id)
    # Both the refund and the cancel did happen at Alipay, though no answer could be trusted.
    assert (trade["refunded_fen"], trade["status"]) == (100, "TRADE_CLOSED")
    done = await adapter.query_refund(params, pay_order.pay_order_id, refund.refund_order_id)
    assert (done.state, done.refund_amount) == (S.CONFIRM_SUCCESS, 60)


async def test_a_refused_connection_is_a_system_error(adapter: AlipayAdapter,
                                                      params: dict[str, Any]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = {**params, "apiBase": f"http://127.0.0.1:{port}/gateway.do"}
    result = await adapter.pay(closed, order("ALI_QR"), "")
    assert (result.state, result.err_code) == (S.SYS_ERROR, "CHANNEL_UNREACHABLE")
    assert (await adapter.query(closed, "P1")).state is S.SYS_ERROR


async def test_a_wrong_app_key_is_a_verified_refusal(adapter: AlipayAdapter,
                                                     params: dict[str, Any]) -> None:
    wrong = {**params, "privateKey": KeyPair.generate().private_pem}
    result = await adapter.pay(wrong, order("ALI_QR"), "")
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "isv.invalid-signature")


async def test_an_unknown_app_id_is_unsigned_hence_unknown(adapter: AlipayAdapter,
                                                           params: dict[str, Any]) -> None:
    result = await adapter.pay({**params, "appId": "2021000000000999"}, order("ALI_QR"), "")
    assert (result.state, result.err_code) == (S.UNKNOWN, "CHANNEL_ANSWER_UNSIGNED")
    assert "isv.invalid-app-id" in result.err_msg


async def test_an_unknown_auth_token_is_refused(adapter: AlipayAdapter,
                                                params: dict[str, Any]) -> None:
    bad = {**params, "sub": {"appAuthToken": "202406BBnot-a-token"}}
    result = await adapter.pay(bad, order("ALI_QR"), "")
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "aop.invalid-auth-token")


@pytest.mark.parametrize("change", [
    {"appId": ""}, {"privateKey": "not a key"}, {"alipayPublicKey": "-----BEGIN PUBLIC KEY-----"},
    {"signType": "RSA"}, {"apiBase": "ftp://gateway"}, {"sub": "token"}, {"sub": {}},
    {"useCert": True},
])
async def test_bad_params_are_a_config_error(adapter: AlipayAdapter, params: dict[str, Any],
                                             change: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as caught:
        await adapter.query({**params, **change}, "P1")
    assert caught.value.reason == "CHANNEL_CONFIG_INVALID"


@pytest.mark.parametrize(("way", "extra", "field"), [
    ("ALI_BAR", "", "channelExtra.authCode"),
    ("ALI_JSAPI", '{"buyerUserId":""}', "channelExtra.buyerUserId"),
    ("ALI_LITE", "[1]", "channelExtra"),
    ("WX_NATIVE", "", "order.way_code"),
])
async def test_bad_orders_are_invalid_arguments(adapter: AlipayAdapter, params: dict[str, Any],
                                                way: str, extra: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await adapter.pay(params, order(way, extra=extra), "")
    assert caught.value.field == field


async def test_foreign_currency_and_empty_subject_are_refused(adapter: AlipayAdapter,
                                                              params: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        await adapter.pay(params, replace(order("ALI_QR"), currency="usd"), "")
    with pytest.raises(InvalidArgument):
        await adapter.pay(params, order("ALI_QR", subject=" "), "")
    with pytest.raises(InvalidArgument):
        await adapter.pay(params, order("ALI_QR", amount=0), "")


def test_client_timeout_is_shorter_than_the_delay_fault(http: httpx.AsyncClient) -> None:
    """The timeout case above only proves something if the client gives up first."""
    assert http.timeout.read is not None and http.timeout.read < 3
