"""Answers that cannot be trusted never become success or failure (reference §6.10)."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.simulators.wxpay import WxpaySimulator

from .conftest import order, refund_of

S = ChannelState


@pytest.mark.parametrize("kind", ["tamper", "unsigned", "wrong_key", "unknown_serial"])
async def test_a_paid_query_that_does_not_verify_is_unknown(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any], notify: str,
        kind: str) -> None:
    pay = order()
    await adapter.pay(params, pay, notify)
    sim.inject(kind, path=pay.pay_order_id)
    result = await adapter.query(params, pay.pay_order_id)
    assert result.state is S.UNKNOWN, result
    assert (await adapter.query(params, pay.pay_order_id)).state is S.WAITING


async def test_a_tampered_pay_answer_is_unknown(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                params: dict[str, Any], notify: str) -> None:
    sim.inject("tamper", path="/native")
    assert (await adapter.pay(params, order(), notify)).state is S.UNKNOWN


async def test_a_tampered_refund_answer_is_not_success(
        adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any], notify: str) -> None:
    pay = order()
    await adapter.pay(params, pay, notify)
    sim.pay(pay.pay_order_id)
    sim.inject("tamper", path="/v3/refund/domestic/refunds")
    result = await adapter.refund(params, refund_of(pay, 10), notify)
    assert result.state is S.UNKNOWN


@pytest.mark.parametrize("process", [False, True], ids=["not-acted", "acted"])
async def test_5xx_system_error_is_unknown(adapter: WxpayAdapter, sim: WxpaySimulator,
                                           params: dict[str, Any], notify: str,
                                           process: bool) -> None:
    sim.inject("http500", path="/native", process=process)
    pay = order()
    result = await adapter.pay(params, pay, notify)
    assert (result.state, result.err_code) == (S.UNKNOWN, "SYSTEM_ERROR")
    # Resolved by a query: the order exists only if WeChat acted before failing.
    queried = await adapter.query(params, pay.pay_order_id)
    assert queried.state is (S.WAITING if process else S.CONFIRM_FAIL)


async def test_a_timeout_after_sending_is_unknown(sim: WxpaySimulator, params: dict[str, Any],
                                                  notify: str) -> None:
    sim.inject("delay", path="/codepay", seconds=0.5)
    async with httpx.AsyncClient(timeout=0.2, trust_env=False) as http:
        adapter = WxpayAdapter(http)
        pay = order("WX_BAR", extra='{"authCode":"134567890123456789"}')
        assert (await adapter.pay(params, pay, notify)).state is S.UNKNOWN
        assert (await adapter.query(params, pay.pay_order_id)).state is S.CONFIRM_SUCCESS


async def test_a_dropped_connection_is_unknown(adapter: WxpayAdapter, sim: WxpaySimulator,
                                               params: dict[str, Any]) -> None:
    sim.inject("drop", path="/reverse")
    pay = order("WX_BAR", extra='{"authCode":"134567890123456789"}')
    await adapter.pay(params, pay, "")
    assert (await adapter.cancel(params, pay.pay_order_id)).state is S.UNKNOWN


async def test_connection_refused_is_sys_error(adapter: WxpayAdapter, sim: WxpaySimulator,
                                               notify: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    params = sim.adapter_params() | {"apiBase": f"http://127.0.0.1:{port}"}
    assert (await adapter.pay(params, order(), notify)).state is S.SYS_ERROR
    assert (await adapter.query(params, "P1234567")).state is S.SYS_ERROR
    assert (await adapter.close(params, "P1234567")).state is S.SYS_ERROR


async def test_an_unsigned_204_close_is_unknown(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                params: dict[str, Any], notify: str) -> None:
    pay = order()
    await adapter.pay(params, pay, notify)
    sim.inject("unsigned", path="/close")
    assert (await adapter.close(params, pay.pay_order_id)).state is S.UNKNOWN


@pytest.mark.parametrize("mode", ["publickey", "certificate"])
async def test_answers_verify_in_either_key_mode(adapter: WxpayAdapter, sim: WxpaySimulator,
                                                 notify: str, mode: str) -> None:
    params = sim.adapter_params(mode=mode)
    assert (await adapter.pay(params, order(), notify)).state is S.WAITING


async def test_an_answer_by_a_key_not_configured_is_unknown(
        adapter: WxpayAdapter, sim: WxpaySimulator, notify: str) -> None:
    """The configured public key is not the one WeChat signs with: nothing verifies."""
    stranger = sim.keys.platform_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    params = sim.adapter_params(mode="publickey") | {"wxpayPublicKey": stranger}
    result = await adapter.pay(params, order(), notify)
    assert result.state is S.UNKNOWN
    assert "does not verify" in result.err_msg
