"""A real Redis that a test can take away and bring back, and a port where nothing listens.

A throw-away ``redis-server`` on a free port when one is installed (the drills' PrivateRedis);
otherwise the shared Redis at 127.0.0.1:6379 behind a loopback forwarder that the test closes
and opens again (the keys then live under a unique prefix of the test's own).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
from pathlib import Path

import redis.asyncio as aioredis

from paymesh.services.drills.servers import PrivateRedis
from tests.conftest import free_port, require_server

SHARED_HOST, SHARED_PORT = "127.0.0.1", 6379


def closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # released on return, and nothing else binds it


class _Forwarder:
    """Forwards a loopback port to the shared Redis while it is open."""

    def __init__(self) -> None:
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(self._carry, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(SHARED_HOST, SHARED_PORT)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


class RestartableRedis:
    """A Redis at ``url`` that is down until ``start`` and can be stopped and started again.

    Use it as ``async with RestartableRedis(tmp_path) as redis:``; leaving stops it.
    """

    def __init__(self, directory: Path) -> None:
        self.prefix = f"pmtest:{secrets.token_hex(8)}:"
        self._private: PrivateRedis | None = None
        self._forwarder: _Forwarder | None = None
        if shutil.which("redis-server"):
            self._private = PrivateRedis(directory)
            self.url = self._private.url
        else:
            require_server("Redis", SHARED_HOST, SHARED_PORT)
            self._forwarder = _Forwarder()
            self.url = f"redis://127.0.0.1:{self._forwarder.port}/0"

    async def start(self) -> None:
        if self._private is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._private.start)
        else:
            assert self._forwarder is not None
            await self._forwarder.open()

    async def stop(self) -> None:
        if self._private is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._private.stop)
        else:
            assert self._forwarder is not None
            await self._forwarder.close()

    async def keys(self) -> set[str]:
        """The keys under this test's prefix, read with a client of the test's own."""
        client = aioredis.from_url(self.url, decode_responses=True)
        try:
            return {key.removeprefix(self.prefix)
                    async for key in client.scan_iter(match=self.prefix + "*")}
        finally:
            await client.aclose()

    async def __aenter__(self) -> RestartableRedis:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Drops the test's keys and stops the server."""
        with contextlib.suppress(Exception):
            client = aioredis.from_url(self.url)
            try:
                keys = [key async for key in client.scan_iter(match=self.prefix + "*")]
                if keys:
                    await client.delete(*keys)
            finally:
                await client.aclose()
        await self.stop()

