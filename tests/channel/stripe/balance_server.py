"""A small stand-in for Stripe's ``GET /v1/balance_transactions``, which localstripe lacks.

localstripe keeps balance transactions but lists them without ``created`` filters, with no fee
and without copying an intent's metadata onto its charge; so the bill tests run the adapter
against this server instead. It answers in Stripe's real JSON shape (``object: list``, ``data``,
``has_more``, ``url``), newest first, paged by ``limit`` (1-100, default 10) and
``starting_after``, filtered by ``created[gte|gt|lte|lt]``, with ``expand[]=data.source``
(``expand[0]`` too, as the SDK writes it) replacing each source id by its object. Anything else
is refused as Stripe refuses it: a wrong ``Authorization: Bearer`` key is HTTP 401, an unknown
parameter HTTP 400. Transactions are hand-built or made from charges and refunds the test created
through localstripe (:meth:`BalanceLedger.add_charge`, :meth:`BalanceLedger.add_refund`); a test
can then move an order's transactions to another day (:meth:`BalanceLedger.backdate`) or make
the listing misstate a charge (:meth:`BalanceLedger.misreport`). :mod:`.stripe_front` serves the
same ledger in front of localstripe, booked from what localstripe did.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LIST_PATH = "/v1/balance_transactions"
_EXPAND = re.compile(r"expand\[[0-9]*\]")
_CREATED = re.compile(r"created\[(gte|gt|lte|lt)\]")


class BalanceLedger:
    """The account's balance transactions and their sources, served over HTTP."""

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self.transactions: list[dict[str, Any]] = []
        self.sources: dict[str, dict[str, Any]] = {}
        self.queries: list[dict[str, str]] = []
        self.fail_with: int = 0
        self.expand_sources = True  # False: ignore expand[], as a peer without expansion would
        self.url = ""

    def add(self, txn_type: str, amount: int, fee: int, created: int, source: dict[str, Any],
            currency: str = "usd", txn_id: str = "") -> dict[str, Any]:
        """Books one transaction on ``source`` (a charge or refund object, kept for expansion);
        ``txn_id`` keeps the id a peer gave it, else a new one is made."""
        self.sources[source["id"]] = source
        txn = {"id": txn_id or "txn_" + secrets.token_hex(12), "object": "balance_transaction",
               "amount": amount, "available_on": created + 2 * 86400, "created": created,
               "currency": currency, "description": source.get("description"),
               "exchange_rate": None, "fee": fee,
               "fee_details": _fee_details(fee, currency),
               "net": amount - fee, "reporting_category": "refund" if amount < 0 else "charge",
               "source": source["id"], "status": "pending", "type": txn_type}
        self.transactions.append(txn)
        return txn

    def add_charge(self, charge: dict[str, Any], intent: dict[str, Any] | None,
                   rate: str = "0.029", fixed: int = 30, txn_id: str = "",
                   created: int | None = None) -> dict[str, Any]:
        """A localstripe charge's transaction, with Stripe's fee (2.9 % + 30, half up) and the
        intent's metadata (a charge made without an intent keeps its own)."""
        source = dict(charge)
        if intent is not None:
            source.update(metadata=dict(intent.get("metadata") or {}),
                          payment_intent=intent["id"])
        return self.add("charge", charge["amount"], stripe_fee(charge["amount"], rate, fixed),
                        charge["created"] if created is None else created, source,
                        charge["currency"], txn_id)

    def add_refund(self, refund: dict[str, Any], txn_id: str = "",
                   created: int | None = None) -> dict[str, Any]:
        """A localstripe refund's transaction: negative amount, no fee given back."""
        return self.add("refund", -refund["amount"], 0,
                        refund["created"] if created is None else created, refund,
                        refund["currency"], txn_id)

    def of_order(self, pay_order_id: str) -> list[dict[str, Any]]:
        """The transactions whose source names ``pay_order_id`` in its metadata."""
        return [t for t in self.transactions
                if (self.sources[t["source"]].get("metadata") or {}).get("pay_order_id")
                == pay_order_id]

    def backdate(self, pay_order_ids: Iterable[str], seconds: int) -> int:
        """Moves the orders' transactions (and their sources) ``seconds`` earlier, as if they
        had happened then; how many transactions moved."""
        moved = 0
        for pay_order_id in set(pay_order_ids):
            for txn in self.of_order(pay_order_id):
                txn["created"] -= seconds
                txn["available_on"] -= seconds
                self.sources[txn["source"]]["created"] -= seconds
                moved += 1
        return moved

    def misreport(self, pay_order_id: str, *, amount: int | None = None,
                  fee: int | None = None) -> dict[str, Any]:
        """Makes the listing state another amount or fee for the order's charge (a bill
        mistake); the transaction as it is listed from now on."""
        charges = [t for t in self.of_order(pay_order_id) if t["type"] == "charge"]
        if len(charges) != 1:
            raise LookupError(f"{len(charges)} charges of {pay_order_id} are booked, not one")
        txn = charges[0]
        if amount is not None:
            txn["amount"] = amount
        if fee is not None:
            txn["fee"] = fee
            txn["fee_details"] = _fee_details(fee, txn["currency"])
        txn["net"] = txn["amount"] - txn["fee"]
        return txn

    def answer(self, authorization: str, query: list[tuple[str, str]]) -> tuple[int, Any]:
        """(status, JSON) for one listing request."""
        if authorization != f"Bearer {self.secret_key}":
            return 401, _error("Invalid API Key provided: " + authorization[-4:])
        if self.fail_with:
            return self.fail_with, _error("An unknown error occurred", "api_error")
        params = dict(query)
        self.queries.append(params)
        expand, bounds, limit, after = False, {}, 10, ""
        for name, value in query:
            if _EXPAND.fullmatch(name):
                expand = expand or value == "data.source"
            elif (match := _CREATED.fullmatch(name)) is not None:
                bounds[match[1]] = int(value)
            elif name == "limit":
                limit = int(value)
            elif name == "starting_after":
                after = value
            else:
                return 400, _error(f"Received unknown parameter: {name}")
        if not 1 <= limit <= 100:
            return 400, _error("Invalid integer: limit must be between 1 and 100")
        chosen = sorted((t for t in self.transactions if _within(t["created"], bounds)),
                        key=lambda t: (t["created"], t["id"]), reverse=True)
        if after:
            ids = [t["id"] for t in chosen]
            if after not in ids:
                return 400, _error(f"No such balance transaction: '{after}'")
            chosen = chosen[ids.index(after) + 1:]
        expand = expand and self.expand_sources
        page = [dict(t, source=self.sources[t["source"]]) if expand else dict(t)
                for t in chosen[:limit]]
        return 200, {"object": "list", "data": page, "has_more": len(chosen) > limit,
                     "url": LIST_PATH}


def stripe_fee(amount: int, rate: str = "0.029", fixed: int = 30) -> int:
    """Stripe's processing fee on a charge in minor units: ``rate`` of it, half up, plus
    ``fixed`` (the standard card pricing is 2.9 % + 30)."""
    return int((Decimal(amount) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
               ) + fixed


def _fee_details(fee: int, currency: str) -> list[dict[str, Any]]:
    return [{"amount": fee, "application": None, "currency": currency,
             "description": "Stripe processing fees", "type": "stripe_fee"}] if fee else []


def _within(created: int, bounds: dict[str, int]) -> bool:
    return (created >= bounds.get("gte", created) and created > bounds.get("gt", created - 1)
            and created <= bounds.get("lte", created) and created < bounds.get("lt", created + 1))


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


@contextmanager
def balance_server(secret_key: str) -> Iterator[BalanceLedger]:
    """A :class:`BalanceLedger` served on 127.0.0.1 (its ``url`` is the adapter's apiBase)."""
    ledger = BalanceLedger(secret_key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlsplit(self.path)
            if url.path != LIST_PATH:
                status, body = 404, _error(f"Unrecognized request URL (GET: {url.path})")
            else:
                status, body = ledger.answer(self.headers.get("Authorization", ""),
                                             parse_qsl(url.query, keep_blank_values=True))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ledger.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield ledger
    finally:
        server.shutdown()
        server.server_close()
