"""Reads and conditional writes of the sandbox's book.

Every state change is one ``UPDATE ... WHERE state IN (allowed)``: two payers clicking at once, or a
click racing a close, move a payment exactly once, whoever wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from paymesh.services.channel.models import SandboxPayment, SandboxState


class SandboxBook:
    """The sandbox payments, kept in the channel service's database."""

    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions

    async def add_once(self, payment: SandboxPayment) -> SandboxPayment:
        """Stores ``payment`` unless its pay order is already booked; returns the booked one.

        The unique pay_order_id decides, so concurrent Pay calls for one order book it once.
        """
        try:
            async with self._sessions.begin() as session:
                session.add(payment)
            return payment
        except IntegrityError:
            existing = await self.by_pay_order(payment.pay_order_id)
            if existing is None:
                raise
            return existing

    async def by_pay_order(self, pay_order_id: str) -> SandboxPayment | None:
        """The payment booked for a platform order, if any."""
        async with self._sessions() as session:
            found: SandboxPayment | None = await session.scalar(
                select(SandboxPayment).where(SandboxPayment.pay_order_id == pay_order_id))
            return found

    async def by_token(self, token: str) -> SandboxPayment | None:
        """The payment behind a pay page token, if any."""
        async with self._sessions() as session:
            return await session.get(SandboxPayment, token)

    async def move(self, token: str, allowed: Iterable[SandboxState], to: SandboxState,
                   now: datetime) -> bool:
        """Moves the payment to ``to`` from an allowed state; True when this call moved it."""
        async with self._sessions.begin() as session:
            result = cast(CursorResult[Any], await session.execute(
                update(SandboxPayment)
                .where(SandboxPayment.token == token,
                       SandboxPayment.state.in_([s.value for s in allowed]))
                .values(state=to.value, updated_at=now)
                .execution_options(synchronize_session=False)))
            return result.rowcount == 1
