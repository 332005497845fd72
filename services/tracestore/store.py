"""The trace store's SQLite file: spans in, span trees and trace listings out.

One file, ``<data dir>/traces.db``. The receiver (server.py) is its only writer; ``paymesh
trace`` opens it read-only, so the CLI needs no RPC of its own (this module is the read API).

Tables: ``span`` (one row per span, keyed by trace and span id, attributes as JSON) and
``span_key`` (order identifiers -> trace: the ``spanattrs.ORDER_KEYS`` attributes a span
carries, so a pay order id or a merchant order number finds its traces). URLs are stored
as the processes record them (telemetry.scrubbed_url: no query string, long path segments such
as pay page tokens and signed links masked), Envoy's included. Spans older than the
retention (PAYMESH_TRACE_KEEP_HOURS) are deleted as new ones arrive.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.common.v1 import common_pb2

from paymesh.services.common.spanattrs import ORDER_KEYS
from paymesh.services.common.telemetry import scrubbed_path, scrubbed_url

STORE_FILE = "traces.db"
TRACE_ID = re.compile(r"[0-9a-f]{32}")
_URL_KEYS = ("http.url", "url.full")
_DROPPED_KEYS = ("url.query",)
_PATH_KEYS = ("http.target", "url.path", "grpc.path", "http.route")
_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER",
          5: "CONSUMER"}
_STATUSES = {0: "UNSET", 1: "OK", 2: "ERROR"}
PRUNE_EVERY_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS span (
    trace_id TEXT NOT NULL,
    span_id TEXT NOT NULL,
    parent_span_id TEXT,
    service TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    end_ns INTEGER NOT NULL,
    status TEXT NOT NULL,
    status_message TEXT NOT NULL,
    attributes TEXT NOT NULL,
    links TEXT NOT NULL,
    events TEXT NOT NULL,
    PRIMARY KEY (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS ix_span_start ON span (start_ns);
CREATE TABLE IF NOT EXISTS span_key (
    value TEXT NOT NULL,
    key TEXT NOT NULL,
    trace_id TEXT NOT NULL,
    start_ns INTEGER NOT NULL,
    PRIMARY KEY (value, key, trace_id)
);
CREATE INDEX IF NOT EXISTS ix_span_key_start ON span_key (start_ns);
"""


