"""The drill's audit against a real mesh: clean after a real load, and it finds what is planted
afterwards: a changed amount, an order and a refund the client never asked for, and a merchant
balance that no longer adds up."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime

import httpx
import pytest

from paymesh.services.drills.audit import Auditor, AuditResult
from paymesh.services.drills.client import DrillClient, Stats
from paymesh.services.drills.endpoint import PAY_PATH, MerchantEndpoint
from paymesh.services.drills.tenant import WAY_CODES, create_tenant
from paymesh.services.drills.workload import PAID, REFUND_DONE, Book, Mix, Workload
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_execute

pytestmark = pytest.mark.e2e


async def clean_audit(auditor: Auditor, book: Book, timeout: float = 30.0) -> AuditResult:
    deadline = time.monotonic() + timeout
    while True:
        audit = await auditor.audit(book)
        if audit.clean or time.monotonic() > deadline:
            return audit
        await asyncio.sleep(1)


def counts(audit: AuditResult, row: str) -> dict[str, int]:
    return next(r.counts for r in audit.rows if r.name == row)


async def test_the_audit_matches_a_real_load_and_finds_what_is_planted(
        mesh: RunningMesh) -> None:
    tenant = await create_tenant(mesh.config, "audit test")
    endpoint = MerchantEndpoint(tenant.secret)
    started = datetime.now(UTC)
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            client = DrillClient(mesh.rest_url, tenant.credentials, http, Stats(), 10.0)
            workload = Workload(client, f"http://127.0.0.1:{endpoint.port}",
                                way_codes=WAY_CODES, seed=7,
                                mix=Mix(pay=0.8, fail=0.1, close=0.1, refund=0.6))
            await workload.run([(4.0, 3.0)])
            assert await workload.drain(60) == 0
            book = workload.book
            auditor = Auditor(mesh.config, tenant, endpoint, started, env=mesh.env)
            audit = await clean_audit(auditor, book)
            assert audit.clean, [r.examples for r in audit.rows]
            assert counts(audit, "pay orders")["match"] == len(book.orders) == 12
            paid = [o for o in book.orders.values() if o.expected == {PAID} and not o.refunds]
            refunded = [(o, r) for o, r in book.refunds() if r.state == REFUND_DONE]
            assert paid and refunded
            assert counts(audit, "pay postings")["match"] >= len(paid) + len(refunded)
            assert counts(audit, "notifications")["match"] >= len(paid)
            assert audit.balance_expected == audit.balance_ledger > 0

            # An order made behind the client's back, a changed amount, a forgotten refund.
            stray = await client.merchant("unified order", "/api/pay/unifiedOrder", {
                "mchOrderNo": f"STRAY{secrets.token_hex(4)}", "wayCode": "WX_NATIVE",
                "amount": 500, "currency": "cny", "subject": "stray", "body": "not in the book",
                "notifyUrl": f"http://127.0.0.1:{endpoint.port}{PAY_PATH}"})
            assert stray.ok
            changed = paid[0]
            assert gateway_execute(mesh, "UPDATE pay_order SET amount = amount + 1 "
                                   "WHERE pay_order_id = :p", p=changed.pay_order_id) == 1
            order, forgotten = refunded[0]
            order.refunds.remove(forgotten)

            planted = await auditor.audit(book)
            # Put the amount back: the session's mesh must end with a sound ledger.
            gateway_execute(mesh, "UPDATE pay_order SET amount = amount - 1 "
                            "WHERE pay_order_id = :p", p=changed.pay_order_id)
    finally:
        endpoint.close()
    pays = counts(planted, "pay orders")
    # The changed order, and the order whose refund the client forgot (its refunded total).
    assert (pays["mismatch"], pays["duplicate"], pays["missing"]) == (2, 1, 0)
    assert any(changed.pay_order_id in e and "amount" in e for e in planted.rows[0].examples)
    assert any(order.pay_order_id in e and "refunded" in e for e in planted.rows[0].examples)
    assert any(stray.data["payOrderId"] in e and "never asked" in e
               for e in planted.rows[0].examples)
    assert counts(planted, "refunds")["duplicate"] == 1
    # The ledger credited the amount the order had when it was paid, not the changed one.
    assert counts(planted, "pay postings")["mismatch"] == 1
    assert planted.balance_expected != planted.balance_ledger
    assert not planted.clean
