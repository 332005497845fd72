"""Tests of the channel service, and the helpers its test modules share.

The helpers: an in-process channel service on port 0 with real stubs, a second sandbox adapter on
the same database for the sandbox's test controls (finish_refund) and its book, and a tiny HTTP
receiver on 127.0.0.1 that plays the platform's callback endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.services.channel.adapters.sandbox import SandboxAdapter
from paymesh.services.channel.delivery import CallbackDelivery
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.channel.server import create
from paymesh.services.common import db
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.grpcserver import RunningServer
from paymesh.services.common.secretbox import SecretBox

KEY = "sandbox-test-key-0123456789"
PARAMS = json.dumps({"key": KEY})
# Short pauses between callback attempts, so the retry test does not wait a minute.
FAST_RETRIES = (0.05, 0.1, 0.1)


@dataclass
class ChannelMesh:
    """A running channel service and stubs to call it."""

    config: MeshConfig
    server: RunningServer
    channel: channel_pb2_grpc.ChannelServiceStub
    page: channel_pb2_grpc.SandboxPageServiceStub


@contextlib.asynccontextmanager
async def running_channel(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    """The channel service on a free port, stopped (retries cancelled) on exit."""
    server = await create(config, "127.0.0.1:0", retry_delays=FAST_RETRIES)
    grpc_channel = open_channel(f"127.0.0.1:{server.port}")
    try:
        yield ChannelMesh(config, server, channel_pb2_grpc.ChannelServiceStub(grpc_channel),
                          channel_pb2_grpc.SandboxPageServiceStub(grpc_channel))
    finally:
        await grpc_channel.close()
        await server.stop(0)


@dataclass
class SandboxControls:
    """The sandbox adapter and book on a running channel service's database, for test controls."""

    sandbox: SandboxAdapter
    book: SandboxBook


@contextlib.asynccontextmanager
async def sandbox_controls(config: MeshConfig) -> AsyncIterator[SandboxControls]:
    """A sandbox adapter on ``config``'s channel database, as an operator's console would hold."""
    engine = db.open_engine(config.db_urls["channel"])
    client = httpx.AsyncClient()
    delivery = CallbackDelivery(client, FAST_RETRIES)
    book = SandboxBook(engine)
    sandbox = SandboxAdapter(book, delivery, config.public_url,
                             SecretBox(config.require_master_key()))
    try:
        yield SandboxControls(sandbox, book)
    finally:
        await delivery.close()
        await client.aclose()
        await engine.dispose()


def pay_request(pay_order_id: str, way_code: str = "ALI_WAP", amount: int = 1234,
                subject: str = "Sandbox tea", channel_extra: str = "",
                notify_url: str = "http://127.0.0.1:9/notify", params: str = PARAMS,
                if_code: str = "sandbox") -> channel_pb2.PayRequest:
    """A PayRequest as the gateway would send it."""
    return channel_pb2.PayRequest(
        if_code=if_code, channel_params_json=params, notify_url=notify_url,
        order=channel_pb2.PaymentOrder(
            pay_order_id=pay_order_id, way_code=way_code, amount=amount, currency="cny",
            subject=subject, channel_extra=channel_extra))


def token_of(pay_data: str) -> str:
    """The page token at the end of a sandbox pay URL."""
    return pay_data.rsplit("/sandbox/pay/", 1)[1]


@dataclass(frozen=True)
class Received:
    """One HTTP request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CallbackReceiver:
    """An HTTP/1.1 endpoint answering with scripted (status, body) pairs, the last one repeating."""

    answers: list[tuple[int, str]] = field(default_factory=lambda: [(200, "success")])
    requests: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    url: str = ""
    _server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/api/pay/notify/sandbox"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def next(self, timeout: float = 5.0) -> Received:
        """The next request received, waiting at most ``timeout`` seconds."""
        return await asyncio.wait_for(self.requests.get(), timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                await self.requests.put(Received(method, path, headers, body))
                status, text = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
                data = text.encode()
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\n"
                             f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

