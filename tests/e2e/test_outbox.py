"""The outbox: every state change that causes work elsewhere writes its event in the same
transaction as the change."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post

pytestmark = pytest.mark.e2e


def events_of(mesh: RunningMesh, order_id: str) -> list[str]:
    return [row[0] for row in gateway_rows(
        mesh, "SELECT topic FROM outbox_event WHERE order_id = :o ORDER BY event_id",
        o=order_id)]


async def test_payment_outcomes_and_refunds_leave_one_event_each(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=100))
    pay_order_id = created["data"]["payOrderId"]
    assert events_of(mesh, pay_order_id) == []  # nothing to tell while it is only paying
    await pay_on_sandbox_page(http, created["data"]["payData"])
    await pay_on_sandbox_page(http, created["data"]["payData"])  # the callback again
    assert events_of(mesh, pay_order_id) == ["pay.succeeded"]
    refund = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": pay_order_id, "mchRefundNo": f"OB{pay_order_id[-8:]}", "refundAmount": 40,
        "currency": "cny", "refundReason": "returned"})
    assert events_of(mesh, refund["data"]["refundOrderId"]) == ["refund.succeeded"]


async def test_a_declined_barcode_leaves_a_failure_event(mesh: RunningMesh,
                                                         http: httpx.AsyncClient) -> None:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(
        wayCode="WX_BAR", channelExtra='{"authCode":"134567890123450002"}'))
    assert created["data"]["orderState"] == 3
    assert events_of(mesh, created["data"]["payOrderId"]) == ["pay.failed"]
