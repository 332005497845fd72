"""Helpers shared by the ysfpay tests: a Callback from a body, and a backUrl receiver."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from paymesh.services.channel.adapters.base import Callback

FORM = "application/x-www-form-urlencoded"
Responder = Callable[[bytes], Awaitable[tuple[int, bytes]]]


def callback(body: bytes) -> Callback:
    return Callback(headers={"content-type": FORM}, body=body, content_type=FORM)


@dataclass
class Receiver:
    """The platform's backUrl: each POST is answered by ``responder`` and remembered."""

    responder: Responder
    bodies: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    url: str = ""
    _server: asyncio.Server | None = None

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/api/notify"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def next(self, timeout: float = 5.0) -> bytes:
        return await asyncio.wait_for(self.bodies.get(), timeout)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readline()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, data = await self.responder(body)
            await self.bodies.put(body)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\n"
                         "Connection: close\r\n\r\n".encode() + data)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


async def wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    """Polls ``predicate`` every 10 ms; fails the test after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)