@dataclass(frozen=True)
class StoredSpan:
    """One span as the store keeps it; ids in lowercase hex, times in Unix nanoseconds."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    name: str
    kind: str
    start_ns: int
    end_ns: int
    status: str
    status_message: str
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6

    def as_json(self) -> dict[str, Any]:
        return {"traceId": self.trace_id, "spanId": self.span_id,
                "parentSpanId": self.parent_span_id, "service": self.service,
                "name": self.name, "kind": self.kind, "startNs": self.start_ns,
                "endNs": self.end_ns, "durationMs": round(self.duration_ms, 3),
                "status": self.status, "statusMessage": self.status_message,
                "attributes": self.attributes, "links": self.links, "events": self.events}


@dataclass(frozen=True)
class TraceSummary:
    """A trace in a listing: its root span, its slowest span, and what went wrong."""

    trace_id: str
    start_ns: int
    span_count: int
    errors: int
    refusals: int
    root: StoredSpan
    slowest: StoredSpan


def _value(any_value: common_pb2.AnyValue) -> Any:
    which = any_value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(v) for v in any_value.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _value(kv.value) for kv in any_value.kvlist_value.values}
    if which == "bytes_value":
        return any_value.bytes_value.hex()
    return getattr(any_value, which)


def _attributes(pairs: Iterable[common_pb2.KeyValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if pair.key in _DROPPED_KEYS:
            continue
        value = _value(pair.value)
        if pair.key in _URL_KEYS and isinstance(value, str):
            value = scrubbed_url(value)
        elif pair.key in _PATH_KEYS and isinstance(value, str):
            value = scrubbed_path(value)
        out[pair.key] = value
    return out


def spans_of(request: trace_service_pb2.ExportTraceServiceRequest) -> list[StoredSpan]:
    """The spans of one OTLP export, as the store keeps them."""
    found = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name") or "unknown")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(StoredSpan(
                    trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex() or None, service=service,
                    name=span.name, kind=_KINDS.get(span.kind, str(span.kind)),
                    start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
                    status=_STATUSES.get(span.status.code, str(span.status.code)),
                    status_message=span.status.message,
                    attributes=_attributes(span.attributes),
                    links=[{"traceId": link.trace_id.hex(), "spanId": link.span_id.hex()}
                           for link in span.links],
                    events=[{"name": event.name, "timeNs": event.time_unix_nano,
                             "attributes": _attributes(event.attributes)}
                            for event in span.events]))
    return found


class SpanStore:
    """The SQLite file of spans. Thread-safe; one writer process, any number of readers."""

    def __init__(self, path: Path, *, read_only: bool = False, keep_hours: float = 72.0) -> None:
        self.path = path
        self._keep_ns = int(keep_hours * 3600 * 1e9)
        self._lock = threading.Lock()
        self._pruned_at = 0.0
        if read_only:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        self._db.execute("PRAGMA busy_timeout=5000")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, spans: Sequence[StoredSpan]) -> None:
        """Stores spans (a span sent twice is kept once) and their order identifiers."""
        span_rows = [(s.trace_id, s.span_id, s.parent_span_id, s.service, s.name, s.kind,
                      s.start_ns, s.end_ns, s.status, s.status_message,
                      json.dumps(s.attributes, ensure_ascii=False),
                      _json_list(s.links), _json_list(s.events))
                     for s in spans]
        key_rows = [(str(s.attributes[key]), key, s.trace_id, s.start_ns)
                    for s in spans for key in ORDER_KEYS if s.attributes.get(key)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO span VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", span_rows)
            self._db.executemany("INSERT OR IGNORE INTO span_key VALUES (?, ?, ?, ?)",
                                 key_rows)
            self._prune()

    def _prune(self) -> None:
        now = time.time()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        cutoff = int(now * 1e9) - self._keep_ns
        self._db.execute("DELETE FROM span WHERE start_ns < ?", (cutoff,))
        self._db.execute("DELETE FROM span_key WHERE start_ns < ?", (cutoff,))

    def trace_ids(self, reference: str) -> list[str]:
        """Traces of a trace id, pay order id, merchant order number, refund or notify id;
        for an order, the trace that created it first, then the others that name it."""
        reference = reference.strip()
        if TRACE_ID.fullmatch(reference.lower()):
            return [reference.lower()]
        with self._lock:
            rows = self._db.execute(
                "SELECT trace_id, MIN(start_ns) FROM span_key WHERE value = ? "
                "GROUP BY trace_id ORDER BY MIN(start_ns)", (reference,)).fetchall()
        return [row[0] for row in rows]

    def spans(self, trace_id: str) -> list[StoredSpan]:
        """Every stored span of a trace, earliest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM span WHERE trace_id = ? ORDER BY start_ns",
                                    (trace_id,)).fetchall()
        return [_span(row) for row in rows]

    def all_spans(self) -> list[StoredSpan]:
        """Every stored span (tests and audits)."""
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT DISTINCT trace_id FROM span")]
        return [span for trace_id in ids for span in self.spans(trace_id)]

    def recent(self, *, since_ns: int, limit: int, errors_only: bool) -> list[TraceSummary]:
        """Traces that started after ``since_ns``: the slowest first (by their longest span:
        a payment's trace lasts as long as the payer takes), or with ``errors_only`` those
        with a failed span or a refused merchant request, newest first."""
        having = "HAVING errors > 0 OR refusals > 0 ORDER BY first DESC" if errors_only \
            else "ORDER BY longest DESC"
        with self._lock:
            rows = self._db.execute(
                "SELECT trace_id, MIN(start_ns) AS first, COUNT(*), "
                "SUM(status = 'ERROR') AS errors, "
                "SUM(json_extract(attributes, '$.\"paymesh.refusal\"') IS NOT NULL) AS refusals,"
                " MAX(end_ns - start_ns) AS longest FROM span WHERE trace_id IN "
                "(SELECT trace_id FROM span WHERE start_ns >= ?) "
                f"GROUP BY trace_id {having} LIMIT ?", (since_ns, limit)).fetchall()
            summaries = []
            for trace_id, first, count, errors, refusals, _longest in rows:
                root = self._db.execute(
                    "SELECT * FROM span WHERE trace_id = ? "
                    "ORDER BY parent_span_id IS NOT NULL, start_ns LIMIT 1", (trace_id,)).fetchone()
                slow = self._db.execute(
                    "SELECT * FROM span WHERE trace_id = ? "
                    "ORDER BY end_ns - start_ns DESC LIMIT 1", (trace_id,)).fetchone()
                summaries.append(TraceSummary(trace_id, first, count, errors, refusals,
                                              _span(root), _span(slow)))
        return summaries


def _json_list(items: list[Any]) -> str:
    """A span's links or events as JSON; most spans have none."""
    return json.dumps(items, ensure_ascii=False) if items else "[]"


def _span(row: Sequence[Any]) -> StoredSpan:
    return StoredSpan(*row[:10], attributes=json.loads(row[10]), links=json.loads(row[11]),
                      events=json.loads(row[12]))
