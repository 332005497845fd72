"""Pay for every WeChat wayCode family, as a direct merchant and as an ISV sub-merchant."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.simulators.wxpay import WxpaySimulator

from .conftest import order

S = ChannelState


def assert_signed_by_merchant(sim: WxpaySimulator, signature: str, *lines: str) -> None:
    message = "".join(f"{line}\n" for line in lines).encode()
    sim.keys.merchant_key.public_key().verify(base64.b64decode(signature), message,
                                              padding.PKCS1v15(), hashes.SHA256())


async def test_native_returns_the_code_url(adapter: WxpayAdapter, sim: WxpaySimulator,
                                           params: dict[str, Any], notify: str) -> None:
    pay = order("WX_NATIVE")
    result = await adapter.pay(params, pay, notify)
    assert (result.state, result.pay_data_type) == (S.WAITING, "codeUrl")
    assert result.pay_data.startswith("weixin://wxpay/bizpayurl?pr=")
    booked = sim.order(pay.pay_order_id)
    assert booked["trade_state"] == "NOTPAY" and booked["amount"]["total"] == 1234
    assert ("sub_mchid" in booked) == ("sub" in params)


@pytest.mark.parametrize("way_code", ["WX_JSAPI", "WX_LITE"])
async def test_jsapi_returns_signed_client_parameters(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                      params: dict[str, Any],
                                                      way_code: str, notify: str) -> None:
    result = await adapter.pay(params, order(way_code, extra='{"openid":"oUpF8uMuAJO_M2pxb1Q"}'),
                               notify)
    assert (result.state, result.pay_data_type) == (S.WAITING, "wxapp")
    data = json.loads(result.pay_data)
    assert set(data) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert data["appId"] == sim.keys.app_id and data["signType"] == "RSA"
    assert data["package"].startswith("prepay_id=wx")
    assert_signed_by_merchant(sim, data["paySign"], data["appId"], data["timeStamp"],
                              data["nonceStr"], data["package"])


async def test_isv_jsapi_with_a_sub_openid_signs_for_the_sub_app(
        adapter: WxpayAdapter, sim: WxpaySimulator, notify: str) -> None:
    params = sim.adapter_params(isv=True)
    pay = order("WX_JSAPI", extra='{"openid":"oSub123","isSubOpenId":1}')
    result = await adapter.pay(params, pay, notify)
    data = json.loads(result.pay_data)
    assert data["appId"] == sim.keys.sub_app_id
    with sim.lock:
        assert sim.book.find_order(pay.pay_order_id).payer == {"sub_openid": "oSub123"}


async def test_h5_returns_the_h5_url(adapter: WxpayAdapter, params: dict[str, Any],
                                     notify: str) -> None:
    result = await adapter.pay(params, order("WX_H5"), notify)
    assert (result.state, result.pay_data_type) == (S.WAITING, "payurl")
    assert result.pay_data.startswith("https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?")


async def test_app_returns_app_parameters_signed(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                 params: dict[str, Any], notify: str) -> None:
    result = await adapter.pay(params, order("WX_APP"), notify)
    data = json.loads(result.pay_data)
    assert result.pay_data_type == "wxapp" and data["package"] == "Sign=WXPay"
    isv = "sub" in params
    assert data["partnerid"] == (sim.keys.sub_mch_id if isv else sim.keys.mch_id)
    assert_signed_by_merchant(sim, data["sign"], data["appid"], data["timestamp"],
                              data["noncestr"], data["prepayid"])


async def test_barcode_charged_at_once(adapter: WxpayAdapter, params: dict[str, Any]) -> None:
    result = await adapter.pay(params, order("WX_BAR", extra='{"authCode":"134567890123456789"}'),
                               "")
    assert (result.state, result.pay_data_type) == (S.CONFIRM_SUCCESS, "none")
    assert result.channel_order_no.startswith("42000")


async def test_barcode_declined_is_confirm_fail(adapter: WxpayAdapter,
                                                params: dict[str, Any]) -> None:
    pay = order("WX_BAR", extra='{"authCode":"134567890123450002"}')
    result = await adapter.pay(params, pay, "")
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "NOT_ENOUGH")
    assert (await adapter.query(params, pay.pay_order_id)).state is S.CONFIRM_FAIL


async def test_barcode_waiting_for_the_password_then_paid(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any]) -> None:
    sim.ask_password()
    pay = order("WX_BAR", extra='{"authCode":"104567890123456789"}')
    assert (await adapter.pay(params, pay, "")).state is S.WAITING
    assert (await adapter.query(params, pay.pay_order_id)).state is S.WAITING
    sim.pay(pay.pay_order_id)
    queried = await adapter.query(params, pay.pay_order_id)
    assert queried.state is S.CONFIRM_SUCCESS and queried.channel_order_no


async def test_barcode_waiting_then_reversed(adapter: WxpayAdapter, sim: WxpaySimulator,
                                             params: dict[str, Any]) -> None:
    sim.ask_password()
    pay = order("WX_BAR", extra='{"authCode":"104567890123456789"}')
    assert (await adapter.pay(params, pay, "")).state is S.WAITING
    assert (await adapter.cancel(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS
    queried = await adapter.query(params, pay.pay_order_id)
    assert (queried.state, queried.err_code) == (S.CONFIRM_FAIL, "REVOKED")


async def test_paying_twice_is_idempotent_and_a_changed_order_is_not_failed(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any], notify: str) -> None:
    pay = order("WX_NATIVE")
    first = await adapter.pay(params, pay, notify)
    assert (await adapter.pay(params, pay, notify)).pay_data == first.pay_data
    changed = order("WX_NATIVE", amount=99, pay_order_id=pay.pay_order_id)
    result = await adapter.pay(params, changed, notify)
    assert (result.state, result.err_code) == (S.UNKNOWN, "OUT_TRADE_NO_USED")
    sim.pay(pay.pay_order_id)
    again = await adapter.pay(params, pay, notify)
    assert (again.state, again.err_code) == (S.UNKNOWN, "ORDERPAID")


@pytest.mark.parametrize(("way_code", "extra", "field"), [
    ("WX_JSAPI", "", "channelExtra.openid"),
    ("WX_BAR", '{"authCode":"12ab"}', "channelExtra.authCode"),
    ("WX_BAR", "[1]", "channelExtra"),
    ("ALI_QR", "", "order.way_code"),
])
async def test_bad_orders_are_invalid_arguments(adapter: WxpayAdapter, params: dict[str, Any],
                                                way_code: str, extra: str, field: str,
                                                notify: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await adapter.pay(params, order(way_code, extra=extra), notify)
    assert caught.value.field == field


@pytest.mark.parametrize("change", [
    {"mchId": ""}, {"apiV3Key": "short"}, {"apiClientKey": "not a pem"},
    {"wxpayPublicKeyId": "", "platformCerts": {}}, {"sub": {"subMchId": "x"}},
    {"platformCerts": {"ABCD": "junk"}},
])
async def test_bad_params_are_channel_config_invalid(adapter: WxpayAdapter,
                                                     sim: WxpaySimulator,
                                                     change: dict[str, Any], notify: str) -> None:
    params = sim.adapter_params() | change
    with pytest.raises(DomainError) as caught:
        await adapter.pay(params, order(), notify)
    assert caught.value.reason == "CHANNEL_CONFIG_INVALID"


async def test_a_wrong_merchant_key_is_refused_not_guessed(adapter: WxpayAdapter,
                                                           sim: WxpaySimulator,
                                                           notify: str) -> None:
    """401 SIGN_ERROR: the order was not taken (CONFIRM_FAIL); a query cannot tell (UNKNOWN)."""
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    params = sim.adapter_params() | {"apiClientKey": pem}
    pay = order()
    result = await adapter.pay(params, pay, notify)
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "SIGN_ERROR")
    assert (await adapter.query(params, pay.pay_order_id)).state is S.UNKNOWN
