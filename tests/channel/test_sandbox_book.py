"""The sandbox book's conditional state changes, on the selected database backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from paymesh.services.channel.models import SandboxPayment, SandboxState
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
        book = SandboxBook(db.sessions(engine))
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
