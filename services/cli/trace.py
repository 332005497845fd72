"""``paymesh trace``: follow one payment through the mesh, from the local trace store.

    paymesh trace ORDER_OR_TRACE_ID     the span tree of a pay order id, a merchant order
                                        number, a refund or notification id, or a trace id
    paymesh trace --slow [--since M]    recent traces, the slowest first
    paymesh trace --errors [--since M]  recent traces with a failed span or a refused request

The tree shows every span as ``service  operation  duration  status``, children indented under
their parent; ``⇠`` marks a span linked from another trace (a callback request, a job run) and
names it. For an order, the trace that created it comes first, then the other traces that name
it (its queries, the callback request, sweeps). ``--json`` prints the spans instead.

It reads ``<data dir>/traces.db`` read-only, so it works while the mesh runs and after. When the
mesh sends spans to a collector instead (OTEL_EXPORTER_OTLP_ENDPOINT), look there.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from paymesh.services.common.config import MeshConfig
from paymesh.services.tracestore.store import STORE_FILE, SpanStore, StoredSpan, TraceSummary

SERVICE_PREFIX = "paymesh-"


def register(commands: Any) -> None:
    trace = commands.add_parser("trace", help="show a payment's trace, or recent slow or failed "
                                "traces, from the local trace store")
    trace.add_argument("reference", nargs="?",
                       help="pay order id, merchant order number, refund or notify id, trace id")
    listing = trace.add_mutually_exclusive_group()
    listing.add_argument("--slow", action="store_true", help="recent traces, slowest first")
    listing.add_argument("--errors", action="store_true",
                         help="recent traces with a failed span or a refused request")
    trace.add_argument("--since", type=float, default=60.0, metavar="MINUTES",
                       help="with --slow/--errors: traces started in the last MINUTES (60)")
    trace.add_argument("--limit", type=int, default=20, help="with --slow/--errors: at most (20)")
    trace.add_argument("--json", action="store_true", help="print spans or traces as JSON")
    trace.set_defaults(run=run_trace)


def run_trace(args: argparse.Namespace) -> None:
    if bool(args.reference) == (args.slow or args.errors):
        sys.exit("paymesh trace: give an order or trace id, or --slow, or --errors")
    path = MeshConfig.from_env().data_dir / STORE_FILE
    if not path.exists():
        sys.exit(f"paymesh trace: no trace store at {path} (has `paymesh up` run here? with "
                 "OTEL_EXPORTER_OTLP_ENDPOINT set, spans are in that collector)")
    store = SpanStore(path, read_only=True)
    try:
        if args.reference:
            _show(store, args.reference, as_json=args.json)
        else:
            since = time.time_ns() - int(args.since * 60e9)
            found = store.recent(since_ns=since, limit=args.limit, errors_only=args.errors)
            _list(found, as_json=args.json, errors=args.errors)
    finally:
        store.close()


def _show(store: SpanStore, reference: str, *, as_json: bool) -> None:
    trace_ids = store.trace_ids(reference)
    traces = [(trace_id, store.spans(trace_id)) for trace_id in trace_ids]
    traces = [(trace_id, spans) for trace_id, spans in traces if spans]
    if not traces:
        sys.exit(f"paymesh trace: no spans for {reference}")
    if as_json:
        json.dump([{"traceId": trace_id, "spans": [s.as_json() for s in spans]}
                   for trace_id, spans in traces], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    first_id, first = traces[0]
    print(render_tree(first_id, first))
    if len(traces) > 1:
        print(f"\nother traces naming {reference}:")
        for trace_id, spans in traces[1:]:
            root = spans[0]
            print(f"  {trace_id}  {_when(root.start_ns)}  {_service(root)} {_operation(root)}  "
                  f"({len(spans)} spans)")


def render_tree(trace_id: str, spans: list[StoredSpan]) -> str:
    """The trace as an indented tree, one span a line: service, operation, duration, status."""
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[StoredSpan]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    start = min(span.start_ns for span in spans)
    end = max(span.end_ns for span in spans)
    errors = sum(span.status == "ERROR" for span in spans)
    lines = [f"trace {trace_id}  {_when(start)}  {len(spans)} spans over "
             f"{_duration((end - start) / 1e6)}" + (f", {errors} failed" if errors else "")]
    rows: list[tuple[str, StoredSpan]] = []

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda s: s.start_ns)
        for index, span in enumerate(kids):
            last = index == len(kids) - 1
            rows.append((prefix + ("└─ " if last else "├─ "), span))
            walk(span.span_id, prefix + ("   " if last else "│  "))

    walk(None, "")
    width = max(len(branch) + len(_service(span)) for branch, span in rows) + 2
    for branch, span in rows:
        label = f"{branch}{_service(span)}".ljust(width)
        status = span.status if span.status != "UNSET" else "-"
        if span.status == "ERROR" and span.status_message:
            status += f" ({span.status_message[:60]})"
        refusal = span.attributes.get("paymesh.refusal")
        if refusal:
            status += f" refused: {refusal}"
        line = f"{label}{_operation(span)}  {_duration(span.duration_ms)}  {status}"
        foreign = [link for link in span.links if link.get("traceId") != trace_id]
        if foreign:
            line += "  ⇠ linked from " + ", ".join(link["traceId"] for link in foreign)
        lines.append(line)
    return "\n".join(lines)


def _list(found: list[TraceSummary], *, as_json: bool, errors: bool) -> None:
    if as_json:
        json.dump([{"traceId": s.trace_id, "startNs": s.start_ns, "spans": s.span_count,
                    "errors": s.errors, "refusals": s.refusals, "root": s.root.as_json(),
                    "slowest": s.slowest.as_json()} for s in found], sys.stdout, indent=2,
                  ensure_ascii=False)
        sys.stdout.write("\n")
        return
    if not found:
        print("no such traces")
        return
    for summary in found:
        if errors:
            what = f"{summary.errors} failed, {summary.refusals} refused"
        else:
            slowest = summary.slowest
            what = (f"longest {_duration(slowest.duration_ms)} in {_service(slowest)} "
                    f"{_operation(slowest)}")
        print(f"{summary.trace_id}  {_when(summary.start_ns)}  {_service(summary.root)} "
              f"{_operation(summary.root)}  {summary.span_count} spans  {what}")


def _operation(span: StoredSpan) -> str:
    """The span's name, with the HTTP method and path of an edge span."""
    url = span.attributes.get("http.url") or span.attributes.get("url.full")
    method = span.attributes.get("http.method") or span.attributes.get("http.request.method")
    if span.service.endswith("envoy") and isinstance(url, str):
        return " ".join(part for part in (span.name, method, urlsplit(url).path) if part)
    return span.name


def _service(span: StoredSpan) -> str:
    return _strip(span.service)


def _strip(name: str) -> str:
    return name.removeprefix(SERVICE_PREFIX)


def _duration(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def _when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
