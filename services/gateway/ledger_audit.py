"""What the ledger audit (``paymesh ledger check``) reads from the gateway: every pay order that
took money, with what the ledger should hold for it (StreamPaidOrders).

An order took money when it is paid (SUCCESS), fully refunded (REFUND), or was paid and then
reversed by reconciliation (FAIL with err_code RECONCILIATION, as reconciliation_source marks
it: its ``pay:`` posting stays and a ``recon:`` posting takes it back). Each comes with its
refunds (every state: a succeeded one needs its ``refund:`` posting, an open one may hold money),
the ids of the reconciliation corrections applied to it (their money moved as ``recon:<id>``),
and whether the ledger consumer has yet to handle each of its events: a ``pay.succeeded`` or a
refund's final event is *pending* while it exists, is not delivered, and has no delivery
recorded under the ledger consumer's name (outbox_delivery).

Orders come in pay_order_id order by keyset pages of ``BATCH``: each page is read in one short
session with four queries (orders, their payment events, their refunds with their final events,
their corrections), so memory holds one page and no connection stays busy between pages. No gRPC
here: the servicer translates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from paymesh.services.common.db import sessions
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.gateway.ledger_events import LEDGER_CONSUMER
from paymesh.services.gateway.models import (
    OrderCorrection,
    OutboxDelivery,
    OutboxEvent,
    PayOrder,
    RefundOrder,
    RefundState,
)
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import PAY_SUCCEEDED, REFUND_FAILED, REFUND_SUCCEEDED

BATCH = 500
MAX_IDS = 1000
_CHUNK = 500
REVERSED_ERR_CODE = "RECONCILIATION"  # reconciliation_source's mark of a reversed payment
_ENDED = (RefundState.SUCCESS, RefundState.FAIL, RefundState.CLOSED)


@dataclass(frozen=True)
class AuditRefund:
    """A refund of a paid order; money in fen, state as JeePay's refund codes."""

    refund_order_id: str
    refund_amount: int
    state: int
    ledger_pending: bool


@dataclass(frozen=True)
class AuditOrder:
    """A pay order that took money, as the ledger audit sees it; money in fen."""

    pay_order_id: str
    mch_no: str
    currency: str
    amount: int
    fee_amount: int
    state: int
    reversed: bool
    ledger_pending: bool
    refunds: list[AuditRefund] = field(default_factory=list)
    correction_ids: list[str] = field(default_factory=list)


class LedgerAudit:
    """StreamPaidOrders over the gateway's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def paid_orders(self, mch_no: str = "", pay_order_ids: Sequence[str] = ()
                          ) -> AsyncIterator[list[AuditOrder]]:
        """Pages of the orders that took money (of one merchant, or among given ids)."""
        if len(pay_order_ids) > MAX_IDS:
            raise InvalidArgument("pay_order_ids", f"pay_order_ids may hold at most {MAX_IDS} "
                                                   f"ids, got {len(pay_order_ids)}")
        wanted = sorted(set(pay_order_ids))
        after = ""
        while True:
            async with self._sessions() as session:
                page = await _page(session, mch_no, wanted, after)
            if page:
                yield page
            if len(page) < BATCH:
                return
            after = page[-1].pay_order_id


async def _page(session: AsyncSession, mch_no: str, wanted: Sequence[str],
                after: str) -> list[AuditOrder]:
    took_money = or_(PayOrder.state.in_([St.SUCCESS, St.REFUND]),
                     and_(PayOrder.state == St.FAIL, PayOrder.err_code == REVERSED_ERR_CODE))
    query = (select(PayOrder.pay_order_id, PayOrder.mch_no, PayOrder.currency, PayOrder.amount,
                    PayOrder.fee_amount, PayOrder.state, PayOrder.err_code)
             .where(took_money, PayOrder.pay_order_id > after))
    if mch_no:
        query = query.where(PayOrder.mch_no == mch_no)
    if wanted:
        query = query.where(PayOrder.pay_order_id.in_(wanted))
    rows = (await session.execute(query.order_by(PayOrder.pay_order_id).limit(BATCH))).all()
    ids = [row.pay_order_id for row in rows]
    if not ids:
        return []
    pending_pays = await _pending(session, [PAY_SUCCEEDED], ids)
    refunds: dict[str, list[AuditRefund]] = {i: [] for i in ids}
    refund_rows = await _chunked(session, ids, lambda chunk: (
        select(RefundOrder.refund_order_id, RefundOrder.pay_order_id, RefundOrder.refund_amount,
               RefundOrder.state)
        .where(RefundOrder.pay_order_id.in_(chunk))))
    refund_rows.sort(key=lambda r: r.refund_order_id)  # ids grow with time (snowflakes)
    pending_refunds = await _pending(session, [REFUND_SUCCEEDED, REFUND_FAILED],
                                     [r.refund_order_id for r in refund_rows
                                      if r.state in _ENDED])
    for r in refund_rows:
        refunds[r.pay_order_id].append(AuditRefund(r.refund_order_id, r.refund_amount, r.state,
                                                   r.refund_order_id in pending_refunds))
    corrections: dict[str, list[str]] = {i: [] for i in ids}
    for c in await _chunked(session, ids, lambda chunk: (
            select(OrderCorrection.pay_order_id, OrderCorrection.correction_id)
            .where(OrderCorrection.pay_order_id.in_(chunk))
            .order_by(OrderCorrection.correction_id))):
        corrections[c.pay_order_id].append(c.correction_id)
    return [AuditOrder(row.pay_order_id, row.mch_no, row.currency.upper(), row.amount,
                       row.fee_amount, row.state,
                       row.state == St.FAIL and row.err_code == REVERSED_ERR_CODE,
                       row.pay_order_id in pending_pays, refunds[row.pay_order_id],
                       corrections[row.pay_order_id])
            for row in rows]


async def _pending(session: AsyncSession, topics: list[str], order_ids: list[str]) -> set[str]:
    """Those of ``order_ids`` with an event of ``topics`` the ledger consumer has not handled."""
    delivered = and_(OutboxDelivery.event_id == OutboxEvent.event_id,
                     OutboxDelivery.consumer == LEDGER_CONSUMER)
    rows = await _chunked(session, order_ids, lambda chunk: (
        select(OutboxEvent.order_id)
        .outerjoin(OutboxDelivery, delivered)
        .where(OutboxEvent.topic.in_(topics), OutboxEvent.order_id.in_(chunk),
               OutboxEvent.delivered_at.is_(None), OutboxDelivery.event_id.is_(None))))
    return {row.order_id for row in rows}


async def _chunked(session: AsyncSession, keys: Sequence[str], query_of: Any) -> list[Any]:
    """The rows of the query built for each chunk of ``keys`` (IN lists stay short)."""
    found: list[Any] = []
    for start in range(0, len(keys), _CHUNK):
        found.extend((await session.execute(query_of(keys[start:start + _CHUNK]))).all())
    return found
