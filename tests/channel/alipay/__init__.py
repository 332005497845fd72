"""Tests of the Alipay adapter against the Alipay simulator, and of the simulator itself.

Helpers: unique order numbers and a thread-based notification receiver on 127.0.0.1 that
answers each notification with a scripted body (a thread, not the test's event loop, because
the simulator's controls are synchronous HTTP calls).
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from paymesh.services.channel.adapters.base import Callback, PaymentOrder

FORM = "application/x-www-form-urlencoded; charset=utf-8"


def order_id(prefix: str = "P") -> str:
    """A fresh merchant order number, so tests sharing a simulator never collide."""
    return prefix + uuid.uuid4().hex[:20]


def order(way_code: str, amount: int = 1, extra: str = "", **fields: Any) -> PaymentOrder:
    """A pay order for ``way_code`` with a fresh number."""
    return PaymentOrder(pay_order_id=fields.pop("pay_order_id", order_id()), way_code=way_code,
                        amount=amount, currency="cny", subject=fields.pop("subject", "测试商品"),
                        channel_extra=extra, **fields)


def callback(body: bytes | str) -> Callback:
    """A notification as the gateway hands it to the channel service."""
    raw = body.encode("ascii") if isinstance(body, str) else body
    return Callback(headers={"content-type": FORM}, body=raw, content_type=FORM)


@dataclass
class Receiver:
    """The platform's notify endpoint: records bodies, answers ``replies`` then ``success``."""

    replies: list[bytes] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The first ``count`` bodies, waiting at most ``timeout`` seconds for them."""
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if len(self.bodies) >= count:
                return self.bodies[:count]
            deadline.wait(0.02)
        raise AssertionError(f"expected {count} notifications, got {len(self.bodies)}")


@contextmanager
def receiver(replies: list[bytes] | None = None) -> Iterator[Receiver]:
    """A running :class:`Receiver` on an ephemeral port."""
    state = Receiver(replies=list(replies or []))

    class Handler(BaseHTTPRequestHandler):
        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            reply = state.replies.pop(0) if state.replies else b"success"
            state.bodies.append(body)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/channel/notify/alipay"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
