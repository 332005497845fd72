"""HTTP face of the simulated gateway: ACP endpoints verified from the raw form, and /__sim/."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from paymesh.services.simulators.ysfpay import pki
from paymesh.services.simulators.ysfpay.bills import FILE_TRANS
from paymesh.services.simulators.ysfpay.book import BookError, Outcome

if TYPE_CHECKING:
    from paymesh.services.simulators.ysfpay.simulator import YsfpaySimulator

BACK_TRANS = "/gateway/api/backTransReq.do"
QUERY_TRANS = "/gateway/api/queryTrans.do"
MAX_BODY = 64 * 1024


def make_handler(sim: YsfpaySimulator) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one simulator."""

    class Handler(BaseHTTPRequestHandler):
        """ACP gateway endpoints plus the /__sim/ test controls."""

        server_version = "UnionPaySimulator/5.1.0"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
            """Quiet: tests read the delivery log instead."""

        def do_GET(self) -> None:
            if self.path == "/__sim/book":
                self._json(200, sim.snapshot())
            elif self.path == "/__sim/deliveries":
                self._json(200, sim.deliveries())
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"error": "body too large"})
                return
            body = self.rfile.read(length)
            if self.path.startswith("/__sim/"):
                self._control(self.path.removeprefix("/__sim/"), body)
            elif self.path in (BACK_TRANS, QUERY_TRANS, FILE_TRANS):
                self._gateway(body)
            else:
                self._json(404, {"error": "not found"})

        def _gateway(self, body: bytes) -> None:
            fault = sim.next_fault()
            if fault is not None and fault.kind == "5xx":
                self._send(502, "text/html", b"<html>Bad Gateway</html>")
                return
            outcome = _answer(sim, self.path, body)
            if fault is not None and fault.kind in ("delay", "drop"):
                sim.after(outcome)  # the request was taken; only its answer goes missing
                if fault.kind == "delay":
                    time.sleep(fault.seconds)
                    self._send_answer(sim.signed(outcome.answer))
                else:
                    self.close_connection = True
                return
            self._send_answer(sim.signed(outcome.answer, fault))
            sim.after(outcome)

        def _send_answer(self, fields: dict[str, str]) -> None:
            # ACP answers are raw k=v&… texts, values not URL-encoded, as UnionPay sends them.
            text = "&".join(f"{key}={value}" for key, value in sorted(fields.items()))
            self._send(200, "text/plain;charset=UTF-8", text.encode("utf-8"))

        def _control(self, action: str, body: bytes) -> None:
            try:
                args = json.loads(body or b"{}")
                if not isinstance(args, dict):
                    raise ValueError("the body must be a JSON object")
                self._json(200, sim.control(action, args))
            except (BookError, KeyError, ValueError) as error:
                self._json(400, {"error": str(error)})

        def _json(self, status: int, payload: object) -> None:
            self._send(status, "application/json", json.dumps(payload).encode("utf-8"))

        def _send(self, status: int, content_type: str, data: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a delay fault longer than its timeout)

    return Handler


def _answer(sim: YsfpaySimulator, path: str, body: bytes) -> Outcome:
    """Verifies the request exactly as sent, then lets the book decide."""
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return Outcome({"respCode": "10", "respMsg": "报文格式错误"})
    fields = dict(pairs)
    echo: dict[str, str] = {k: fields[k] for k in ("txnType", "txnSubType", "merId", "orderId")
                            if k in fields}
    if len(fields) != len(pairs) or fields.get("version") != "5.1.0" \
            or fields.get("encoding") != "UTF-8":
        return Outcome({**echo, "respCode": "10", "respMsg": "报文格式错误"})
    if fields.get("signMethod") != "01" or fields.get("certId") != sim.pki.merchant.cert_id \
            or not pki.verify(fields, sim.pki.merchant.cert):
        return Outcome({**echo, "respCode": "11", "respMsg": "验证签名失败"})
    if path == FILE_TRANS:
        return Outcome(sim.reconciliation.transfer(fields))
    if (path == QUERY_TRANS) != (fields.get("txnType") == "00"):
        return Outcome({**echo, "respCode": "32", "respMsg": "无此交易权限"})
    return sim.book.handle(fields)
