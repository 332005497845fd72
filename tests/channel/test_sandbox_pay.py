"""ChannelService over gRPC with the sandbox: Pay, QueryPayment, ClosePayment and dispatch."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import grpc
import pytest

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of

from . import PARAMS, ChannelMesh, pay_request, running_channel, token_of

S = channel_pb2.ChannelState
AUTH_CODE = "134567890123456789"


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


def order_id() -> str:
    return f"P{secrets.randbelow(10**18):018d}"


async def query(mesh: ChannelMesh, pay_order_id: str) -> channel_pb2.QueryPaymentResponse:
    return await mesh.channel.QueryPayment(channel_pb2.QueryPaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pay_order_id))


async def close(mesh: ChannelMesh, pay_order_id: str) -> channel_pb2.ClosePaymentResponse:
    return await mesh.channel.ClosePayment(channel_pb2.ClosePaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pay_order_id))


async def test_pay_returns_a_working_pay_url_and_is_idempotent(mesh: ChannelMesh) -> None:
    pid = order_id()
    first = await mesh.channel.Pay(pay_request(pid, "ALI_WAP"))
    assert first.channel_state == S.CHANNEL_STATE_WAITING
    assert first.pay_data_type == "payurl"
    assert first.pay_data.startswith(f"{mesh.config.public_url}/sandbox/pay/")
    page = await mesh.page.ShowPayPage(channel_pb2.ShowPayPageRequest(
        token=token_of(first.pay_data)))
    assert pid in page.http_body.data.decode()

    again = await mesh.channel.Pay(pay_request(pid, "ALI_WAP"))
    assert again.pay_data == first.pay_data
    assert (await query(mesh, pid)).channel_state == S.CHANNEL_STATE_WAITING


async def test_concurrent_pays_for_one_order_book_it_once(mesh: ChannelMesh) -> None:
    pid = order_id()
    answers = await asyncio.gather(*(mesh.channel.Pay(pay_request(pid)) for _ in range(8)))
    assert len({a.pay_data for a in answers}) == 1


async def test_a_repeated_pay_with_other_amount_is_refused(mesh: ChannelMesh) -> None:
    pid = order_id()
    await mesh.channel.Pay(pay_request(pid, amount=100))
    other = await mesh.channel.Pay(pay_request(pid, amount=200))
    assert other.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert other.err_code == "ORDER_PARAMS_MISMATCH"


async def test_pay_data_type_follows_way_code_and_channel_extra(mesh: ChannelMesh) -> None:
    cases = [("WX_NATIVE", "", "codeUrl"), ("QR_CASHIER", "", "codeUrl"),
             ("ALI_PC", '{"payDataType": "codeUrl"}', "codeUrl"),
             ("ALI_QR", '{"payDataType": "payUrl"}', "payurl"),
             ("ALI_QR", '{"payDataType": "payurl"}', "payurl")]
    for way_code, extra, expected in cases:
        answer = await mesh.channel.Pay(pay_request(order_id(), way_code, channel_extra=extra))
        assert answer.channel_state == S.CHANNEL_STATE_WAITING
        assert answer.pay_data_type == expected, (way_code, extra)
        assert "/sandbox/pay/" in answer.pay_data


async def test_barcode_is_charged_at_once(mesh: ChannelMesh) -> None:
    pid = order_id()
    extra = json.dumps({"authCode": AUTH_CODE})
    answer = await mesh.channel.Pay(pay_request(pid, "WX_BAR", channel_extra=extra))
    assert answer.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert answer.pay_data_type == "none"
    assert answer.channel_order_no.startswith("SB") and answer.channel_order_no[2:].isdigit()

    again = await mesh.channel.Pay(pay_request(pid, "WX_BAR", channel_extra=extra))
    assert again.channel_order_no == answer.channel_order_no
    queried = await query(mesh, pid)
    assert queried.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert queried.channel_order_no == answer.channel_order_no
    closed = await close(mesh, pid)
    assert closed.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert closed.err_code == "ORDER_PAID" and closed.err_msg


async def test_barcode_auth_code_ending_0002_is_declined(mesh: ChannelMesh) -> None:
    pid = order_id()
    extra = json.dumps({"authCode": "28765432100002"})
    answer = await mesh.channel.Pay(pay_request(pid, "ALI_BAR", channel_extra=extra))
    assert answer.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert answer.err_code == "PAYER_DECLINED"
    assert "declined" in answer.err_msg
    assert (await query(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert (await close(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS


async def test_barcode_auth_code_ending_0003_waits_for_the_password_until_cancelled(
        mesh: ChannelMesh) -> None:
    pid = order_id()
    extra = json.dumps({"authCode": "28765432100003"})
    answer = await mesh.channel.Pay(pay_request(pid, "ALI_BAR", channel_extra=extra))
    assert (answer.channel_state, answer.pay_data_type, answer.pay_data) == (
        S.CHANNEL_STATE_WAITING, "none", "")
    assert (await query(mesh, pid)).channel_state == S.CHANNEL_STATE_WAITING
    cancelled = await mesh.channel.CancelPayment(channel_pb2.CancelPaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid))
    assert cancelled.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert (await query(mesh, pid)).err_code == "ORDER_CLOSED"


async def test_barcode_without_a_valid_auth_code_is_refused(mesh: ChannelMesh) -> None:
    for extra in ["", "{}", '{"authCode": "123"}', '{"authCode": "12345abcde1"}',
                  '{"authCode": 13456789012}', '{"authCode": "1' + "0" * 32 + '"}', "[1]",
                  "not json"]:
        pid = order_id()
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await mesh.channel.Pay(pay_request(pid, "AUTO_BAR", channel_extra=extra))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, extra
        assert "channelExtra" in (refused.value.details() or "")
        assert (await query(mesh, pid)).err_code == "ORDER_NOT_EXIST"


async def test_query_and_close_map_the_sandbox_states(mesh: ChannelMesh) -> None:
    unknown = await query(mesh, "P-unknown")
    assert (unknown.channel_state, unknown.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                         "ORDER_NOT_EXIST")
    assert (await close(mesh, "P-unknown")).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS

    pid = order_id()
    await mesh.channel.Pay(pay_request(pid))
    assert (await close(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    closed = await query(mesh, pid)
    assert (closed.channel_state, closed.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                       "ORDER_CLOSED")
    assert (await close(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    # Paying a closed order again does not open a second payment.
    again = await mesh.channel.Pay(pay_request(pid))
    assert (again.channel_state, again.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                     "ORDER_CLOSED")


async def test_unknown_if_code_is_not_supported(mesh: ChannelMesh) -> None:
    for if_code in ["no-such-channel", ""]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await mesh.channel.Pay(pay_request(order_id(), if_code=if_code))
        assert reason_of(refused.value) == "CHANNEL_NOT_SUPPORTED"
        assert repr(if_code) in (refused.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await mesh.channel.QueryPayment(channel_pb2.QueryPaymentRequest(
                if_code=if_code, channel_params_json=PARAMS, pay_order_id="P1"))
        assert reason_of(refused.value) == "CHANNEL_NOT_SUPPORTED"


async def test_sandbox_needs_a_key(mesh: ChannelMesh) -> None:
    for params in ["{}", '{"key": ""}', '{"key": 7}', "not json", "[]"]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await mesh.channel.Pay(pay_request(order_id(), params=params))
        assert reason_of(refused.value) == "CHANNEL_CONFIG_INVALID", params


async def test_the_sandbox_key_is_stored_encrypted(mesh: ChannelMesh) -> None:
    from sqlalchemy import text

    from paymesh.services.common import db

    from . import KEY

    pid = order_id()
    await mesh.channel.Pay(pay_request(pid, "ALI_WAP"))
    engine = db.open_engine(mesh.config.db_urls["channel"])
    try:
        async with engine.connect() as conn:
            stored = (await conn.execute(text(
                "SELECT key_sealed FROM sandbox_payment WHERE pay_order_id = :p"), {"p": pid})
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stored.startswith("v1:")
    assert KEY not in stored
