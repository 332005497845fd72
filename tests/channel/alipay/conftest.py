"""Fixtures: per test module, one simulator (fresh keys), one HTTP client and one adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.simulators.alipay import AlipaySimulator

# Alipay's 25 h of retry pauses squeezed into about 0.9 s.
TIME_SCALE = 1e-5
CLIENT_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def sim() -> Iterator[AlipaySimulator]:
    with AlipaySimulator(time_scale=TIME_SCALE) as running:
        yield running


@pytest.fixture(scope="module")
def params(sim: AlipaySimulator) -> dict[str, Any]:
    return sim.adapter_params()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as client:
        yield client


@pytest.fixture(scope="module")
def adapter(http: httpx.AsyncClient) -> AlipayAdapter:
    return AlipayAdapter(http)
