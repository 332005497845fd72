"""StreamPaidOrders over the gateway's database: which orders took money, their refunds and
corrections, and which of their events the ledger consumer has yet to handle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.gateway import ledger_audit
from paymesh.services.gateway.ledger_audit import AuditOrder, AuditRefund, LedgerAudit
from paymesh.services.gateway.models import (
    OrderCorrection,
    OutboxDelivery,
    OutboxEvent,
    PayOrder,
    RefundOrder,
)
from paymesh.services.gateway.models import PayOrderState as St


async def add(engine: AsyncEngine, *rows: Any) -> None:
    async with sessions(engine).begin() as session:
        session.add_all(rows)


def order(pid: str, state: int, mch: str = "M1", err_code: str | None = None) -> PayOrder:
    now = utc_now()
    return PayOrder(pay_order_id=pid, mch_no=mch, app_id="A1", mch_order_no=pid,
                    if_code="sandbox", way_code="WX_H5", amount=1000, currency="cny",
                    state=state, subject="s", body="b", expire_at=now + timedelta(hours=2),
                    fee_rate="0.006", fee_amount=6, err_code=err_code, late_success=False,
                    refunded_amount=0, refund_reserved=0, refund_times=0, created_at=now,
                    updated_at=now)


def refund(rid: str, pid: str, state: int, amount: int = 100) -> RefundOrder:
    now = utc_now()
    return RefundOrder(refund_order_id=rid, pay_order_id=pid, mch_no="M1", app_id="A1",
                       mch_refund_no=rid, if_code="sandbox", pay_amount=1000,
                       refund_amount=amount, currency="cny", state=state, reason="r",
                       expire_at=now, created_at=now, updated_at=now)


def event(event_id: int, topic: str, order_id: str, *, delivered: bool = False) -> OutboxEvent:
    now = utc_now()
    return OutboxEvent(event_id=event_id, topic=topic, order_id=order_id, attempts=0,
                       next_attempt_at=now, delivered_at=now if delivered else None,
                       created_at=now)


def correction(cid: str, pid: str) -> OrderCorrection:
    return OrderCorrection(correction_id=cid, action=3, fingerprint="f", pay_order_id=pid,
                           previous_amount=900, previous_fee_amount=5, previous_state=2,
                           reason="", answer="{}", created_at=utc_now())


async def every(audit: LedgerAudit, **kwargs: Any) -> list[list[AuditOrder]]:
    return [page async for page in audit.paid_orders(**kwargs)]


async def test_orders_that_took_money_come_with_what_the_ledger_should_hold(
        engine: AsyncEngine) -> None:
    await add(engine, order("P1", St.SUCCESS), order("P2", St.REFUND),
              order("P3", St.FAIL, err_code="RECONCILIATION"), order("P4", St.FAIL),
              order("P5", St.PAYING), order("P6", St.CLOSED), order("P7", St.SUCCESS, "M2"))
    await add(engine, refund("R1", "P2", 2, 600), refund("R2", "P2", 3), refund("R3", "P2", 2,
                                                                                  400),
              refund("R4", "P1", 1), correction("RM1", "P3"))
    # P1's payment waits for the ledger; P2's was handled by the ledger consumer, though the
    # notifications still retry it; P7's was delivered to everyone.
    await add(engine, event(1, "pay.succeeded", "P1"), event(2, "pay.succeeded", "P2"),
              event(3, "pay.succeeded", "P7", delivered=True),
              event(4, "refund.succeeded", "R1"), event(5, "refund.failed", "R2"),
              event(6, "refund.succeeded", "R3"))
    now = utc_now()
    await add(engine, OutboxDelivery(event_id=2, consumer="ledger", delivered_at=now),
              OutboxDelivery(event_id=4, consumer="notifications", delivered_at=now),
              OutboxDelivery(event_id=6, consumer="ledger", delivered_at=now))

    [page] = await every(LedgerAudit(engine))
    assert page == [
        AuditOrder("P1", "M1", "CNY", 1000, 6, St.SUCCESS, False, True,
                   [AuditRefund("R4", 100, 1, False)], []),
        AuditOrder("P2", "M1", "CNY", 1000, 6, St.REFUND, False, False,
                   [AuditRefund("R1", 600, 2, True), AuditRefund("R2", 100, 3, True),
                    AuditRefund("R3", 400, 2, False)], []),
        AuditOrder("P3", "M1", "CNY", 1000, 6, St.FAIL, True, False, [], ["RM1"]),
        AuditOrder("P7", "M2", "CNY", 1000, 6, St.SUCCESS, False, False, [], [])]


async def test_pages_follow_the_order_ids_and_filters_narrow_them(
        engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    await add(engine, *(order(f"P{i}", St.SUCCESS, "M1" if i % 2 else "M2") for i in range(7)))
    monkeypatch.setattr(ledger_audit, "BATCH", 2)
    audit = LedgerAudit(engine)
    pages = await every(audit)
    assert [[o.pay_order_id for o in page] for page in pages] == [
        ["P0", "P1"], ["P2", "P3"], ["P4", "P5"], ["P6"]]
    assert [o.pay_order_id for page in await every(audit, mch_no="M1") for o in page] == [
        "P1", "P3", "P5"]
    assert [o.pay_order_id for page in await every(audit, pay_order_ids=["P6", "P2", "P9"])
            for o in page] == ["P2", "P6"]
    assert await every(audit, mch_no="M3") == []
    with pytest.raises(InvalidArgument):
        await every(audit, pay_order_ids=[f"P{i}" for i in range(1001)])
