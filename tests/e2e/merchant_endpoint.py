"""A merchant's notification endpoint for the end-to-end tests: a real HTTP server on loopback.

It runs in its own thread, so it keeps answering while a test blocks (a CLI call), records every
request with the time it arrived, and answers each path from a script of (status, body) pairs;
once a path's script is used up it answers 200 ``SUCCESS``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest


@dataclass(frozen=True)
class Received:
    """One notification as the merchant got it."""

    at: float  # time.time()
    content_type: str
    form: dict[str, str]


class MerchantEndpoint:
    """Scripted answers and recorded requests, per path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[tuple[int, str]]] = {}
        self._received: dict[str, list[Received]] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def script(self, path: str, *answers: tuple[int, str]) -> None:
        with self._lock:
            self._scripts[path] = list(answers)

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return list(self._received.get(path, []))

    async def wait_for(self, path: str, count: int, timeout: float = 15.0) -> list[Received]:
        """The path's requests once there are at least ``count`` (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while len(self.received(path)) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{path} got {len(self.received(path))} of {count} notifications")
            await asyncio.sleep(0.05)
        return self.received(path)

    def _answer(self, path: str, received: Received) -> tuple[int, str]:
        with self._lock:
            self._received.setdefault(path, []).append(received)
            script = self._scripts.get(path, [])
            return script.pop(0) if script else (200, "SUCCESS")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                received = Received(time.time(), self.headers.get("content-type") or "",
                                    dict(parse_qsl(body, keep_blank_values=True)))
                status, text = endpoint._answer(self.path, received)
                payload = text.encode("utf-8")
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler

    def __enter__(self) -> MerchantEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
