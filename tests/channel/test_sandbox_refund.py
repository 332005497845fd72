"""Refund and QueryRefund with the sandbox over gRPC: money rules, idempotency and concurrency."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator

import grpc
import pytest

from paymesh.channel.v1 import channel_pb2
from paymesh.services.channel.models import SandboxRefundState
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import NotFound, reason_of

from . import PARAMS, ChannelMesh, SandboxControls, pay_request, running_channel, sandbox_controls

S = channel_pb2.ChannelState
AUTH_CODE = "134567890123456789"
PENDING = "[sandbox:pending] the payer's bank is slow"


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


@pytest.fixture
async def controls(config: MeshConfig) -> AsyncIterator[SandboxControls]:
    async with sandbox_controls(config) as opened:
        yield opened


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.randbelow(10**18):018d}"


async def paid(mesh: ChannelMesh, amount: int = 100) -> str:
    """A barcode payment the sandbox took at once; returns its pay order id."""
    pid = new_id("P")
    answer = await mesh.channel.Pay(pay_request(
        pid, "WX_BAR", amount=amount, channel_extra=json.dumps({"authCode": AUTH_CODE})))
    assert answer.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    return pid


async def refund(mesh: ChannelMesh, pid: str, amount: int, rid: str = "", *,
                 pay_amount: int = 100, reason: str = "", params: str = PARAMS
                 ) -> channel_pb2.RefundResponse:
    return await mesh.channel.Refund(channel_pb2.RefundRequest(
        if_code="sandbox", channel_params_json=params, pay_order_id=pid,
        refund_order_id=rid or new_id("R"), pay_amount=pay_amount, refund_amount=amount,
        currency="cny", reason=reason, notify_url="http://127.0.0.1:9/refund-notify"))


async def query_refund(mesh: ChannelMesh, pid: str, rid: str) -> channel_pb2.QueryRefundResponse:
    return await mesh.channel.QueryRefund(channel_pb2.QueryRefundRequest(
        if_code="sandbox", channel_params_json=PARAMS, pay_order_id=pid, refund_order_id=rid))


async def refunded(controls: SandboxControls, pid: str) -> list[tuple[str, int]]:
    """The sandbox's refunds of a payment as (state, amount), oldest first."""
    return [(r.state, r.amount) for r in await controls.book.refunds_of(pid)]


