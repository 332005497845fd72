"""Reads and conditional writes of the sandbox's book.

Every state change is one ``UPDATE ... WHERE state IN (allowed)``: two payers clicking at once, or a
click racing a close, move a payment exactly once, whoever wins.

Refunds follow the same rule for money: a refund raises its payment's ``refunded_amount`` by one
``UPDATE ... WHERE refunded_amount + :x <= amount`` and is inserted in the same transaction, so
however many refunds race for one payment, together they never exceed what was paid.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import aliased

from paymesh.services.channel.models import (
    SandboxBillMistake,
    SandboxPayment,
    SandboxRefund,
    SandboxRefundState,
    SandboxState,
)
from paymesh.services.common.db import insert_new, sessions

_BILL_FETCH = 1000


class SandboxBook:
    """The sandbox payments, kept in the channel service's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = sessions(engine)

    async def add_once(self, payment: SandboxPayment) -> SandboxPayment:
        """Stores ``payment`` unless its pay order is already booked; returns the booked one.

        The unique pay_order_id decides, so concurrent Pay calls for one order book it once.
        """
        try:
            async with self._engine.begin() as connection:  # one Core INSERT: a hot path
                await insert_new(connection, payment)
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
        """Moves the payment to ``to`` from an allowed state; True when this call moved it.

        A move to SUCCESS also records ``paid_at``.
        """
        paid = {"paid_at": now} if to == SandboxState.SUCCESS else {}
        async with self._sessions.begin() as session:
            result = cast(CursorResult[Any], await session.execute(
                update(SandboxPayment)
                .where(SandboxPayment.token == token,
                       SandboxPayment.state.in_([s.value for s in allowed]))
                .values(state=to.value, updated_at=now, **paid)
                .execution_options(synchronize_session=False)))
            return result.rowcount == 1

    async def book_refund(self, refund: SandboxRefund, now: datetime) -> SandboxRefund | None:
        """Books ``refund`` against its successful payment; returns the refund booked under its id.

        That is ``refund`` itself, or the refund already booked under the same id (compare its
        amount). None when the payment is not successful or ``refund`` would take its refunded
        total past its amount; nothing is changed then.
        """
        try:
            async with self._sessions.begin() as session:
                raised = cast(CursorResult[Any], await session.execute(
                    update(SandboxPayment)
                    .where(SandboxPayment.pay_order_id == refund.pay_order_id,
                           SandboxPayment.state == SandboxState.SUCCESS.value,
                           SandboxPayment.refunded_amount + refund.amount
                           <= SandboxPayment.amount)
                    .values(refunded_amount=SandboxPayment.refunded_amount + refund.amount,
                            updated_at=now)
                    .execution_options(synchronize_session=False)))
                if raised.rowcount != 1:
                    return await session.get(SandboxRefund, refund.refund_order_id)
                session.add(refund)
            return refund
        except IntegrityError:
            existing = await self.refund(refund.refund_order_id)
            if existing is None:
                raise
            return existing

    async def settle_refund(self, refund_order_id: str, success: bool, now: datetime) -> bool:
        """Ends a PROCESSING refund; a failed one gives its amount back to the payment.

        True when this call ended it; False when there is no such refund or it already ended.
        """
        to = SandboxRefundState.SUCCESS if success else SandboxRefundState.FAILED
        async with self._sessions.begin() as session:
            moved = cast(CursorResult[Any], await session.execute(
                update(SandboxRefund)
                .where(SandboxRefund.refund_order_id == refund_order_id,
                       SandboxRefund.state == SandboxRefundState.PROCESSING.value)
                .values(state=to.value, updated_at=now)
                .execution_options(synchronize_session=False)))
            if moved.rowcount != 1:
                return False
            if not success:
                refund = await session.get(SandboxRefund, refund_order_id)
                assert refund is not None
                await session.execute(
                    update(SandboxPayment)
                    .where(SandboxPayment.pay_order_id == refund.pay_order_id)
                    .values(refunded_amount=SandboxPayment.refunded_amount - refund.amount,
                            updated_at=now)
                    .execution_options(synchronize_session=False))
            return True

    async def refund(self, refund_order_id: str) -> SandboxRefund | None:
        """The refund booked under a platform refund id, if any."""
        async with self._sessions() as session:
            return await session.get(SandboxRefund, refund_order_id)

    async def refunds_of(self, pay_order_id: str) -> Sequence[SandboxRefund]:
        """Every refund of a payment, in any state, oldest first (cancel reversals included)."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(SandboxRefund).where(SandboxRefund.pay_order_id == pay_order_id)
                .order_by(SandboxRefund.created_at, SandboxRefund.refund_order_id))
            refunds: Sequence[SandboxRefund] = found.all()
            return refunds

    async def bill_payments(self, start: datetime, end: datetime
                            ) -> AsyncIterator[Row[tuple[str, str, int, str, datetime]]]:
        """(pay_order_id, channel_order_no, amount, currency, paid_at) of the payments that
        succeeded in [start, end), oldest first, streamed."""
        async with self._sessions() as session:
            rows = await session.stream(
                select(SandboxPayment.pay_order_id, SandboxPayment.channel_order_no,
                       SandboxPayment.amount, SandboxPayment.currency, SandboxPayment.paid_at)
                .where(SandboxPayment.state == SandboxState.SUCCESS.value,
                       SandboxPayment.paid_at >= start, SandboxPayment.paid_at < end)
                .order_by(SandboxPayment.paid_at, SandboxPayment.pay_order_id)
                .execution_options(yield_per=_BILL_FETCH))
            async for row in rows:
                yield row

    async def bill_refunds(self, start: datetime, end: datetime
                           ) -> AsyncIterator[Row[tuple[str, str, str, str, int, str, datetime,
                                                        int]]]:
        """(refund_order_id, channel_refund_no, pay_order_id, channel_order_no, amount,
        currency, updated_at, refunded_before) of the refunds that succeeded in [start, end),
        oldest first; ``refunded_before``: what the payment's successful refunds requested
        before this one add up to (for the refund's share of the fee)."""
        earlier = aliased(SandboxRefund)
        refunded_before = (
            select(func.coalesce(func.sum(earlier.amount), 0))
            .where(earlier.pay_order_id == SandboxRefund.pay_order_id,
                   earlier.state == SandboxRefundState.SUCCESS.value,
                   or_(earlier.created_at < SandboxRefund.created_at,
                       and_(earlier.created_at == SandboxRefund.created_at,
                            earlier.refund_order_id < SandboxRefund.refund_order_id)))
            .scalar_subquery())
        async with self._sessions() as session:
            rows = await session.stream(
                select(SandboxRefund.refund_order_id, SandboxRefund.channel_refund_no,
                       SandboxRefund.pay_order_id, SandboxPayment.channel_order_no,
                       SandboxRefund.amount, SandboxPayment.currency, SandboxRefund.updated_at,
                       refunded_before)
                .join(SandboxPayment, SandboxPayment.pay_order_id == SandboxRefund.pay_order_id)
                .where(SandboxRefund.state == SandboxRefundState.SUCCESS.value,
                       SandboxRefund.updated_at >= start, SandboxRefund.updated_at < end)
                .order_by(SandboxRefund.updated_at, SandboxRefund.refund_order_id)
                .execution_options(yield_per=_BILL_FETCH))
            async for row in rows:
                yield row

    async def bill_mistakes(self, bill_date: date) -> Sequence[SandboxBillMistake]:
        """The planted mistakes that can touch the bill of ``bill_date``."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(SandboxBillMistake).where(or_(SandboxBillMistake.bill_date.is_(None),
                                                     SandboxBillMistake.bill_date == bill_date)))
            mistakes: Sequence[SandboxBillMistake] = found.all()
            return mistakes

    async def plant_mistake(self, mistake: SandboxBillMistake) -> None:
        """Stores a planted bill mistake, replacing one of the same kind about the same id."""
        async with self._sessions.begin() as session:
            await session.execute(delete(SandboxBillMistake).where(
                SandboxBillMistake.ref == mistake.ref, SandboxBillMistake.kind == mistake.kind))
            session.add(mistake)
