"""The sandbox book's conditional state changes, on the selected database backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, OperationalError

from paymesh.services.channel.models import (
    SandboxPayment,
    SandboxRefund,
    SandboxRefundState,
    SandboxState,
)
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.common import db
from paymesh.services.common.config import MeshConfig

NOW = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def payment(token: str, pay_order_id: str) -> SandboxPayment:
    return SandboxPayment(
        token=token, pay_order_id=pay_order_id, amount=1, currency="cny", subject="s",
        way_code="ALI_WAP", notify_url="http://127.0.0.1:9/n", key_sealed="v1:sealed",
        state=SandboxState.WAITING.value, channel_order_no="SB1", created_at=NOW,
        expire_at=None, updated_at=NOW)


async def test_a_state_moves_only_from_an_allowed_state(config: MeshConfig) -> None:
    engine = db.open_engine(config.db_urls["channel"])
    try:
        book = SandboxBook(engine)
        await book.add_once(payment("t1", "P1"))
        moves = await asyncio.gather(
            book.move("t1", [SandboxState.WAITING], SandboxState.SUCCESS, NOW),
            book.move("t1", [SandboxState.WAITING], SandboxState.FAIL, NOW),
            book.move("t1", [SandboxState.WAITING], SandboxState.CLOSED, NOW))
        assert sorted(moves) == [False, False, True]
        winner = [SandboxState.SUCCESS, SandboxState.FAIL, SandboxState.CLOSED][moves.index(True)]
        stored = await book.by_token("t1")
        assert stored is not None and stored.state == winner
        assert stored.created_at == NOW  # microseconds kept on every backend

        # The same pay order booked again returns the first booking, not a second payment.
        again = await book.add_once(payment("t2", "P1"))
        assert again.token == "t1"
        assert await book.by_token("t2") is None
    finally:
        await engine.dispose()


def refund(refund_order_id: str, amount: int,
           state: SandboxRefundState = SandboxRefundState.SUCCESS) -> SandboxRefund:
    return SandboxRefund(refund_order_id=refund_order_id, pay_order_id="P1", amount=amount,
                         state=state.value, channel_refund_no="SBR1", reason="", created_at=NOW,
                         updated_at=NOW)


async def test_refunds_are_booked_within_the_paid_amount(config: MeshConfig) -> None:
    engine = db.open_engine(config.db_urls["channel"])
    try:
        book = SandboxBook(engine)
        paid = payment("t1", "P1")
        paid.amount, paid.state = 100, SandboxState.SUCCESS.value
        await book.add_once(paid)

        held = refund("R1", 70, SandboxRefundState.PROCESSING)
        assert await book.book_refund(held, NOW) is held
        assert await book.book_refund(refund("R2", 31), NOW) is None
        assert await book.settle_refund("R1", success=False, now=NOW)
        assert not await book.settle_refund("R1", success=True, now=NOW)  # already ended
        booked = await book.book_refund(refund("R2", 100), NOW)
        assert booked is not None and booked.amount == 100
        again = await book.book_refund(refund("R2", 5), NOW)  # same id: the first booking
        assert again is not None and again.amount == 100
        assert [(r.refund_order_id, r.state) for r in await book.refunds_of("P1")] == [
            ("R1", "FAILED"), ("R2", "SUCCESS")]

        # The database itself refuses a refunded total above the amount (MariaDB reports a
        # failed CHECK as error 4025, an OperationalError).
        with pytest.raises((IntegrityError, OperationalError)):
            async with db.sessions(engine).begin() as session:
                await session.execute(update(SandboxPayment)
                                      .where(SandboxPayment.token == "t1")
                                      .values(refunded_amount=101))
    finally:
        await engine.dispose()
