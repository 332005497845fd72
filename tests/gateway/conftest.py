"""Fixtures of the gateway's unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine


@dataclass
class MerchantEndpoint:
    """A merchant's notification endpoint on loopback: answers SUCCESS after ``delay`` seconds
    and records every body it received."""

    url: str = ""
    delay: float = 0.2
    received: list[bytes] = field(default_factory=list)


@pytest.fixture
async def merchant() -> AsyncIterator[MerchantEndpoint]:
    endpoint = MerchantEndpoint()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))
        endpoint.received.append(await reader.readexactly(length))
        await asyncio.sleep(endpoint.delay)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nSUCCESS")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    endpoint.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/notify"
    yield endpoint
    server.close()
    await server.wait_closed()


@pytest.fixture
async def engine(config: MeshConfig) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's gateway database."""
    engine = open_engine(config.db_urls["gateway"])
    yield engine
    await engine.dispose()
