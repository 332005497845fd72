"""A fault-injecting HTTP proxy in front of a channel simulator (or any plain-HTTP upstream).

The channel service is configured with the proxy's URL as the channel's API base; the proxy
forwards each request byte for byte and returns the upstream's answer byte for byte (status,
headers, body: the channel's signature over the answer stays valid), unless a fault is on:

- ``timeout``: the request is forwarded and carried out, then the answer is held for
  ``hold`` seconds (past any client deadline) and the connection closed without it: the caller
  cannot know what happened (the outcome is unknown);
- ``http500``: an HTTP 500 system error is answered at once and nothing is forwarded: the
  channel never acted;
- ``slow``: the answer comes ``delay`` seconds late, but comes.

Faults are switched on and off while traffic flows (``set_fault``), so a drill can say "for 20
seconds the channel times out". Counters say how many requests each fault touched.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

FAULTS = ("none", "timeout", "http500", "slow")
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "proxy-connection",
                         "te", "trailer", "upgrade", "content-length"})
UPSTREAM_TIMEOUT = 30.0
SYSTEM_ERROR = '{"code":"SYSTEM_ERROR","message":"系统错误"}'.encode()


class FaultProxy:
    """Listens on a free loopback port and forwards to ``upstream`` (``http://host:port``)."""

    def __init__(self, upstream: str, *, hold: float = 15.0, delay: float = 2.0) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.hold = hold
        self.delay = delay
        self.fault = "none"
        self.touched: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="drill-fault-proxy")
        self._thread.start()

    def set_fault(self, fault: str) -> None:
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self.fault = fault

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _forward(self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
                 ) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(self._host, self._port, timeout=UPSTREAM_TIMEOUT)
        try:
            upstream.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_HEADERS:
                    upstream.putheader(name, value)
            upstream.putheader("Content-Length", str(len(body)))
            upstream.endheaders(body)
            answer = upstream.getresponse()
            return answer.status, [(k, v) for k, v in answer.getheaders()
                                   if k.lower() not in HOP_HEADERS], answer.read()
        finally:
            upstream.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with proxy._lock:
                    fault = proxy.fault
                    proxy.touched[fault] += 1
                if fault == "http500":
                    self._answer(500, [("Content-Type", "application/json")], SYSTEM_ERROR)
                    return
                if fault == "slow":
                    time.sleep(proxy.delay)
                try:
                    status, headers, payload = proxy._forward(method, self.path,
                                                              list(self.headers.items()), body)
                except OSError:
                    self.close_connection = True  # the upstream is gone: so is the answer
                    return
                if fault == "timeout":
                    time.sleep(proxy.hold)
                    self.close_connection = True
                    return
                self._answer(status, headers, payload)

            def _answer(self, status: int, headers: list[tuple[str, str]],
                        payload: bytes) -> None:
                self.send_response_only(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler
