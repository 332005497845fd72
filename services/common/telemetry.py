"""OpenTelemetry set-up shared by every process: one tracer provider, and what gets a span.

Where spans go: OTLP/gRPC to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and the other standard ``OTEL_*``
variables). ``paymesh up`` points every process there: at a real collector when the variable is
set, otherwise at the mesh's own trace store (services/tracestore), which it starts first. A
process started with no endpoint at all (by hand, or in-process tests) still makes spans, so
trace ids propagate and reach the logs, but exports nothing.

What gets a span:

- every gRPC call, server and client side (the interceptors below);
- outbound HTTP through httpx (channel APIs, merchant notifications, sandbox callbacks), with the
  URL recorded without its query string, where some channels put credentials;
- database statements (``instrument_engine``), but only inside a trace: the background loops'
  polling would otherwise be a trace per query;
- work done later on an order's behalf (``order_span``).

One trace per payment: an order row stores the W3C ``traceparent`` of the request that created
it (``trace_context_default``, a column default of pay_order and refund_order). Whatever happens
to the order later -- the channel's callback, outbox consumers (the ledger posting, the merchant
notification), sweeps and expiry -- runs in a span whose parent is that stored context, so it
joins the payment's trace; the span has a link to the span that was current when the work began
(the callback request's own Envoy trace, or the job run's), so both traces lead to each other.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common import spanattrs

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
_PROPAGATOR = TraceContextTextMapPropagator()
_URL_ATTRIBUTES = ("url.full", "http.url")
_LONG_SEGMENT = re.compile(r"/[^/]{24,}")


def setup_tracing(service: str, data_dir: Path | None = None) -> TracerProvider:
    """Installs the process-wide tracer provider for ``service`` and returns it.

    ``data_dir`` is no longer used (spans went to files there before the trace store).
    """
    del data_dir
    provider = TracerProvider(resource=Resource.create({"service.name": f"paymesh-{service}"}))
    if os.environ.get(ENDPOINT_VARIABLE) or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(),
                                                       schedule_delay_millis=500))
    trace.set_tracer_provider(provider)
    instrument_httpx()
    return provider


def instrument_httpx() -> None:
    """Spans for outbound HTTP through httpx (once per process), URLs scrubbed."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(request_hook=_scrub_url, async_request_hook=_scrub_url_async)


def scrubbed_url(url: str) -> str:
    """``url`` as a span may record it: without user info, query or fragment, and with every
    path segment of 24 characters or more (a pay page token, a signed cashier link, a key in
    a merchant's notify URL) replaced by ``{token}``. Order ids are shorter and stay."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, scrubbed_path(parts.path), "", ""))


def scrubbed_path(path: str) -> str:
    """A URL path without its query and with long segments masked (see ``scrubbed_url``)."""
    return _LONG_SEGMENT.sub("/{token}", path.partition("?")[0])


def _scrub_url(span: Span, request: Any) -> None:
    attributes = getattr(span, "attributes", None) or {}
    for name in _URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str):
            span.set_attribute(name, scrubbed_url(value))


async def _scrub_url_async(span: Span, request: Any) -> None:
    _scrub_url(span, request)


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    return [aio_server_interceptor()]


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    return list(aio_client_interceptors())


class _ChildSpansOnly(trace.Tracer):
    """A tracer that makes spans only under a valid current span, never new traces.

    The real tracer is taken from the process's provider when the first span is made (engines
    may be opened before tracing is set up) and again only if the provider changes: a tracer
    per statement would cost a new tracer object on every query.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._provider: trace.TracerProvider | None = None
        self._tracer: trace.Tracer | None = None

    def _inside(self, context: otel_context.Context | None) -> bool:
        return trace.get_current_span(context).get_span_context().is_valid

    def _current(self) -> trace.Tracer:
        provider = trace.get_tracer_provider()
        if self._tracer is None or provider is not self._provider:
            self._provider, self._tracer = provider, provider.get_tracer(self._name)
        return self._tracer

    def start_span(self, name: str, context: otel_context.Context | None = None,
                   *args: Any, **kwargs: Any) -> Span:
        if not self._inside(context):
            return trace.INVALID_SPAN
        return self._current().start_span(name, context, *args, **kwargs)

    @contextmanager
    def start_as_current_span(self, name: str, context: otel_context.Context | None = None,
                              *args: Any, **kwargs: Any) -> Iterator[Span]:
        if not self._inside(context):
            yield trace.INVALID_SPAN
            return
        with self._current().start_as_current_span(name, context, *args, **kwargs) as span:
            yield span


def instrument_engine(engine: AsyncEngine) -> None:
    """Gives the engine's statements spans (inside a trace only; the SQL, never its values)."""
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    usage = get_meter("paymesh.db").create_up_down_counter("db.client.connections.usage")
    EngineTracer(_ChildSpansOnly("paymesh.db"), engine.sync_engine, usage)


def current_traceparent() -> str | None:
    """The W3C traceparent of the current span, or None outside any trace."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def trace_context_default(context: Any) -> str | None:
    """Column default of ``trace_context``: the creating request's traceparent.

    Called by SQLAlchemy as the order row is inserted, inside the request that creates it, so
    it also puts the new order's identifiers on the current span: that is how ``paymesh trace``
    finds a payment by its merchant order number.
    """
    span = trace.get_current_span()
    if span.is_recording() and context is not None:
        span.set_attributes(spanattrs.of_row(context.get_current_parameters()))
    return current_traceparent()


@contextmanager
def order_span(name: str, trace_context: str | None,
               attributes: Mapping[str, object] | None = None) -> Iterator[Span]:
    """A span for work done on an order's behalf, in the order's own trace.

    Its parent is ``trace_context`` (the order's stored traceparent) and it links to the span
    that was current, when there is one. An order stored without a context (older than
    tracing) gets an ordinary child of the current span instead.
    """
    parent = _PROPAGATOR.extract({"traceparent": trace_context}) if trace_context else None
    if parent is not None and not trace.get_current_span(parent).get_span_context().is_valid:
        parent = None
    links: Sequence[Link] = ()
    current = trace.get_current_span().get_span_context()
    if parent is not None and current.is_valid:
        links = [Link(current)]
    tracer = trace.get_tracer("paymesh.orders")
    with tracer.start_as_current_span(name, context=parent, kind=SpanKind.INTERNAL, links=links,
                                      attributes=spanattrs.checked(attributes or {})) as span:
        yield span
