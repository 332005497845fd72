"""The jobs process under ``paymesh up``: polling, expiry, barcode reversal and refund sweeps.

The e2e mesh runs every job each second and polls orders paying for 1 s (tests/conftest.py), so
each test changes the world the way a lost callback, a walking-away payer or a slow bank would,
then waits (bounded) for the real jobs process to settle it through the gateway.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from paymesh.services.channel.models import SandboxState
from tests.channel import sandbox_controls, token_of
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import (
    gateway_execute,
    gateway_rows,
    order_params,
    pay_on_sandbox_page,
    signed_post,
    wait_for_state,
)

pytestmark = pytest.mark.e2e
WAIT_SECONDS = 20.0
WAITING_BARCODE = '{"authCode":"134567890123450003"}'  # the sandbox waits for the password


def past(seconds: float) -> datetime:
    """A naive UTC time ``seconds`` ago, as the gateway stores times."""
    return (datetime.now(UTC) - timedelta(seconds=seconds)).replace(tzinfo=None)


async def eventually(read: Callable[[], Any], wanted: Any, timeout: float = WAIT_SECONDS) -> Any:
    """Reads until the value is ``wanted`` or the time is up; returns the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value == wanted or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def sandbox_payment_state(mesh: RunningMesh, pay_order_id: str) -> str | None:
    async with sandbox_controls(mesh.config) as sandbox:
        payment = await sandbox.book.by_pay_order(pay_order_id)
    return None if payment is None else payment.state


def events_of(mesh: RunningMesh, order_id: str) -> list[str]:
    return [row[0] for row in gateway_rows(
        mesh, "SELECT topic FROM outbox_event WHERE order_id = :o ORDER BY event_id",
        o=order_id)]


def spans(mesh: RunningMesh, service: str) -> list[dict[str, Any]]:
    return mesh.spans(service)


async def test_jobs_process_runs_under_paymesh_up(mesh: RunningMesh) -> None:
    pids = json.loads((mesh.config.data_dir / "mesh.json").read_text())["pids"]
    beat = json.loads((mesh.config.data_dir / "jobs.heartbeat").read_text())
    assert beat["pid"] == pids["jobs"]


async def test_a_dropped_callback_is_settled_by_polling(mesh: RunningMesh,
                                                        http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=321))
    pay_order_id = created["data"]["payOrderId"]
    token = token_of(created["data"]["payData"])
    # The payer pays; the sandbox's callback never arrives.
    async with sandbox_controls(mesh.config) as sandbox:
        assert await sandbox.book.move(token, [SandboxState.WAITING], SandboxState.SUCCESS,
                                       past(0))
        payment = await sandbox.book.by_token(token)
    assert payment is not None
    paid = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 2,
                                timeout=WAIT_SECONDS)
    assert paid["data"]["state"] == 2, paid
    assert paid["data"]["channelOrderNo"] == payment.channel_order_no
    assert paid["data"]["successTime"]
    assert events_of(mesh, pay_order_id) == ["pay.succeeded"]

    # The run that settled it is its own trace, from the jobs process into the gateway.
    def sweep_traces() -> set[str]:
        roots = {s["trace_id"] for s in spans(mesh, "jobs")
                 if s["name"] == "job sweep_paying_orders" and s["parent_span_id"] is None}
        served = {s["trace_id"] for s in spans(mesh, "gateway")
                  if s["kind"] == "SERVER"
                  and s["name"].endswith("OrderSweepService/SweepPayingOrders")}
        return roots & served

    assert await eventually(lambda: bool(sweep_traces()), True), "no sweep trace exported"


async def test_an_expired_unpaid_order_is_closed_at_the_channel_and_here(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = created["data"]["payOrderId"]
    assert gateway_execute(mesh, "UPDATE pay_order SET expire_at = :t WHERE pay_order_id = :p",
                           t=past(1), p=pay_order_id) == 1
    closed = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 6,
                                  timeout=WAIT_SECONDS)
    assert (closed["data"]["state"], closed["data"]["errCode"]) == (6, "ORDER_EXPIRED")
    assert await sandbox_payment_state(mesh, pay_order_id) == "CLOSED"
    # The payer can no longer pay it.
    refused = await http.post(created["data"]["payData"], data={"result": "success"},
                              headers={"accept": "application/json"})
    assert refused.status_code != 200


async def test_an_order_the_channel_closed_is_closed_here_not_failed(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = created["data"]["payOrderId"]
    # The merchant's close reached the channel, which closed the payment, but its answer was
    # lost: the gateway still has the order paying.
    async with sandbox_controls(mesh.config) as sandbox:
        assert await sandbox.book.move(token_of(created["data"]["payData"]),
                                       [SandboxState.WAITING], SandboxState.CLOSED, past(0))
    closed = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 6,
                                  timeout=WAIT_SECONDS)
    assert (closed["data"]["state"], closed["data"]["errCode"]) == (6, "ORDER_CLOSED")
    assert events_of(mesh, pay_order_id) == []  # not a failure to notify


