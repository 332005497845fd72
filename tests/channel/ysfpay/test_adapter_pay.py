"""The ysfpay adapter's pay, query, close and cancel against the simulated UnionPay gateway."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from paymesh.services.channel.adapters.base import ChannelState, PaymentOrder
from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.simulators.ysfpay import YsfpaySimulator
from paymesh.services.simulators.ysfpay.book import BookError

from .support import Receiver

S = ChannelState
AUTH_CODE = "6220123456789012345"
NOTIFY = "http://127.0.0.1:9/api/pay/notify/ysfpay"


def order(pay_order_id: str, way_code: str = "UP_QR", amount: int = 1234,
          auth_code: str = AUTH_CODE) -> PaymentOrder:
    extra = json.dumps({"authCode": auth_code}) if way_code.endswith("_BAR") else ""
    return PaymentOrder(pay_order_id=pay_order_id, way_code=way_code, amount=amount,
                        currency="cny", subject="云闪付 tea", channel_extra=extra)


def state_of(sim: YsfpaySimulator, order_id: str) -> object:
    return next(t["state"] for t in sim.snapshot() if t["order_id"] == order_id)


async def test_qr_order_waits_with_a_code_url_then_is_paid_and_notified(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str], platform: Receiver) -> None:
    pay_order_id = new_id()
    result = await adapter.pay(params, order(pay_order_id), platform.url)
    assert (result.state, result.pay_data_type) == (S.WAITING, "codeUrl")
    assert result.pay_data.startswith("https://qr.95516.com/")
    assert (await adapter.query(params, pay_order_id)).state == S.WAITING
    again = await adapter.pay(params, order(pay_order_id), platform.url)
    assert (again.state, again.pay_data) == (S.WAITING, result.pay_data)

    sim.pay(pay_order_id)
    await platform.next()
    queried = await adapter.query(params, pay_order_id)
    assert queried.state == S.CONFIRM_SUCCESS and queried.channel_order_no
    acked = [d for d in sim.deliveries() if d["order_id"] == pay_order_id]
    assert acked[-1]["acknowledged"] and acked[-1]["status"] == 200


@pytest.mark.parametrize("way_code", ["YSF_BAR", "UP_BAR"])
async def test_barcode_is_charged_at_once(adapter: YsfpayAdapter, params: dict[str, Any],
                                          new_id: Callable[..., str], way_code: str) -> None:
    pay_order_id = new_id()
    result = await adapter.pay(params, order(pay_order_id, way_code), NOTIFY)
    assert (result.state, result.pay_data_type) == (S.CONFIRM_SUCCESS, "none")
    queried = await adapter.query(params, pay_order_id)
    assert (queried.state, queried.channel_order_no) == (S.CONFIRM_SUCCESS,
                                                        result.channel_order_no)
    duplicate = await adapter.pay(params, order(pay_order_id, way_code), NOTIFY)
    assert duplicate.state == S.CONFIRM_SUCCESS  # answer 12, resolved by a query


async def test_barcode_waiting_for_the_password_is_waiting_until_finished(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    sim.set_barcode_mode("password")
    pay_order_id = new_id()
    assert (await adapter.pay(params, order(pay_order_id, "UP_BAR"), NOTIFY)).state == S.WAITING
    assert (await adapter.query(params, pay_order_id)).state == S.WAITING
    sim.pay(pay_order_id)
    assert (await adapter.query(params, pay_order_id)).state == S.CONFIRM_SUCCESS


async def test_declined_barcode_is_a_confirmed_failure_with_the_channel_code(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    sim.set_barcode_mode("fail", "65")
    result = await adapter.pay(params, order(new_id(), "YSF_BAR"), NOTIFY)
    assert (result.state, result.err_code, result.err_msg) == (S.CONFIRM_FAIL, "65", "余额不足")


async def test_unknown_order_queries_as_not_found(adapter: YsfpayAdapter,
                                                  params: dict[str, Any],
                                                  new_id: Callable[..., str]) -> None:
    result = await adapter.query(params, new_id())
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "34")


async def test_close_reverses_an_unpaid_qr_order_so_it_cannot_be_paid(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    await adapter.pay(params, order(pay_order_id), NOTIFY)
    assert (await adapter.close(params, pay_order_id)).state == S.CONFIRM_SUCCESS
    assert state_of(sim, pay_order_id) == "REVERSED"
    with pytest.raises(BookError):
        sim.pay(pay_order_id)
    assert (await adapter.query(params, pay_order_id)).state == S.CONFIRM_FAIL
    assert (await adapter.close(params, pay_order_id)).state == S.CONFIRM_SUCCESS  # idempotent


async def test_close_of_a_lost_order_leaves_a_tombstone(sim: YsfpaySimulator,
                                                        adapter: YsfpayAdapter,
                                                        params: dict[str, Any],
                                                        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    assert (await adapter.close(params, pay_order_id)).state == S.CONFIRM_SUCCESS
    late = await adapter.pay(params, order(pay_order_id, "YSF_BAR"), NOTIFY)
    assert late.state == S.CONFIRM_FAIL  # the late consume is a duplicate of the reversal


async def test_a_paid_order_cannot_be_closed(adapter: YsfpayAdapter, params: dict[str, Any],
                                             new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    await adapter.pay(params, order(pay_order_id, "YSF_BAR"), NOTIFY)
    closed = await adapter.close(params, pay_order_id)
    assert (closed.state, closed.err_code) == (S.CONFIRM_FAIL, "ORDER_PAID")


async def test_cancel_undoes_a_paid_barcode_and_reverses_a_pending_one(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    paid = new_id()
    await adapter.pay(params, order(paid, "UP_BAR"), NOTIFY)
    assert (await adapter.cancel(params, paid)).state == S.CONFIRM_SUCCESS
    assert state_of(sim, paid) == "REVOKED"
    assert state_of(sim, paid + "C") == "SUCCESS"
    sim.set_barcode_mode("password")
    pending = new_id()
    await adapter.pay(params, order(pending, "UP_BAR"), NOTIFY)
    assert (await adapter.cancel(params, pending)).state == S.CONFIRM_SUCCESS
    assert state_of(sim, pending) == "REVERSED"


async def test_the_pem_key_form_works_too(sim: YsfpaySimulator, adapter: YsfpayAdapter,
                                          new_id: Callable[..., str]) -> None:
    params = sim.adapter_params("pem")
    assert "isvPrivateCertFile" not in params
    result = await adapter.pay(params, order(new_id(), "YSF_BAR"), NOTIFY)
    assert result.state == S.CONFIRM_SUCCESS


async def test_a_wrong_merchant_key_is_refused_by_unionpay(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, new_id: Callable[..., str]) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    params = {**sim.adapter_params("pem"), "privateKey": stranger}
    result = await adapter.pay(params, order(new_id(), "YSF_BAR"), NOTIFY)
    assert (result.state, result.err_code) == (S.CONFIRM_FAIL, "11")


@pytest.mark.parametrize("kind", ["5xx", "drop", "tamper", "rogue", "expired", "unsigned"])
async def test_a_broken_or_unverifiable_answer_is_unknown_never_success(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str], kind: str) -> None:
    pay_order_id = new_id()
    sim.fault(kind)
    result = await adapter.pay(params, order(pay_order_id, "YSF_BAR"), NOTIFY)
    assert result.state == S.UNKNOWN, result
    expected = S.CONFIRM_FAIL if kind == "5xx" else S.CONFIRM_SUCCESS  # 5xx: never processed
    assert (await adapter.query(params, pay_order_id)).state == expected


async def test_a_timeout_after_arrival_is_unknown_and_resolved_by_query(
        sim: YsfpaySimulator, adapter: YsfpayAdapter, params: dict[str, Any],
        new_id: Callable[..., str]) -> None:
    pay_order_id = new_id()
    sim.fault("delay", seconds=0.8)
    assert (await adapter.pay(params, order(pay_order_id, "YSF_BAR"), NOTIFY)).state == S.UNKNOWN
    assert (await adapter.query(params, pay_order_id)).state == S.CONFIRM_SUCCESS


async def test_connection_refused_is_a_system_error(sim: YsfpaySimulator, adapter: YsfpayAdapter,
                                                    new_id: Callable[..., str]) -> None:
    params = {**sim.adapter_params(), "apiBase": "http://127.0.0.1:9"}
    result = await adapter.pay(params, order(new_id(), "YSF_BAR"), NOTIFY)
    assert result.state == S.SYS_ERROR


async def test_bad_input_and_bad_params_raise(adapter: YsfpayAdapter, params: dict[str, Any],
                                              new_id: Callable[..., str]) -> None:
    with pytest.raises(InvalidArgument, match="WX_NATIVE"):
        await adapter.pay(params, order(new_id(), "WX_NATIVE"), NOTIFY)
    with pytest.raises(InvalidArgument, match="authCode"):
        await adapter.pay(params, order(new_id(), "YSF_BAR", auth_code="12"), NOTIFY)
    with pytest.raises(InvalidArgument, match="order ids"):
        await adapter.pay(params, order("NOT-A-PAYMESH-ID"), NOTIFY)
    broken = [{**params, "sub": {}}, {**params, "isvPrivateCertPwd": "wrong"},
              {**params, "certId": "1"}, {**params, "ysfpayRootCert": "junk"},
              {k: v for k, v in params.items() if k != "apiBase"}]
    for bad in broken:
        with pytest.raises(DomainError) as caught:
            await adapter.query(bad, new_id())
        assert caught.value.reason == "CHANNEL_CONFIG_INVALID"
