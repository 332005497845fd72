"""The simulator as an HTTP server on 127.0.0.1, and the object tests drive it through.

Routes: ``/gateway.do`` (GET or POST) is the OpenAPI gateway and the page/wap cashier;
``GET /oauth2/publicAppAuthorize.htm`` is the web-authorisation page (:mod:`.oauth`, on the
adapter's ``oauthBase``); ``GET /downloadBillFile.resource`` serves the bill zips that
``alipay.data.dataservice.bill.downloadurl.query`` points to (:mod:`.bills`); everything under
``/__sim/`` is a test control, never part of Alipay's protocol:

==========================  ===============================================================
POST /__sim/pay             {"out_trade_no", "buyer_id"?}: the payer pays (scans first)
POST /__sim/scan            {"out_trade_no"}: the payer scans a precreate code (trade exists)
POST /__sim/fail            {"out_trade_no"}: the trade times out unpaid (TRADE_CLOSED)
POST /__sim/finish          {"out_trade_no"}: TRADE_SUCCESS → TRADE_FINISHED
POST /__sim/barcode         {"auth_code", "mode": pay|password|insufficient}
POST /__sim/password        {"out_trade_no", "result": pay|fail}: finish a PIN wait
POST /__sim/fault           a :class:`Fault` as JSON, plus "times" (default 1)
POST /__sim/notify          {"out_trade_no", "variant", "url"?}: one crafted notification
POST /__sim/app_pay         {"order_string"}: the Alipay app opens an app-pay order string
POST /__sim/advance         {"seconds"}: moves the simulator clock forward
POST /__sim/oauth           {"user_id"?, "id_type"?: both|user_id|open_id}: who authorises
POST /__sim/bill_mistake    {"kind", "out_trade_no", "out_request_no"?, "fen"?, "bill_date"?}:
                            make the bill disagree (amount, fee, status, extra, missing) or
                            break it (tamper, truncate); kind clear forgets them
GET  /__sim/book            every trade and refund
GET  /__sim/deliveries      every notification attempt and its answer
==========================  ===============================================================
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from paymesh.services.simulators.alipay.bills import (
    BILL_METHOD,
    DEFAULT_FEE_RATE,
    DEFAULT_READY_DELAY,
    DOWNLOAD_PATH,
    Bills,
)
from paymesh.services.simulators.alipay.book import Book, Refusal
from paymesh.services.simulators.alipay.controls import Controls
from paymesh.services.simulators.alipay.crypto import KeyPair
from paymesh.services.simulators.alipay.gateway import Gateway, Reply
from paymesh.services.simulators.alipay.methods import Methods
from paymesh.services.simulators.alipay.notifier import Notifier
from paymesh.services.simulators.alipay.oauth import AUTHORIZE_PATH, OAuth

APP_ID = "2021000000000001"
SUB_MERCHANT_APP_ID = "2021000000000002"
# Alipay's pauses span 25 h; 1e-4 makes the whole schedule last under 9 s.
DEFAULT_TIME_SCALE = 1e-4


class AlipaySimulator:
    """A stateful Alipay OpenAPI on an ephemeral loopback port, with fresh keys per run."""

    def __init__(self, port: int = 0, time_scale: float = DEFAULT_TIME_SCALE, *,
                 fee_rate: str = DEFAULT_FEE_RATE,
                 bill_delay: float = DEFAULT_READY_DELAY) -> None:
        self._offset = 0.0
        self._stop = threading.Event()
        self._other_key: KeyPair | None = None
        self.app_key = KeyPair.generate()
        self.alipay_key = KeyPair.generate()
        self.app_auth_token = "202406BB" + secrets.token_hex(16)
        self.book = Book()
        self.notifier = Notifier(self.alipay_key, self.now, time_scale, self._stop)
        self.methods = Methods(self.book, self.now, self.notifier.deliver)
        self.bills = Bills(self.book, self.now, lambda: self.base_url, fee_rate, bill_delay)
        self.methods.handlers[BILL_METHOD] = self.bills.query
        self.oauth = OAuth({APP_ID}, self.now)
        self.gateway = Gateway({APP_ID: self.app_key}, {self.app_auth_token: SUB_MERCHANT_APP_ID},
                               self.alipay_key, self.methods, self.other_key, self.oauth)
        self.controls = Controls(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="alipay-simulator", daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def gateway_url(self) -> str:
        """The OpenAPI gateway URL (the adapter's ``apiBase``)."""
        return self.base_url + "/gateway.do"

    def now(self) -> float:
        """The simulator's clock: wall time plus whatever tests advanced it by."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Moves the simulator clock forward (expiries, timestamps)."""
        self._offset += seconds

    def other_key(self) -> KeyPair:
        """A key that is not Alipay's, made on first use, for forged signatures."""
        if self._other_key is None:
            self._other_key = KeyPair.generate()
        return self._other_key

    def adapter_params(self, *, isv: bool = False) -> dict[str, Any]:
        """The channel params an adapter needs to talk to this simulator."""
        params: dict[str, Any] = {"appId": APP_ID, "privateKey": self.app_key.private_pem,
                                  "alipayPublicKey": self.alipay_key.public_pem,
                                  "signType": "RSA2", "apiBase": self.gateway_url,
                                  "oauthBase": self.base_url}
        if isv:
            params["sub"] = {"appAuthToken": self.app_auth_token}
        return params

    def start(self) -> AlipaySimulator:
        """Starts serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and cancels pending notification retries."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> AlipaySimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def control(self, name: str, **body: Any) -> Any:
        """Calls ``/__sim/<name>`` over HTTP (POST with a JSON body, GET without one)."""
        data = json.dumps(body).encode("utf-8") if body else None
        request = urllib.request.Request(f"{self.base_url}/__sim/{name}", data=data,
                                         method="POST" if body else "GET",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise SimulatorRefused(error.code, json.loads(error.read() or b"{}")) from None

    def pay(self, out_trade_no: str, buyer_id: str = "") -> Any:
        """The payer pays the trade (shortcut for ``/__sim/pay``)."""
        return self.control("pay", out_trade_no=out_trade_no, buyer_id=buyer_id)

    def fault(self, kind: str, **options: Any) -> Any:
        """Spoils the next matching answer (shortcut for ``/__sim/fault``)."""
        return self.control("fault", kind=kind, **options)

    def trade(self, out_trade_no: str) -> dict[str, Any]:
        """One trade of ``/__sim/book``."""
        trades = self.control("book")["trades"]
        return next(t for t in trades if t["out_trade_no"] == out_trade_no)


class SimulatorRefused(Exception):
    """A control request the simulator refused, with its JSON answer."""

    def __init__(self, status: int, answer: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}: {answer}")
        self.status = status
        self.answer = answer


def _handler(sim: AlipaySimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes: without this, Nagle's algorithm and
            # delayed ACKs add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._route(b"")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self._route(self.rfile.read(length))

        def _route(self, body: bytes) -> None:
            url = urlsplit(self.path)
            if url.path == "/gateway.do":
                params = dict(parse_qsl(url.query, keep_blank_values=True))
                if body and "form" in (self.headers.get("Content-Type") or ""):
                    params.update(parse_qsl(body.decode("utf-8", "replace"),
                                            keep_blank_values=True))
                self._send(sim.gateway.handle(params))
            elif url.path == AUTHORIZE_PATH and self.command == "GET":
                redirect = sim.oauth.authorize(dict(parse_qsl(url.query,
                                                              keep_blank_values=True)))
                if redirect.location:
                    self._send(Reply(302, "text/plain", b"", headers={
                        "Location": redirect.location}))
                else:
                    self._send(Reply(redirect.status, "text/html;charset=utf-8",
                                     redirect.page()))
            elif url.path == DOWNLOAD_PATH and self.command == "GET":
                status, content_type, data, headers = sim.bills.download(
                    dict(parse_qsl(url.query)))
                self._send(Reply(status, content_type, data, headers=headers))
            elif url.path.startswith("/__sim/"):
                self._send(sim.controls.run(self.command, url.path[7:], body))
            else:
                self._send(Reply(404, "text/plain", b"not found"))

        def _send(self, reply: Reply) -> None:
            if reply.delay and sim._stop.wait(reply.delay):
                return
            if reply.drop:
                self.close_connection = True
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the delivery log instead."""

    return Handler


__all__ = ["APP_ID", "SUB_MERCHANT_APP_ID", "AlipaySimulator", "Book", "Refusal",
           "SimulatorRefused"]
