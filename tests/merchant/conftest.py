"""Fixtures of the merchant service tests: an in-process server on port 0 and a real stub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.grpcserver import RunningServer
from paymesh.services.merchant.server import create


@pytest.fixture
async def server(config: MeshConfig) -> AsyncIterator[RunningServer]:
    running = await create(config, "127.0.0.1:0")
    yield running
    await running.stop(grace=1.0)


@pytest.fixture
async def stub(server: RunningServer) -> AsyncIterator[merchant_pb2_grpc.MerchantServiceStub]:
    async with open_channel(f"127.0.0.1:{server.port}") as channel:
        yield merchant_pb2_grpc.MerchantServiceStub(channel)
