"""Pay order persistence. Every state change is one conditional UPDATE from allowed states."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Update, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from paymesh.services.common.db import insert_new, run_transaction, sessions, utc_now
from paymesh.services.gateway.models import PassageDailyUsage, PayOrder, PayOrderState
from paymesh.services.gateway.outbox import outbox_event


class PayOrderRepository:
    """Reads and conditional writes of pay orders."""

    def __init__(self, engine: AsyncEngine,
                 on_event: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._sessions = sessions(engine)
        self._on_event = on_event

    async def insert(self, order: PayOrder) -> bool:
        """Stores a new order; False when (mch_no, mch_order_no) or the id is already taken."""
        try:
            async with self._engine.begin() as connection:
                await insert_new(connection, order)
            return True
        except IntegrityError:
            return False

    async def get(self, pay_order_id: str) -> PayOrder | None:
        async with self._sessions() as session:
            return await session.get(PayOrder, pay_order_id)

    async def find(self, mch_no: str, *, pay_order_id: str | None = None,
                   mch_order_no: str | None = None) -> PayOrder | None:
        """An order of one merchant, by either number; another merchant's order is not found."""
        query = select(PayOrder).where(PayOrder.mch_no == mch_no)
        if pay_order_id:
            query = query.where(PayOrder.pay_order_id == pay_order_id)
        if mch_order_no:
            query = query.where(PayOrder.mch_order_no == mch_order_no)
        async with self._sessions() as session:
            return (await session.execute(query)).scalar_one_or_none()

    async def paying_due(self, created_before: datetime, due_by: datetime, limit: int,
                         way_codes: Collection[str] | None = None) -> list[PayOrder]:
        """PAYING orders created at or before ``created_before`` (of ``way_codes`` only) whose
        next query is due by ``due_by`` (never asked, or ``next_query_at`` at or before it).

        What the pay sweep asks the channels about, the most overdue first (by ``next_query_at``,
        or by creation for an order never asked; the older order first when due together), so
        orders asked lately wait their turn and a backlog larger than ``limit`` is worked through
        rather than its oldest part asked again and again. A snapshot, so every change it leads
        to is still a conditional transition.
        """
        due = func.coalesce(PayOrder.next_query_at, PayOrder.created_at)
        query = select(PayOrder).where(PayOrder.state == PayOrderState.PAYING,
                                       PayOrder.created_at <= created_before,
                                       or_(PayOrder.next_query_at.is_(None),
                                           PayOrder.next_query_at <= due_by))
        if way_codes is not None:
            query = query.where(PayOrder.way_code.in_(list(way_codes)))
        async with self._sessions() as session:
            found = await session.execute(
                query.order_by(due, PayOrder.created_at).limit(limit))
            return list(found.scalars().all())

    async def schedule_query(self, pay_order_id: str, at: datetime) -> bool:
        """Records that the sweep asked about the order and asks again at ``at``: sets
        ``next_query_at`` and counts the query, only while the order is still PAYING.

        An order a callback or a merchant's close ended meanwhile is left as it is (False).
        Bookkeeping of the sweep, not a change of the order: its state and ``updated_at`` stay.
        """
        statement = (update(PayOrder)
                     .where(PayOrder.pay_order_id == pay_order_id,
                            PayOrder.state == PayOrderState.PAYING)
                     .values(next_query_at=at, query_count=PayOrder.query_count + 1))

        async def work() -> bool:
            async with self._engine.begin() as connection:
                return bool((await connection.execute(statement)).rowcount)

        return await run_transaction(work)

    async def expired_open(self, moment: datetime, limit: int) -> list[PayOrder]:
        """INIT or PAYING orders whose expiry is at or before ``moment``, earliest expiry first."""
        query = (select(PayOrder)
                 .where(PayOrder.state.in_([PayOrderState.INIT, PayOrderState.PAYING]),
                        PayOrder.expire_at <= moment)
                 .order_by(PayOrder.expire_at).limit(limit))
        async with self._sessions() as session:
            return list((await session.execute(query)).scalars().all())

    async def transition(self, pay_order_id: str, allowed_from: Iterable[int], *,
                         event: str | None = None, **changes: Any) -> bool:
        """Applies ``changes`` only while the order is in one of ``allowed_from``.

        With ``event``, the outbox event is written in the same transaction as the change.
        Returns True when this call moved the order; False when its state had already changed.
        """
        statement = _conditional_update(pay_order_id, allowed_from, changes)

        async def work() -> bool:
            # Core statements: no session, so no unit of work and no loaded object to keep in
            # step (a third of the ORM's cost on the unified order's path).
            async with self._engine.begin() as connection:
                moved = bool((await connection.execute(statement)).rowcount)
                if moved and event is not None:
                    await insert_new(connection, outbox_event(event, pay_order_id))
                return moved

        moved = await run_transaction(work)
        if moved and event is not None and self._on_event is not None:
            self._on_event()
        return moved

    @staticmethod
    async def transition_in(session: AsyncSession, pay_order_id: str,
                            allowed_from: Iterable[int], *, event: str | None = None,
                            **changes: Any) -> bool:
        """``transition`` inside the caller's transaction, with whatever else it writes there.

        The caller commits, and pokes the outbox after the commit when an event was written.
        """
        moved = bool((await session.execute(
            _conditional_update(pay_order_id, allowed_from, changes))).rowcount)
        if moved and event is not None:
            session.add(outbox_event(event, pay_order_id))
        return moved


def _conditional_update(pay_order_id: str, allowed_from: Iterable[int],
                        changes: dict[str, Any]) -> Update:
    """UPDATE of one order with ``changes`` (and its updated_at), only from ``allowed_from``."""
    return (update(PayOrder)
            .where(PayOrder.pay_order_id == pay_order_id,
                   PayOrder.state.in_(list(allowed_from)))
            .values(**changes, updated_at=utc_now()))


class PassageUsage:
    """Daily amounts per passage, reserved and released by conditional updates."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def reserve(self, key: tuple[str, str, str], day: str, amount: int, limit: int) -> bool:
        """Adds ``amount`` to the passage's day unless that would pass ``limit``."""
        app_id, way_code, if_code = key
        where = (PassageDailyUsage.app_id == app_id, PassageDailyUsage.way_code == way_code,
                 PassageDailyUsage.if_code == if_code, PassageDailyUsage.day == day)
        for _ in range(3):
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(PassageDailyUsage)
                    .where(*where, PassageDailyUsage.amount + amount <= limit)
                    .values(amount=PassageDailyUsage.amount + amount))
                if result.rowcount:
                    return True
                if await session.get(PassageDailyUsage, (app_id, way_code, if_code, day)):
                    return False
            if amount > limit:
                return False
            try:
                async with self._sessions.begin() as session:
                    session.add(PassageDailyUsage(app_id=app_id, way_code=way_code,
                                                  if_code=if_code, day=day, amount=amount))
                return True
            except IntegrityError:
                continue  # created meanwhile by a concurrent order: update it instead
        return False

    async def release(self, key: tuple[str, str, str], day: str, amount: int) -> None:
        """Gives back what an order reserved when it fails or closes."""
        app_id, way_code, if_code = key
        async with self._sessions.begin() as session:
            await session.execute(
                update(PassageDailyUsage)
                .where(PassageDailyUsage.app_id == app_id, PassageDailyUsage.way_code == way_code,
                       PassageDailyUsage.if_code == if_code, PassageDailyUsage.day == day)
                .values(amount=PassageDailyUsage.amount - amount))
