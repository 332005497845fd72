"""The merchant's notification endpoint during a drill: a real HTTP server on loopback.

It verifies each notification's signature with the app secret, answers ``SUCCESS``, and records
what it got per order (pay notifications by payOrderId, refund notifications by refundOrderId).
``down()`` closes the listening socket, so the gateway's attempts are refused as they would be
by a merchant whose server is off; ``up()`` listens again on the same port.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

from paymesh.services.common import signing

PAY_PATH = "/notify/pay"
REFUND_PATH = "/notify/refund"


@dataclass(frozen=True)
class Notice:
    """One notification as the merchant got it."""

    at: float  # time.time()
    order_id: str
    state: int
    signed: bool  # the signature verified with the app secret


class MerchantEndpoint:
    """Records notifications; can be taken down and brought back."""

    def __init__(self, secret: str) -> None:
        self._secret = secret
        self._lock = threading.Lock()
        self.pay: dict[str, list[Notice]] = {}
        self.refund: dict[str, list[Notice]] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def up(self) -> None:
        """Listens (again, on the same port once it had one)."""
        if self._server is not None:
            return
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="drill-merchant-endpoint")
        self._thread.start()

    def down(self) -> None:
        """Stops listening: connections are refused until ``up()``."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)

    def close(self) -> None:
        self.down()

    def notices(self, kind: str, order_id: str) -> list[Notice]:
        with self._lock:
            return list((self.pay if kind == "pay" else self.refund).get(order_id, []))

    def count(self) -> int:
        with self._lock:
            return sum(map(len, self.pay.values())) + sum(map(len, self.refund.values()))

    def _record(self, path: str, form: dict[str, str]) -> None:
        signed = signing.verify({k: v for k, v in form.items()}, self._secret, "MD5",
                                form.get("sign", ""))
        state = int(form["state"]) if form.get("state", "").isdigit() else -1
        with self._lock:
            if path == REFUND_PATH:
                key, book = form.get("refundOrderId", ""), self.refund
            else:
                key, book = form.get("payOrderId", ""), self.pay
            book.setdefault(key, []).append(Notice(time.time(), key, state, signed))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                endpoint._record(self.path, dict(parse_qsl(body, keep_blank_values=True)))
                payload = b"SUCCESS"
                self.send_response(200)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler
