"""A Stripe-shaped front for localstripe: every request forwarded, balance transactions answered.

localstripe (a separate process) is Stripe for payments and refunds, but its
``GET /v1/balance_transactions`` is not Stripe's: no ``created`` filters, no fees, no
``expand[]=data.source``, and charges without their intent's metadata. The front is an HTTP
server on 127.0.0.1 that passes every request through to localstripe unchanged (method, path,
query, body, ``Authorization``, ``Idempotency-Key``, ...; the answer's status, body and Stripe
headers come back as localstripe gave them), except that one listing, which it answers from a
:class:`~.balance_server.BalanceLedger` in Stripe's real shape (filters, paging, expansion,
errors).

The ledger is booked from localstripe itself whenever the listing is asked for (or
:meth:`StripeFront.sync` is called): localstripe's own balance transactions are listed, page by
page, and each one not booked yet is booked under its localstripe id with its source fetched --
a charge with Stripe's fee (2.9 % + 30) and its PaymentIntent's metadata copied onto it (as
Stripe does when it confirms an intent), a refund as localstripe made it. Whoever paid or
refunded (a payer's page, the channel service, a test), through the front or straight at
localstripe, the listing has it. Booked transactions stay as booked, so a test can move an
order's transactions to another day or plant a bill mistake (:meth:`StripeFront.backdate`,
:meth:`StripeFront.misreport`) and later listings keep the change.
"""

from __future__ import annotations

import http.client
import json
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .balance_server import LIST_PATH, BalanceLedger

UPSTREAM_TIMEOUT = 10.0
_PAGE = 100
# Not passed on in either direction: they describe one connection, or are recomputed.
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                         "te", "trailer", "upgrade", "content-length", "host", "date",
                         "server"})


class UpstreamFailed(Exception):
    """localstripe could not be read while booking (unreachable, or an error answer)."""


class StripeFront:
    """What the front knows: where localstripe is, the ledger it serves, what passed through."""

    def __init__(self, upstream: str, secret_key: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.ledger = BalanceLedger(secret_key)
        self.forwarded: list[tuple[str, str]] = []  # (method, path) of each request passed on
        self.url = ""
        self._lock = threading.RLock()

    def sync(self) -> int:
        """Books the balance transactions localstripe made since the last sync; how many."""
        with self._lock:
            booked = {t["id"] for t in self.ledger.transactions}
            new: list[dict[str, Any]] = []
            after = ""
            while True:
                query = {"limit": str(_PAGE), **({"starting_after": after} if after else {})}
                page = self._get(LIST_PATH, query)
                data = page.get("data") or []
                new.extend(t for t in data if t["id"] not in booked)
                if not page.get("has_more") or not data:
                    break
                after = data[-1]["id"]
            for txn in reversed(new):  # oldest first, as they happened
                self._book(txn)
            return len(new)

    def backdate(self, pay_order_ids: Iterable[str], seconds: int) -> int:
        """Moves the orders' balance transactions ``seconds`` earlier (after a sync); how many."""
        with self._lock:
            self.sync()
            return self.ledger.backdate(pay_order_ids, seconds)

    def misreport(self, pay_order_id: str, *, amount: int | None = None,
                  fee: int | None = None) -> dict[str, Any]:
        """Makes the listing misstate the order's charge (after a sync); the transaction."""
        with self._lock:
            self.sync()
            return self.ledger.misreport(pay_order_id, amount=amount, fee=fee)

    def transactions_of(self, pay_order_id: str) -> list[dict[str, Any]]:
        """The order's booked balance transactions (after a sync)."""
        with self._lock:
            self.sync()
            return [dict(t) for t in self.ledger.of_order(pay_order_id)]

    def list_answer(self, authorization: str, query: list[tuple[str, str]]) -> tuple[int, Any]:
        """(status, JSON) of ``GET /v1/balance_transactions``: booked afresh, then listed."""
        with self._lock:
            if authorization == f"Bearer {self.ledger.secret_key}":
                try:
                    self.sync()
                except UpstreamFailed as failure:
                    return 500, {"error": {"type": "api_error", "message": str(failure)}}
            return self.ledger.answer(authorization, query)

    def forward(self, method: str, target: str, headers: Iterable[tuple[str, str]],
                body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Passes one request to localstripe; its (status, headers, body)."""
        self.forwarded.append((method, urlsplit(target).path))
        sent = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
        status, answer_headers, answer = self._request(method, target, sent, body)
        return (status, [(n, v) for n, v in answer_headers if n.lower() not in _HOP_BY_HOP],
                answer)

    def _book(self, txn: dict[str, Any]) -> None:
        source_id = txn.get("source")
        if txn.get("type") == "charge" and isinstance(source_id, str):
            charge = self._get(f"/v1/charges/{source_id}")
            intent_id = charge.get("payment_intent")
            intent = self._get(f"/v1/payment_intents/{intent_id}") if intent_id else None
            self.ledger.add_charge(charge, intent, txn_id=txn["id"], created=txn["created"])
        elif txn.get("type") == "refund" and isinstance(source_id, str):
            refund = self._get(f"/v1/refunds/{source_id}")
            if not refund.get("payment_intent"):  # Stripe names the intent on every refund
                charge = self._get(f"/v1/charges/{refund['charge']}")
                refund["payment_intent"] = charge.get("payment_intent")
            self.ledger.add_refund(refund, txn_id=txn["id"], created=txn["created"])
        # localstripe makes no other kind of balance transaction.

    def _get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
        target = path + ("?" + urlencode(query) if query else "")
        auth = {"Authorization": f"Bearer {self.ledger.secret_key}"}
        status, _, body = self._request("GET", target, auth, b"")
        if status != 200:
            raise UpstreamFailed(f"localstripe answered GET {path} with HTTP {status}: "
                                 f"{body[:200]!r}")
        found: dict[str, Any] = json.loads(body)
        return found

    def _request(self, method: str, target: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        where = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port,
                                                timeout=UPSTREAM_TIMEOUT)
        try:
            connection.request(method, target, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        except OSError as error:
            raise UpstreamFailed(f"localstripe at {self.upstream} is unreachable: "
                                 f"{error}") from error
        finally:
            connection.close()


@contextmanager
def stripe_front(upstream: str, secret_key: str) -> Iterator[StripeFront]:
    """A :class:`StripeFront` for the localstripe at ``upstream``, served on 127.0.0.1 (its
    ``url`` is the adapter's apiBase)."""
    front = StripeFront(upstream, secret_key)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Stripe's API serves
        timeout = 30.0  # an idle kept-alive connection is closed after this many seconds

        def _serve(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            url = urlsplit(self.path)
            headers: list[tuple[str, str]]
            if self.command == "GET" and url.path == LIST_PATH:
                status, answer = front.list_answer(
                    self.headers.get("Authorization", ""),
                    parse_qsl(url.query, keep_blank_values=True))
                data = json.dumps(answer).encode()
                headers = [("Content-Type", "application/json"),
                           ("Request-Id", "req_" + secrets.token_hex(7))]
            else:
                try:
                    status, headers, data = front.forward(self.command, self.path,
                                                          self.headers.items(), body)
                except UpstreamFailed as failure:
                    status, headers = 502, [("Content-Type", "application/json")]
                    data = json.dumps({"error": {"type": "api_error",
                                                 "message": str(failure)}}).encode()
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _serve  # noqa: N815 - http.server's naming

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    front.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()
