"""OpenTelemetry set-up shared by every process: one tracer provider, gRPC interceptors.

With ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, spans go to that collector over OTLP/gRPC. Otherwise they
are appended as JSON lines to ``<data dir>/traces/<service>.jsonl``, so a single machine needs no
collector to follow a payment.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import grpc
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a file, one JSON object a line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for span in spans:
            ctx = span.get_span_context()
            if ctx is None:
                continue
            parent = span.parent
            lines.append(json.dumps({
                "trace_id": f"{ctx.trace_id:032x}",
                "span_id": f"{ctx.span_id:016x}",
                "parent_span_id": f"{parent.span_id:016x}" if parent else None,
                "name": span.name,
                "service": span.resource.attributes.get("service.name"),
                "kind": span.kind.name,
                "start_ns": span.start_time,
                "end_ns": span.end_time,
                "status": span.status.status_code.name,
                "attributes": {k: _plain(v) for k, v in (span.attributes or {}).items()},
            }, ensure_ascii=False))
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write("".join(line + "\n" for line in lines))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def setup_tracing(service: str, data_dir: Path) -> TracerProvider:
    """Installs the process-wide tracer provider for ``service`` and returns it."""
    provider = TracerProvider(resource=Resource.create({"service.name": f"paymesh-{service}"}))
    exporter: SpanExporter
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = JsonLinesSpanExporter(data_dir / "traces" / f"{service}.jsonl")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    return provider


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    return [aio_server_interceptor()]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    return list(aio_client_interceptors())
