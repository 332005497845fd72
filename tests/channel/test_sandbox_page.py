"""The sandbox pay page over gRPC: rendering, the payer's click, and the signed callback."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import grpc
import pytest
from google.api import httpbody_pb2

from paymesh.channel.v1 import channel_pb2
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of

from . import (
    PARAMS,
    CallbackReceiver,
    ChannelMesh,
    Received,
    pay_request,
    running_channel,
    token_of,
)

S = channel_pb2.ChannelState
FORM = "application/x-www-form-urlencoded"
JSON_ACCEPT = (("accept", "application/json"),)


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    endpoint = CallbackReceiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


async def waiting_payment(mesh: ChannelMesh, notify_url: str, amount: int = 1234,
                          subject: str = "Sandbox tea") -> tuple[str, str]:
    """Pays a fresh order; returns (pay order id, page token)."""
    pid = f"P{secrets.randbelow(10**18):018d}"
    answer = await mesh.channel.Pay(pay_request(pid, amount=amount, subject=subject,
                                                notify_url=notify_url))
    assert answer.channel_state == S.CHANNEL_STATE_WAITING
    return pid, token_of(answer.pay_data)


async def submit(mesh: ChannelMesh, token: str, result: str, *, as_json: bool = True
                 ) -> httpbody_pb2.HttpBody:
    request = channel_pb2.SubmitPayPageRequest(token=token, http_body=httpbody_pb2.HttpBody(
        content_type=FORM, data=f"result={result}".encode()))
    answer = await mesh.page.SubmitPayPage(request, metadata=JSON_ACCEPT if as_json else None)
    return answer.http_body


async def verify(mesh: ChannelMesh, callback: Received) -> channel_pb2.VerifyCallbackResponse:
    return await mesh.channel.VerifyCallback(channel_pb2.VerifyCallbackRequest(
        if_code="sandbox", channel_params_json=PARAMS, body=callback.body,
        content_type=callback.headers["content-type"],
        headers=[channel_pb2.HttpHeader(name=k, value=v) for k, v in callback.headers.items()]))


async def state_of(mesh: ChannelMesh, pid: str) -> channel_pb2.QueryPaymentResponse:
    return await mesh.channel.QueryPayment(channel_pb2.QueryPaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid))


async def test_page_shows_yuan_and_escapes_the_subject(mesh: ChannelMesh) -> None:
    pid, token = await waiting_payment(mesh, "http://127.0.0.1:9/n", amount=1234,
                                       subject='<script>alert("x")</script>')
    page = (await mesh.page.ShowPayPage(channel_pb2.ShowPayPageRequest(token=token))).http_body
    assert page.content_type.startswith("text/html") and "utf-8" in page.content_type
    text = page.data.decode("utf-8")
    assert "¥12.34" in text
    assert "<script>" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text
    assert pid in text and "ALI_WAP" in text and "WAITING" in text
    assert 'value="success"' in text and 'value="fail"' in text
    assert f'action="/sandbox/pay/{token}"' in text


async def test_unknown_token_is_not_found(mesh: ChannelMesh) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await mesh.page.ShowPayPage(channel_pb2.ShowPayPageRequest(token="nope"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(missing.value) == "SANDBOX_PAYMENT_NOT_FOUND"


async def test_success_click_delivers_a_callback_that_verifies(
        mesh: ChannelMesh, receiver: CallbackReceiver) -> None:
    pid, token = await waiting_payment(mesh, f"{receiver.url}/x", amount=1234)
    answer = await submit(mesh, token, "success")
    assert json.loads(answer.data) == {"payOrderId": pid, "state": "SUCCESS",
                                       "callbackDelivered": True}

    callback = await receiver.next()
    assert (callback.method, callback.path) == ("POST", "/api/pay/notify/sandbox/x")
    assert callback.headers["content-type"] == FORM
    verdict = await verify(mesh, callback)
    assert verdict.verified, verdict.reject_reason
    queried = await state_of(mesh, pid)
    assert queried.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert (verdict.pay_order_id, verdict.amount, verdict.currency) == (pid, 1234, "cny")
    assert verdict.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert verdict.channel_order_no == queried.channel_order_no != ""
    assert (verdict.ack_ok.status, verdict.ack_ok.body) == (200, b"success")
    assert (verdict.ack_retry.status, verdict.ack_retry.body) == (400, b"fail")

    # The same click again re-delivers and changes nothing; the opposite click is refused.
    again = await submit(mesh, token, "success", as_json=False)
    assert again.content_type.startswith("text/html")
    assert "acknowledged" in again.data.decode()
    assert (await verify(mesh, await receiver.next())).verified
    with pytest.raises(grpc.aio.AioRpcError) as final:
        await submit(mesh, token, "fail")
    assert reason_of(final.value) == "SANDBOX_PAYMENT_FINAL"
    assert (await state_of(mesh, pid)).channel_order_no == queried.channel_order_no
    assert receiver.requests.empty()


async def test_fail_click_delivers_a_fail_callback(
        mesh: ChannelMesh, receiver: CallbackReceiver) -> None:
    pid, token = await waiting_payment(mesh, receiver.url)
    assert json.loads((await submit(mesh, token, "fail")).data)["state"] == "FAIL"
    verdict = await verify(mesh, await receiver.next())
    assert verdict.verified and verdict.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert (await state_of(mesh, pid)).channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    with pytest.raises(grpc.aio.AioRpcError) as final:
        await submit(mesh, token, "success")
    assert reason_of(final.value) == "SANDBOX_PAYMENT_FINAL"


async def test_unacknowledged_callback_is_retried(mesh: ChannelMesh,
                                                  receiver: CallbackReceiver) -> None:
    receiver.answers = [(500, "oops"), (200, "ok, but not the word"), (200, " SUCCESS\n")]
    _, token = await waiting_payment(mesh, receiver.url)
    answer = json.loads((await submit(mesh, token, "success")).data)
    assert answer["callbackDelivered"] is False
    attempts = [await receiver.next() for _ in range(3)]
    assert all([(await verify(mesh, a)).verified for a in attempts])
    assert len({a.body for a in attempts}) == 3  # each attempt freshly signed
    await asyncio.sleep(0.4)  # longer than the remaining fast retry delays
    assert receiver.requests.empty()  # acknowledged: no more attempts


async def test_closed_payment_cannot_be_paid(mesh: ChannelMesh,
                                             receiver: CallbackReceiver) -> None:
    pid, token = await waiting_payment(mesh, receiver.url)
    await mesh.channel.ClosePayment(channel_pb2.ClosePaymentRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await submit(mesh, token, "success")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(refused.value) == "SANDBOX_PAYMENT_CLOSED"
    assert (await state_of(mesh, pid)).err_code == "ORDER_CLOSED"
    page = await mesh.page.ShowPayPage(channel_pb2.ShowPayPageRequest(token=token))
    assert "CLOSED" in page.http_body.data.decode()
    assert 'value="success"' not in page.http_body.data.decode()
    await asyncio.sleep(0.1)
    assert receiver.requests.empty()


async def test_submit_needs_result_success_or_fail(mesh: ChannelMesh) -> None:
    pid, token = await waiting_payment(mesh, "http://127.0.0.1:9/n")
    for result in ["maybe", "", "SUCCESS"]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await submit(mesh, token, result)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, result
    assert (await state_of(mesh, pid)).channel_state == S.CHANNEL_STATE_WAITING


async def test_concurrent_clicks_move_the_payment_once(
        mesh: ChannelMesh, receiver: CallbackReceiver) -> None:
    pid, token = await waiting_payment(mesh, receiver.url)
    clicks = [submit(mesh, token, "success" if i % 2 else "fail") for i in range(6)]
    outcomes = await asyncio.gather(*clicks, return_exceptions=True)
    states = {json.loads(o.data)["state"] for o in outcomes if not isinstance(o, BaseException)}
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(states) == 1 and len(refused) == 3
    assert all(reason_of(r) == "SANDBOX_PAYMENT_FINAL" for r in refused)
