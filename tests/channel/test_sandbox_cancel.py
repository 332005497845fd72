"""CancelPayment and IdentifyCallback with the sandbox over gRPC."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode

import pytest
from google.api import httpbody_pb2

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.config import MeshConfig

from . import (
    PARAMS,
    CallbackReceiver,
    ChannelMesh,
    SandboxControls,
    pay_request,
    running_channel,
    sandbox_controls,
    token_of,
)

S = channel_pb2.ChannelState
K = channel_pb2.CallbackKind
AUTH_CODE = "134567890123456789"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


@pytest.fixture
async def controls(config: MeshConfig) -> AsyncIterator[SandboxControls]:
    async with sandbox_controls(config) as opened:
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    endpoint = CallbackReceiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


def order_id() -> str:
    return f"P{secrets.randbelow(10**18):018d}"


async def cancel(mesh: ChannelMesh, pid: str) -> channel_pb2.CancelPaymentResponse:
    return await mesh.channel.CancelPayment(channel_pb2.CancelPaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid))


async def query(mesh: ChannelMesh, pid: str) -> channel_pb2.QueryPaymentResponse:
    return await mesh.channel.QueryPayment(channel_pb2.QueryPaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid))


async def barcode(mesh: ChannelMesh, amount: int, auth_code: str = AUTH_CODE) -> str:
    pid = order_id()
    await mesh.channel.Pay(pay_request(pid, "ALI_BAR", amount=amount,
                                       channel_extra=json.dumps({"authCode": auth_code})))
    return pid


async def test_cancel_refunds_a_successful_barcode_payment(
        mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await barcode(mesh, 500)
    assert (await cancel(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    refunds = await controls.book.refunds_of(pid)
    assert [(r.refund_order_id, r.state, r.amount) for r in refunds] == [
        (f"cancel:{pid}", "SUCCESS", 500)]
    # Cancelling again changes nothing; nothing is left to refund.
    assert (await cancel(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert len(await controls.book.refunds_of(pid)) == 1
    more = await mesh.channel.Refund(channel_pb2.RefundRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid,
        refund_order_id="R1", pay_amount=500, refund_amount=1, currency="cny"))
    assert more.err_code == "REFUND_EXCEEDS_PAID"


async def test_cancel_after_a_partial_refund_refunds_the_rest(
        mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await barcode(mesh, 500)
    partial = await mesh.channel.Refund(channel_pb2.RefundRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid,
        refund_order_id=f"R{pid[1:]}", pay_amount=500, refund_amount=120, currency="cny"))
    assert partial.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert (await cancel(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    amounts = sorted(r.amount for r in await controls.book.refunds_of(pid))
    assert amounts == [120, 380]


async def test_cancel_closes_a_waiting_payment(mesh: ChannelMesh,
                                               controls: SandboxControls) -> None:
    pid = order_id()
    answer = await mesh.channel.Pay(pay_request(pid, "ALI_WAP", amount=100))
    assert (await cancel(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    closed = await query(mesh, pid)
    assert (closed.channel_state, closed.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                       "ORDER_CLOSED")
    assert await controls.book.refunds_of(pid) == []
    payment = await controls.book.by_token(token_of(answer.pay_data))
    assert payment is not None and payment.state == "CLOSED"


async def test_cancel_of_an_unknown_or_declined_payment_succeeds(
        mesh: ChannelMesh, controls: SandboxControls) -> None:
    declined = await barcode(mesh, 100, auth_code="28765432100002")
    for pid in ["P-unknown", declined]:
        assert (await cancel(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS, pid
        assert await controls.book.refunds_of(pid) == []


async def identify(mesh: ChannelMesh, body: bytes) -> channel_pb2.IdentifyCallbackResponse:
    return await mesh.channel.IdentifyCallback(channel_pb2.IdentifyCallbackRequest(
        if_code="sandbox", body=body, content_type=FORM))


async def test_identify_and_verify_a_real_sandbox_callback(
        mesh: ChannelMesh, receiver: CallbackReceiver) -> None:
    pid = order_id()
    answer = await mesh.channel.Pay(pay_request(pid, "ALI_WAP", notify_url=receiver.url))
    await mesh.page.SubmitPayPage(channel_pb2.SubmitPayPageRequest(
        token=token_of(answer.pay_data),
        http_body=httpbody_pb2.HttpBody(content_type=FORM, data=b"result=success")))
    callback = await receiver.next()

    named = await identify(mesh, callback.body)
    assert (named.kind, named.pay_order_id, named.refund_order_id) == (K.CALLBACK_KIND_PAY,
                                                                       pid, "")
    verdict = await mesh.channel.VerifyCallback(channel_pb2.VerifyCallbackRequest(
        if_code="sandbox", channel_params_json=PARAMS, body=callback.body, content_type=FORM))
    assert verdict.verified and verdict.kind == K.CALLBACK_KIND_PAY
    assert verdict.pay_order_id == pid and verdict.refund_order_id == ""

    # Identification trusts nothing: a forged body is named, and only verification refuses it.
    forged = urlencode({**dict(parse_qsl(callback.body.decode())), "payOrderId": "P-forged"})
    assert (await identify(mesh, forged.encode())).pay_order_id == "P-forged"
    refused = await mesh.channel.VerifyCallback(channel_pb2.VerifyCallbackRequest(
        if_code="sandbox", channel_params_json=PARAMS, body=forged.encode(), content_type=FORM))
    assert not refused.verified and refused.kind == K.CALLBACK_KIND_UNSPECIFIED


async def test_identify_names_nothing_for_a_body_without_an_order(mesh: ChannelMesh) -> None:
    for body in [b"", b"\xff\xfe", b"not a form", b"payOrderId=", b"a=1&a=2", b'{"id": 1}']:
        named = await identify(mesh, body)
        assert named == channel_pb2.IdentifyCallbackResponse(), body
