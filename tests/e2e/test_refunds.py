"""Refunds (退款) through the real edge: partial, repeated, concurrent, pending, refused."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from tests.channel import sandbox_controls
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post

pytestmark = pytest.mark.e2e


async def paid_order(mesh: RunningMesh, http: httpx.AsyncClient, amount: int = 100) -> str:
    created = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=amount))
    await pay_on_sandbox_page(http, created["data"]["payData"])
    pay_order_id: str = created["data"]["payOrderId"]
    return pay_order_id


def refund(pay_order_id: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {"payOrderId": pay_order_id, "mchRefundNo": f"RF{secrets.token_hex(6)}",
            "refundAmount": amount, "currency": "cny", "refundReason": "returned", **extra}


async def ask(mesh: RunningMesh, http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    return await signed_post(http, mesh, "/api/refund/refundOrder", body)


async def pay_state(mesh: RunningMesh, http: httpx.AsyncClient, pay_order_id: str) -> int:
    queried = await signed_post(http, mesh, "/api/pay/query", {"payOrderId": pay_order_id})
    state: int = queried["data"]["state"]
    return state


async def test_sequential_refunds_until_the_paid_amount_is_used_up(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    for _ in range(3):
        answer = await ask(mesh, http, refund(pay_order_id, 30))
        assert answer["code"] == 0, answer
        assert (answer["data"]["state"], answer["data"]["refundAmount"]) == (2, 30)
    fourth = await ask(mesh, http, refund(pay_order_id, 30))
    assert fourth["code"] == 9999
    assert "more than the 10 fen left" in fourth["msg"]
    assert await pay_state(mesh, http, pay_order_id) == 2
    last = await ask(mesh, http, refund(pay_order_id, 10))
    assert last["data"]["state"] == 2
    assert await pay_state(mesh, http, pay_order_id) == 5  # fully refunded
    after = await ask(mesh, http, refund(pay_order_id, 1))
    assert "already fully refunded" in after["msg"]


async def test_fifty_concurrent_refunds_never_pass_the_paid_amount(
        mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    answers = await asyncio.gather(*(ask(mesh, http, refund(pay_order_id, 30))
                                     for _ in range(50)))
    succeeded = [a for a in answers if a["code"] == 0 and a["data"]["state"] == 2]
    refused = [a for a in answers if a["code"] != 0]
    assert 1 <= len(succeeded) <= 3
    assert len(succeeded) + len(refused) == 50
    assert all(("in progress" in a["msg"] or "left to refund" in a["msg"]) for a in refused), \
        {a["msg"] for a in refused}
    recorded = gateway_rows(mesh, "SELECT refund_order_id, refund_amount FROM refund_order "
                            "WHERE pay_order_id = :p AND state = 2", p=pay_order_id)
    assert sorted(r[0] for r in recorded) == sorted(a["data"]["refundOrderId"] for a in succeeded)
    assert sum(r[1] for r in recorded) <= 100
    async with sandbox_controls(mesh.config) as sandbox:
        at_channel = await sandbox.book.refunds_of(pay_order_id)
    assert sorted(r.refund_order_id for r in at_channel if r.state == "SUCCESS") == \
        sorted(r[0] for r in recorded)
    [(refunded, reserved, in_flight)] = gateway_rows(
        mesh, "SELECT refunded_amount, refund_reserved, refund_in_flight FROM pay_order "
        "WHERE pay_order_id = :p", p=pay_order_id)
    assert (refunded, reserved, in_flight) == (sum(r[1] for r in recorded), 0, None)


async def test_repeated_refund_number(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    body = refund(pay_order_id, 20)
    first = await ask(mesh, http, body)
    again = await ask(mesh, http, {**body, "nonce": secrets.token_hex(8)})
    assert again["data"]["refundOrderId"] == first["data"]["refundOrderId"]
    other = await ask(mesh, http, {**body, "refundAmount": 21})
    assert other["code"] == 9999 and "already used" in other["msg"]
    rows = gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order WHERE pay_order_id = :p",
                        p=pay_order_id)
    assert rows[0][0] == 1


async def test_pending_refund_is_settled_by_a_query(mesh: RunningMesh,
                                                    http: httpx.AsyncClient) -> None:
    pay_order_id = await paid_order(mesh, http, 100)
    answer = await ask(mesh, http, refund(pay_order_id, 40,
                                          refundReason="slow bank [sandbox:pending]"))
    assert answer["data"]["state"] == 1
    blocked = await ask(mesh, http, refund(pay_order_id, 10))
    assert "still in progress" in blocked["msg"]
    refund_order_id = answer["data"]["refundOrderId"]
    async with sandbox_controls(mesh.config) as sandbox:
        await sandbox.sandbox.finish_refund(refund_order_id, True)
    queried = await signed_post(http, mesh, "/api/refund/query",
                                {"refundOrderId": refund_order_id})
    assert queried["code"] == 0, queried
    assert (queried["data"]["state"], queried["data"]["refundAmount"]) == (2, 40)
    assert (await ask(mesh, http, refund(pay_order_id, 60)))["data"]["state"] == 2


async def test_refunds_that_must_be_refused(mesh: RunningMesh, http: httpx.AsyncClient) -> None:
    unpaid = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=100))
    answer = await ask(mesh, http, refund(unpaid["data"]["payOrderId"], 10))
    assert answer["code"] == 9999 and "is not paid" in answer["msg"]
    pay_order_id = await paid_order(mesh, http, 100)
    for body, words in [(refund(pay_order_id, 0), "refundAmount must be"),
                        (refund(pay_order_id, 101), "more than the 100 fen left"),
                        (refund(pay_order_id, 10, currency="usd"), "currency must be"),
                        (refund("P1", 10), "order P1 not found")]:
        refused = await ask(mesh, http, body)
        assert refused["code"] != 0 and words in refused["msg"], refused
    assert gateway_rows(mesh, "SELECT COUNT(*) FROM refund_order WHERE pay_order_id = :p",
                        p=pay_order_id)[0][0] == 0
