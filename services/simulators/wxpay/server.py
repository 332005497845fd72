"""HTTP plumbing of the simulator: a threaded stdlib server on 127.0.0.1, faults, signed answers.

Every answer to an authenticated request is signed over the exact bytes written to the socket
(§6.4), with the key the merchant asked for through ``Wechatpay-Serial`` (the WeChat Pay public key
when it sent the ``PUB_KEY_ID_…``, else the platform certificate). Faults, injected by tests, bend
exactly one answer each: a 5xx, a delay, a dropped connection, a tampered or unsigned body, a
signature by a key nobody knows, an unknown serial.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from paymesh.services.simulators.wxpay.bills import BillFile
from paymesh.services.simulators.wxpay.keys import new_rsa_key, sign_sha256_rsa

if TYPE_CHECKING:
    from paymesh.services.simulators.wxpay.simulator import WxpaySimulator

FAULT_KINDS = frozenset({"http500", "delay", "drop", "tamper", "unsigned", "wrong_key",
                         "unknown_serial"})


@dataclass
class Fault:
    """One injected misbehaviour for the next ``count`` requests whose path contains ``path``.

    ``process``: whether the request is carried out before the fault bends the answer (always for
    everything but ``http500``, where it is the caller's choice: did WeChat act, or not?).
    """

    kind: str
    path: str = ""
    count: int = 1
    seconds: float = 0.0
    process: bool = True


class FaultPlan:
    """The faults waiting for requests, consumed in order."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Queues a fault; ValueError for an unknown kind."""
        if fault.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault.kind!r}; known: {sorted(FAULT_KINDS)}")
        with self._lock:
            self._faults.append(fault)

    def take(self, path: str) -> Fault | None:
        """The first fault matching ``path``, used up once."""
        with self._lock:
            for fault in self._faults:
                if fault.path in path:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


@dataclass(frozen=True)
class Reply:
    """An answer before signing: status, JSON (None for an empty body), whether to sign it.

    ``bill``: a bill download instead of JSON, never signed (a ``tamper`` fault alters it).
    """

    status: int
    data: dict[str, Any] | None = None
    signed: bool = True
    bill: BillFile | None = None


def error(status: int, code: str, message: str, *, signed: bool = True) -> Reply:
    """WeChat's error body ``{"code","message"}``."""
    return Reply(status, {"code": code, "message": message}, signed)


class SimHttpServer(ThreadingHTTPServer):
    """The listening socket, bound to its simulator."""

    daemon_threads = True

    def __init__(self, sim: WxpaySimulator, port: int) -> None:
        self.sim = sim
        super().__init__(("127.0.0.1", port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: SimHttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: tests read the delivery log and the book instead."""

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        sim = self.server.sim
        if self.path.startswith("/__sim/"):
            status, data = sim.control(method, self.path, body)
            self._write(status, json.dumps(data, ensure_ascii=False).encode("utf-8"), {})
            return
        fault = sim.faults.take(self.path)
        if self.path.startswith(("/connect/", "/sns/")):
            self._serve_oauth(method, fault)
            return
        if fault and fault.kind == "http500" and not fault.process:
            self._send(error(500, "SYSTEM_ERROR", "系统错误", signed=False), None, "")
            return
        authorizations = self.headers.get_all("Authorization") or []
        # A repeated Authorization header is malformed, like any other bad header.
        authorization = authorizations[0] if len(authorizations) == 1 else None
        reply = sim.serve_v3(method, self.path, authorization, body)
        if fault is None:
            self._send(reply, None, self.headers.get("Wechatpay-Serial", ""))
            return
        if fault.kind == "drop":
            self.close_connection = True
            self.wfile.flush()
            return
        if fault.kind == "delay":
            time.sleep(fault.seconds)
        if fault.kind == "http500":
            reply = error(500, "SYSTEM_ERROR", "系统错误", signed=False)
        self._send(reply, fault, self.headers.get("Wechatpay-Serial", ""))

    def _serve_oauth(self, method: str, fault: Fault | None) -> None:
        """Web OAuth: unsigned, as WeChat's; faults ``http500``, ``delay`` and ``drop`` apply."""
        kind = fault.kind if fault else ""
        if kind == "delay" and fault:
            time.sleep(fault.seconds)
        if kind == "drop":
            self.close_connection = True
            self.wfile.flush()
            return
        if kind == "http500":
            self._write(500, b'{"errcode":-1,"errmsg":"system error"}', {})
            return
        status, data, location = self.server.sim.serve_oauth(method, self.path)
        body = b"" if data is None else json.dumps(data, ensure_ascii=False).encode("utf-8")
        self._write(status, body, {"Location": location} if location else {})

    def _send(self, reply: Reply, fault: Fault | None, asked_serial: str) -> None:
        if reply.bill is not None:
            self._send_bill(reply.bill, tamper=fault is not None and fault.kind == "tamper")
            return
        body = b"" if reply.data is None else json.dumps(
            reply.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Request-ID": secrets.token_hex(16)}
        kind = fault.kind if fault else ""
        if reply.signed and kind != "unsigned":
            sim = self.server.sim
            serial, key = sim.keys.signer(
                "publickey" if asked_serial == sim.keys.public_key_id else "certificate")
            if kind == "wrong_key":
                key = new_rsa_key()
            if kind == "unknown_serial":
                serial = secrets.token_hex(20).upper()
            stamp, nonce = str(int(sim.now())), secrets.token_hex(16)
            signature = sign_sha256_rsa(key, f"{stamp}\n{nonce}\n".encode() + body + b"\n")
            headers.update({"Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                            "Wechatpay-Signature": signature, "Wechatpay-Serial": serial,
                            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048"})
        if kind == "tamper":
            body = (body.replace(b'"NOTPAY"', b'"SUCCESS"') if b'"NOTPAY"' in body
                    else body.replace(b"PROCESSING", b"SUCCESS") if b"PROCESSING" in body
                    else body + b" ")
        self._write(reply.status, body, headers)

    def _send_bill(self, bill: BillFile, *, tamper: bool) -> None:
        """The bill's bytes (streamed from a pre-made file), gzipped if asked, unsigned."""
        extra = b" " if tamper else b""
        if bill.path is not None and not bill.gzip:
            with open(bill.path, "rb") as source:
                self._bill_headers(os.fstat(source.fileno()).st_size + len(extra))
                shutil.copyfileobj(source, self.wfile, 1 << 20)
            self.wfile.write(extra)
            return
        with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
            if bill.path is not None:
                with open(bill.path, "rb") as source:
                    deflate = zlib.compressobj(1, wbits=31)
                    while chunk := source.read(1 << 20):
                        spool.write(deflate.compress(chunk))
                    spool.write(deflate.compress(extra) + deflate.flush())
            else:
                data = (bill.data or b"") + extra
                spool.write(zlib.compress(data, 1, wbits=31) if bill.gzip else data)
            self._bill_headers(spool.tell())
            spool.seek(0)
            shutil.copyfileobj(spool, self.wfile, 1 << 20)

    def _bill_headers(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Request-ID", secrets.token_hex(16))
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()

    def _write(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 204:
            self.wfile.write(body)