async def test_an_expired_order_the_channel_reports_paid_is_never_closed(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params())
    pay_order_id = created["data"]["payOrderId"]
    async with sandbox_controls(mesh.config) as sandbox:
        assert await sandbox.book.move(token_of(created["data"]["payData"]),
                                       [SandboxState.WAITING], SandboxState.SUCCESS, past(0))
    gateway_execute(mesh, "UPDATE pay_order SET expire_at = :t WHERE pay_order_id = :p",
                    t=past(1), p=pay_order_id)
    paid = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 2,
                                timeout=WAIT_SECONDS)
    assert paid["data"]["state"] == 2, paid
    await asyncio.sleep(2)  # two more expiry runs change nothing
    again = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert again["data"]["state"] == 2
    assert await sandbox_payment_state(mesh, pay_order_id) == "SUCCESS"


async def test_an_expired_cashier_order_that_never_reached_a_channel_is_closed(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder",
                                order_params(wayCode="QR_CASHIER"))
    pay_order_id = created["data"]["payOrderId"]
    assert created["data"]["orderState"] == 0
    gateway_execute(mesh, "UPDATE pay_order SET expire_at = :t WHERE pay_order_id = :p",
                    t=past(1), p=pay_order_id)
    closed = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 6,
                                  timeout=WAIT_SECONDS)
    assert closed["data"]["state"] == 6


async def test_a_barcode_payment_left_waiting_is_reversed(mesh: RunningMesh,
                                                          http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_BAR", channelExtra=WAITING_BARCODE))
    pay_order_id = created["data"]["payOrderId"]
    assert created["data"]["orderState"] == 1, created
    await asyncio.sleep(1.5)
    query = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    assert query["data"]["state"] == 1  # polled, still waiting: nothing to do yet
    # 30 s pass at the till without the payer's password.
    gateway_execute(mesh, "UPDATE pay_order SET created_at = :t WHERE pay_order_id = :p",
                    t=past(40), p=pay_order_id)
    cancelled = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 4,
                                     timeout=WAIT_SECONDS)
    assert (cancelled["data"]["state"], cancelled["data"]["errCode"]) == (4, "BARCODE_REVERSED")
    assert await sandbox_payment_state(mesh, pay_order_id) == "CLOSED"


async def test_a_barcode_payment_confirmed_without_a_callback_is_settled_by_polling(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_BAR", channelExtra=WAITING_BARCODE))
    pay_order_id = created["data"]["payOrderId"]
    async with sandbox_controls(mesh.config) as sandbox:
        payment = await sandbox.book.by_pay_order(pay_order_id)
        assert payment is not None
        await sandbox.book.move(payment.token, [SandboxState.WAITING], SandboxState.SUCCESS,
                                past(0))
    paid = await wait_for_state(http, mesh, mesh.credentials, pay_order_id, 2,
                                timeout=WAIT_SECONDS)
    assert paid["data"]["state"] == 2, paid


async def pending_refund(mesh: RunningMesh, http: httpx.AsyncClient) -> tuple[str, str]:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=100))
    await pay_on_sandbox_page(http, created["data"]["payData"])
    pay_order_id = created["data"]["payOrderId"]
    asked = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": f"JR{pay_order_id[-10:]}",
        "refundAmount": 40, "currency": "cny", "refundReason": "slow bank [sandbox:pending]"})
    assert asked["data"]["state"] == 1, asked
    return pay_order_id, asked["data"]["refundOrderId"]


def refund_state(mesh: RunningMesh, refund_order_id: str) -> int:
    """Read from the database: the merchant's refund query would settle it itself."""
    rows = gateway_rows(mesh, "SELECT state FROM refund_order WHERE refund_order_id = :r",
                        r=refund_order_id)
    return int(rows[0][0])


def refund_columns(mesh: RunningMesh, pay_order_id: str) -> tuple[Any, ...]:
    [row] = gateway_rows(mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight "
                               "FROM pay_order WHERE pay_order_id = :p", p=pay_order_id)
    return tuple(row)


async def test_a_pending_refund_finished_at_the_channel_is_settled_by_the_sweep(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id, refund_order_id = await pending_refund(mesh, http)
    await asyncio.sleep(1.5)
    assert refund_state(mesh, refund_order_id) == 1  # swept, still pending at the channel
    async with sandbox_controls(mesh.config) as sandbox:
        await sandbox.sandbox.finish_refund(refund_order_id, True)
    assert await eventually(lambda: refund_state(mesh, refund_order_id), 2) == 2
    assert refund_columns(mesh, pay_order_id) == (40, 0, None)
    assert events_of(mesh, refund_order_id) == ["refund.succeeded"]


async def test_a_refund_still_pending_after_two_hours_stays_open_until_the_channel_decides(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id, refund_order_id = await pending_refund(mesh, http)
    gateway_execute(mesh, "UPDATE refund_order SET expire_at = :t WHERE refund_order_id = :r",
                    t=past(1), r=refund_order_id)
    await asyncio.sleep(2.5)  # several sweeps: the channel still says pending
    assert refund_state(mesh, refund_order_id) == 1
    assert refund_columns(mesh, pay_order_id) == (0, 40, refund_order_id)  # still reserved
    async with sandbox_controls(mesh.config) as sandbox:
        await sandbox.sandbox.finish_refund(refund_order_id, False)
    assert await eventually(lambda: refund_state(mesh, refund_order_id), 3) == 3
    assert refund_columns(mesh, pay_order_id) == (0, 0, None)  # the reservation is given back
    assert events_of(mesh, refund_order_id) == ["refund.failed"]
