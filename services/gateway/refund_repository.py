"""Refund persistence. The pay order's refundable amount is guarded in the database.

A refund first *reserves* its amount on the pay order with one conditional UPDATE (paid, no other
refund in flight, refunded + reserved + amount ≤ paid) in the same transaction that stores the
refund, so concurrent requests can never promise more than was paid. Settling moves the reserved
amount to refunded (or gives it back) and frees the order for the next refund. A refund undone
before its channel was asked (its ledger hold refused or unanswered) is *abandoned*: reservation
and refund row go together, as if it had never been asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from paymesh.services.common.db import run_transaction, sessions, utc_now
from paymesh.services.gateway.models import (
    OutboxEvent,
    PayOrder,
    PayOrderState,
    RefundOrder,
    RefundState,
)
from paymesh.services.gateway.outbox import REFUND_FAILED, REFUND_SUCCEEDED, outbox_event

# A refund undone before its channel was asked, whose ledger hold may exist all the same: the
# ledger consumer releases whatever it finds held (ledger_events).
REFUND_ABANDONED = "refund.abandoned"


class RefundRepository:
    """Refund orders and the refund bookkeeping of their pay orders."""

    def __init__(self, engine: AsyncEngine,
                 on_event: Callable[[], None] | None = None) -> None:
        self._sessions = sessions(engine)
        self._on_event = on_event

    async def open_refund(self, refund: RefundOrder) -> bool:
        """Reserves the amount on the pay order and stores the refund, both or neither.

        False when the order is not paid, another refund is in flight, the amount would pass
        what was paid, or the merchant's refund number is taken.
        """
        async def work() -> bool:
            try:
                async with self._sessions.begin() as session:
                    reserved = await session.execute(
                        update(PayOrder)
                        .where(PayOrder.pay_order_id == refund.pay_order_id,
                               PayOrder.state == PayOrderState.SUCCESS,
                               PayOrder.refund_in_flight.is_(None),
                               PayOrder.refunded_amount + PayOrder.refund_reserved
                               + refund.refund_amount <= PayOrder.amount)
                        .values(refund_reserved=PayOrder.refund_reserved + refund.refund_amount,
                                refund_in_flight=refund.refund_order_id, updated_at=utc_now()))
                    if not reserved.rowcount:
                        await session.rollback()
                        return False
                    session.add(_copy(refund))
                return True
            except IntegrityError:
                return False

        return await run_transaction(work)

    async def abandon(self, refund: RefundOrder, *, event: str | None = None) -> bool:
        """Undoes ``open_refund`` of a refund still INIT: the reservation is given back and the
        refund row deleted, both or neither, with ``event`` written in the same transaction.

        False when the refund has moved on (it is no longer the order's refund in flight, no
        longer INIT, or taken over since ``refund`` was read: see ``take_over``): nothing
        changes then.
        """
        async def work() -> bool:
            async with self._sessions.begin() as session:
                freed = await session.execute(
                    update(PayOrder)
                    .where(PayOrder.pay_order_id == refund.pay_order_id,
                           PayOrder.refund_in_flight == refund.refund_order_id)
                    .values(refund_reserved=PayOrder.refund_reserved - refund.refund_amount,
                            refund_in_flight=None, updated_at=utc_now()))
                gone = await session.execute(
                    delete(RefundOrder)
                    .where(RefundOrder.refund_order_id == refund.refund_order_id,
                           RefundOrder.state == RefundState.INIT,
                           RefundOrder.updated_at == refund.updated_at))
                if not (freed.rowcount and gone.rowcount):
                    await session.rollback()
                    return False
                if event is not None:
                    session.add(outbox_event(event, refund.refund_order_id))
            return True

        abandoned = await run_transaction(work)
        if abandoned and event is not None and self._on_event is not None:
            self._on_event()
        return abandoned

    async def take_over(self, refund: RefundOrder) -> RefundOrder | None:
        """Claims a refund still INIT for the caller, who is about to drive it to the channel:
        its ``updated_at`` moves, so the request that stored it can no longer ``abandon`` it
        (which needs the row as that request last wrote it). The refund as now stored, or None
        when it is no longer INIT (or gone)."""
        async with self._sessions.begin() as session:
            moved = await session.execute(
                update(RefundOrder)
                .where(RefundOrder.refund_order_id == refund.refund_order_id,
                       RefundOrder.state == RefundState.INIT)
                .values(updated_at=utc_now()))
        if not moved.rowcount:
            return None
        taken = await self.get(refund.refund_order_id)
        return taken if taken is not None and taken.state == RefundState.INIT else None

    async def settle(self, refund: RefundOrder, allowed_from: Iterable[int], succeeded: bool,
                     **changes: Any) -> bool:
        """Ends an open refund once: its reservation becomes refunded, or is given back.

        The pay order is locked first, as when a refund is opened, so the two never deadlock.
        """
        allowed = list(allowed_from)

        async def work() -> bool:
            async with self._sessions.begin() as session:
                if not await self.settle_in(session, refund, allowed, succeeded, **changes):
                    await session.rollback()  # settled already: change nothing
                    return False
            return True

        settled = await run_transaction(work)
        if settled and self._on_event is not None:
            self._on_event()
        return settled

    @staticmethod
    async def settle_in(session: AsyncSession, refund: RefundOrder, allowed_from: Iterable[int],
                        succeeded: bool, **changes: Any) -> bool:
        """``settle`` inside the caller's transaction, with whatever else it writes there.

        False when the refund was settled already: the caller must then roll back, since the
        pay order may have been written. The caller pokes the outbox after its commit.
        """
        state = 2 if succeeded else changes.pop("state", 3)
        amount = refund.refund_amount
        values: dict[str, Any] = {"refund_reserved": PayOrder.refund_reserved - amount,
                                  "refund_in_flight": None, "updated_at": utc_now()}
        if succeeded:
            values.update(refunded_amount=PayOrder.refunded_amount + amount,
                          refund_times=PayOrder.refund_times + 1)
        freed = await session.execute(
            update(PayOrder)
            .where(PayOrder.pay_order_id == refund.pay_order_id,
                   PayOrder.refund_in_flight == refund.refund_order_id)
            .values(**values))
        moved = await session.execute(
            update(RefundOrder)
            .where(RefundOrder.refund_order_id == refund.refund_order_id,
                   RefundOrder.state.in_(list(allowed_from)))
            .values(state=state, updated_at=utc_now(), **changes))
        if not (freed.rowcount and moved.rowcount):
            return False
        session.add(outbox_event(REFUND_SUCCEEDED if succeeded else REFUND_FAILED,
                                 refund.refund_order_id))
        if succeeded:  # fully refunded: SUCCESS → REFUND (5)
            await session.execute(
                update(PayOrder)
                .where(PayOrder.pay_order_id == refund.pay_order_id,
                       PayOrder.state == PayOrderState.SUCCESS,
                       PayOrder.refunded_amount >= PayOrder.amount)
                .values(state=PayOrderState.REFUND))
        return True

    async def update(self, refund_order_id: str, allowed_from: Iterable[int],
                     **changes: Any) -> bool:
        changes["updated_at"] = utc_now()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(RefundOrder)
                .where(RefundOrder.refund_order_id == refund_order_id,
                       RefundOrder.state.in_(list(allowed_from)))
                .values(**changes))
            return bool(result.rowcount)

    async def to_sweep(self, moment: datetime, limit: int,
                       stuck_before: datetime | None = None) -> list[RefundOrder]:
        """Refunds left pending at the channel, open refunds expired at ``moment``, and INIT
        refunds created before ``stuck_before`` (their request died before the channel answered).

        Oldest first. Younger INIT refunds are left alone: their request may be in flight.
        """
        open_states = [RefundState.INIT, RefundState.PAYING]
        stuck = (and_(RefundOrder.state == RefundState.INIT,
                      RefundOrder.created_at <= stuck_before)
                 if stuck_before is not None else false())
        query = (select(RefundOrder)
                 .where(or_(RefundOrder.state == RefundState.PAYING, stuck,
                            and_(RefundOrder.state.in_(open_states),
                                 RefundOrder.expire_at <= moment)))
                 .order_by(RefundOrder.created_at).limit(limit))
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars().all())

    async def get(self, refund_order_id: str) -> RefundOrder | None:
        async with self._sessions() as session:
            return await session.get(RefundOrder, refund_order_id)

    async def succeeded_in_order(self, pay_order_id: str) -> list[RefundOrder]:
        """The successful refunds of a pay order in the order they succeeded.

        Their ``refund.succeeded`` outbox events were written under the pay order's lock in the
        transaction that settled them, so the events' ids give that order, the same at every read.
        """
        query = (select(RefundOrder)
                 .join(OutboxEvent, and_(OutboxEvent.order_id == RefundOrder.refund_order_id,
                                         OutboxEvent.topic == REFUND_SUCCEEDED))
                 .where(RefundOrder.pay_order_id == pay_order_id,
                        RefundOrder.state == RefundState.SUCCESS)
                 .order_by(OutboxEvent.event_id))
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars().all())

    async def find(self, mch_no: str, *, refund_order_id: str | None = None,
                   mch_refund_no: str | None = None) -> RefundOrder | None:
        """A refund of one merchant, by either number; another merchant's is not found."""
        query = select(RefundOrder).where(RefundOrder.mch_no == mch_no)
        if refund_order_id:
            query = query.where(RefundOrder.refund_order_id == refund_order_id)
        if mch_refund_no:
            query = query.where(RefundOrder.mch_refund_no == mch_refund_no)
        async with self._sessions() as session:
            return (await session.execute(query)).scalar_one_or_none()


def _copy(refund: RefundOrder) -> RefundOrder:
    """A fresh instance to insert, so a retried transaction never re-adds a rolled-back one."""
    columns = RefundOrder.__table__.columns.keys()
    return RefundOrder(**{name: getattr(refund, name) for name in columns})