async def test_a_full_refund_succeeds_once(mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    rid = new_id("R")
    answer = await refund(mesh, pid, 100, rid)
    assert answer.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS, answer.err_msg
    assert answer.channel_refund_no.startswith("SBR") and answer.channel_refund_no[3:].isdigit()
    queried = await query_refund(mesh, pid, rid)
    assert queried.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert (queried.refund_amount, queried.channel_refund_no) == (100, answer.channel_refund_no)

    more = await refund(mesh, pid, 1)
    assert (more.channel_state, more.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                   "REFUND_EXCEEDS_PAID")
    assert "0 fen left" in more.err_msg
    assert await refunded(controls, pid) == [("SUCCESS", 100)]
    payment = await controls.book.by_pay_order(pid)
    assert payment is not None and payment.refunded_amount == 100 and payment.state == "SUCCESS"


async def test_partial_refunds_until_used_up(mesh: ChannelMesh,
                                             controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    for _ in range(3):
        assert (await refund(mesh, pid, 30)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    too_much = await refund(mesh, pid, 20)
    assert (too_much.channel_state, too_much.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                           "REFUND_EXCEEDS_PAID")
    assert "10 fen left" in too_much.err_msg
    assert (await refund(mesh, pid, 10)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert (await refund(mesh, pid, 1)).err_code == "REFUND_EXCEEDS_PAID"
    assert await refunded(controls, pid) == [("SUCCESS", 30)] * 3 + [("SUCCESS", 10)]


async def test_refund_is_idempotent_on_its_id(mesh: ChannelMesh,
                                              controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    rid = new_id("R")
    first = await refund(mesh, pid, 40, rid)
    again = await refund(mesh, pid, 40, rid)
    assert first.channel_state == again.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert again.channel_refund_no == first.channel_refund_no

    other_amount = await refund(mesh, pid, 41, rid)
    assert (other_amount.channel_state, other_amount.err_code) == (
        S.CHANNEL_STATE_CONFIRM_FAIL, "REFUND_PARAMS_MISMATCH")
    assert "40 fen" in other_amount.err_msg
    other_payment = await refund(mesh, await paid(mesh, 100), 40, rid)
    assert other_payment.err_code == "REFUND_PARAMS_MISMATCH"

    assert await refunded(controls, pid) == [("SUCCESS", 40)]
    assert (await refund(mesh, pid, 60)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS


async def test_only_a_paid_order_can_be_refunded(mesh: ChannelMesh) -> None:
    waiting = new_id("P")
    await mesh.channel.Pay(pay_request(waiting, "ALI_WAP", amount=100))
    declined = new_id("P")
    await mesh.channel.Pay(pay_request(declined, "ALI_BAR", amount=100,
                                       channel_extra='{"authCode": "28765432100002"}'))
    for pid, word in [(waiting, "WAITING"), (declined, "FAIL"), ("P-unknown", "no payment")]:
        answer = await refund(mesh, pid, 10)
        assert (answer.channel_state, answer.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                           "ORDER_NOT_PAID"), pid
        assert word in answer.err_msg and pid in answer.err_msg


async def test_bad_refund_requests_are_refused(mesh: ChannelMesh) -> None:
    pid = await paid(mesh, 100)
    wrong_total = await refund(mesh, pid, 10, pay_amount=99)
    assert wrong_total.err_code == "PAY_AMOUNT_MISMATCH"
    for amount, rid in [(0, "R1"), (-5, "R2"), (10, "cancel:x"), (10, "R" + "1" * 64)]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await refund(mesh, pid, amount, rid)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (amount, rid)
    with pytest.raises(grpc.aio.AioRpcError) as no_key:
        await refund(mesh, pid, 10, params="{}")
    assert reason_of(no_key.value) == "CHANNEL_CONFIG_INVALID"
    assert (await refund(mesh, pid, 100)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS


async def test_concurrent_refunds_never_exceed_the_payment(
        config: MeshConfig, mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    # Two channel service instances on one database, as when the service is scaled out.
    async with running_channel(config) as second:
        calls = [refund(mesh if i % 2 else second, pid, 30) for i in range(50)]
        answers = await asyncio.gather(*calls)
    states = [(a.channel_state, a.err_code) for a in answers]
    assert states.count((S.CHANNEL_STATE_CONFIRM_SUCCESS, "")) == 3, states
    assert states.count((S.CHANNEL_STATE_CONFIRM_FAIL, "REFUND_EXCEEDS_PAID")) == 47, states
    assert await refunded(controls, pid) == [("SUCCESS", 30)] * 3
    payment = await controls.book.by_pay_order(pid)
    assert payment is not None and payment.refunded_amount == 90


async def test_concurrent_repeats_of_one_refund_book_it_once(
        mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    rid = new_id("R")
    answers = await asyncio.gather(*(refund(mesh, pid, 70, rid) for _ in range(12)))
    assert {a.channel_state for a in answers} == {S.CHANNEL_STATE_CONFIRM_SUCCESS}
    assert len({a.channel_refund_no for a in answers}) == 1
    assert await refunded(controls, pid) == [("SUCCESS", 70)]


async def test_a_pending_refund_holds_its_amount_until_finished(
        mesh: ChannelMesh, controls: SandboxControls) -> None:
    pid = await paid(mesh, 100)
    slow, lost = new_id("R"), new_id("R")
    answer = await refund(mesh, pid, 60, slow, reason=PENDING)
    assert answer.channel_state == S.CHANNEL_STATE_WAITING and answer.channel_refund_no
    assert (await query_refund(mesh, pid, slow)).channel_state == S.CHANNEL_STATE_WAITING
    assert (await refund(mesh, pid, 60, slow, reason=PENDING)).channel_state == (
        S.CHANNEL_STATE_WAITING)
    assert (await refund(mesh, pid, 41)).err_code == "REFUND_EXCEEDS_PAID"

    finished = await controls.sandbox.finish_refund(slow, success=True)
    assert finished.refund_amount == 60
    queried = await query_refund(mesh, pid, slow)
    assert (queried.channel_state, queried.refund_amount) == (S.CHANNEL_STATE_CONFIRM_SUCCESS, 60)
    assert queried.channel_refund_no == answer.channel_refund_no
    # An ended refund stays as it ended.
    await controls.sandbox.finish_refund(slow, success=False)
    assert (await query_refund(mesh, pid, slow)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS

    assert (await refund(mesh, pid, 40, lost, reason=PENDING)).channel_state == (
        S.CHANNEL_STATE_WAITING)
    await controls.sandbox.finish_refund(lost, success=False)
    failed = await query_refund(mesh, pid, lost)
    assert (failed.channel_state, failed.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                       "REFUND_FAILED")
    assert (await refund(mesh, pid, 40, lost)).channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    # The failed refund gave its 40 fen back.
    assert (await refund(mesh, pid, 40)).channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    assert sorted(await refunded(controls, pid)) == [
        (SandboxRefundState.FAILED, 40), (SandboxRefundState.SUCCESS, 40),
        (SandboxRefundState.SUCCESS, 60)]


async def test_query_refund_maps_the_sandbox_states(mesh: ChannelMesh) -> None:
    pid = await paid(mesh, 100)
    rid = new_id("R")
    for asked_pid, asked_rid in [(pid, rid), ("P-other", rid)]:
        missing = await query_refund(mesh, asked_pid, asked_rid)
        assert (missing.channel_state, missing.err_code) == (S.CHANNEL_STATE_CONFIRM_FAIL,
                                                             "REFUND_NOT_EXIST")
        assert rid in missing.err_msg
    done = await refund(mesh, pid, 25, rid)
    queried = await query_refund(mesh, pid, rid)
    assert (queried.channel_state, queried.refund_amount, queried.channel_refund_no) == (
        S.CHANNEL_STATE_CONFIRM_SUCCESS, 25, done.channel_refund_no)
    assert (await query_refund(mesh, "P-other", rid)).err_code == "REFUND_NOT_EXIST"


async def test_finishing_an_unknown_refund_is_not_found(controls: SandboxControls) -> None:
    with pytest.raises(NotFound):
        await controls.sandbox.finish_refund("R-unknown", success=True)
