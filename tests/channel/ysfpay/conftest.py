"""Fixtures: one simulator per session (fresh keys), reset between tests; an adapter; order ids;
and a tiny backUrl receiver that answers with what the adapter's verify_callback says."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.simulators.ysfpay import YsfpaySimulator

from .support import Receiver, callback

CLIENT_TIMEOUT = 0.5


@pytest.fixture(scope="session")
def simulator() -> Iterator[YsfpaySimulator]:
    with YsfpaySimulator(time_scale=0.001) as sim:
        yield sim


@pytest.fixture
def sim(simulator: YsfpaySimulator) -> YsfpaySimulator:
    """The session's simulator with default behaviour (barcodes succeed, refunds finish)."""
    simulator.set_barcode_mode("success")
    simulator.set_refund_mode("auto")
    while simulator.next_fault() is not None:
        pass
    return simulator


@pytest.fixture
def params(sim: YsfpaySimulator) -> dict[str, Any]:
    return sim.adapter_params()


@pytest.fixture
async def adapter() -> AsyncIterator[YsfpayAdapter]:
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as client:
        yield YsfpayAdapter(client)


_IDS = SnowflakeIds()


@pytest.fixture
def new_id() -> Callable[[str], str]:
    """paymesh-shaped order ids: a prefix and a snowflake number."""
    def new(prefix: str = "P") -> str:
        return f"{prefix}{_IDS.next()}"

    return new


@pytest.fixture
async def platform(adapter: YsfpayAdapter, params: dict[str, Any]) -> AsyncIterator[Receiver]:
    """A backUrl that verifies with the adapter and answers ack_ok or ack_retry accordingly."""
    async def respond(body: bytes) -> tuple[int, bytes]:
        result = await adapter.verify_callback(params, callback(body))
        ack = result.ack_ok if result.verified else result.ack_retry
        return ack.status, ack.body

    receiver = await Receiver(respond).start()
    yield receiver
    await receiver.stop()
