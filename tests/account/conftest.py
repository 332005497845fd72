"""Fixtures of the account service tests: the domain service on the test database, and an
in-process server on port 0 with a real stub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

import pytest

from paymesh.account.v1 import account_pb2_grpc
from paymesh.services.account import service as ledger_module
from paymesh.services.account.server import create
from paymesh.services.account.service import AccountService
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.common.grpcserver import RunningServer


@pytest.fixture
async def service(config: MeshConfig) -> AsyncIterator[AccountService]:
    """The domain service over a migrated, empty account database."""
    engine = open_engine(config.db_urls["account"])
    yield AccountService(sessions(engine))
    await engine.dispose()


@pytest.fixture
async def server(config: MeshConfig) -> AsyncIterator[RunningServer]:
    running = await create(config, "127.0.0.1:0")
    yield running
    await running.stop(grace=1.0)


@pytest.fixture
async def stub(server: RunningServer) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with open_channel(f"127.0.0.1:{server.port}") as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Sets the instant (aware UTC) the ledger records the next postings at."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(ledger_module, "utc_now", lambda: moment)

    return set_clock
