"""A stand-in for paymesh's callback endpoint: records what WeChat sends, answers as scripted."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from paymesh.services.channel.adapters.base import Callback


@dataclass(frozen=True)
class Received:
    """One delivery attempt as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    def callback(self) -> Callback:
        """What the gateway hands to the channel service."""
        return Callback(headers=self.headers, body=self.body,
                        content_type=self.headers.get("content-type", ""))


class CallbackReceiver:
    """Records every POST; answers each path with its scripted statuses, then 204."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._scripts: dict[str, list[tuple[int, bytes]]] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = receiver._record(Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                    time.monotonic()))
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *answers: tuple[int, bytes]) -> None:
        """The next answers for ``path``, in order."""
        with self._lock:
            self._scripts[path] = list(answers)

    def on(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Received]:
        """Bounded wait for ``count`` deliveries to ``path``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.on(path)
            if len(got) >= count:
                return got
            time.sleep(0.005)
        raise TimeoutError(f"{len(self.on(path))} of {count} deliveries to {path}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, item: Received) -> tuple[int, bytes]:
        with self._lock:
            self.received.append(item)
            script = self._scripts.get(item.path)
            return script.pop(0) if script else (204, b"")
