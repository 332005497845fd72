"""Pay order persistence. Every state change is one conditional UPDATE from allowed states."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.gateway.models import PayOrder


class PayOrderRepository:
    """Reads and conditional writes of pay orders."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def insert(self, order: PayOrder) -> bool:
        """Stores a new order; False when (mch_no, mch_order_no) or the id is already taken."""
        try:
            async with self._sessions.begin() as session:
                session.add(order)
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

    async def transition(self, pay_order_id: str, allowed_from: Iterable[int],
                         **changes: Any) -> bool:
        """Applies ``changes`` only while the order is in one of ``allowed_from``.

        Returns True when this call moved the order; False when its state had already changed.
        """
        changes["updated_at"] = utc_now()
        statement = (update(PayOrder)
                     .where(PayOrder.pay_order_id == pay_order_id,
                            PayOrder.state.in_(list(allowed_from)))
                     .values(**changes))
        async with self._sessions.begin() as session:
            result = await session.execute(statement)
            return bool(result.rowcount)
