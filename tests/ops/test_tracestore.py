"""The local trace store: a real OTLP exporter sends spans, the store and the CLI read them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode

from paymesh.services.cli.trace import render_tree
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.grpcserver import RunningServer
from paymesh.services.tracestore.server import TraceStoreConfig, create
from paymesh.services.tracestore.store import STORE_FILE, SpanStore
from tests.conftest import mesh_env


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[tuple[RunningServer, Path]]:
    config = MeshConfig.from_env(mesh_env(tmp_path))
    running = await create(config, "127.0.0.1:0", TraceStoreConfig())
    yield running, tmp_path / STORE_FILE
    await running.stop(0)


def provider_to(port: int, service: str) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": f"paymesh-{service}"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}", insecure=True)))
    return provider


def export_payment(port: int) -> SpanContext:
    """Two processes' spans of one order, and a later failed query linked to it (exported
    synchronously, so from another thread than the store's event loop)."""
    gateway = provider_to(port, "gateway").get_tracer("t")
    channel = provider_to(port, "channel").get_tracer("t")
    with gateway.start_as_current_span("UnifiedOrder", kind=SpanKind.SERVER, attributes={
            "paymesh.pay_order_id": "P1", "paymesh.mch_order_no": "SHOP-1",
            "http.url": "http://edge/sandbox/pay/0iqsTfHLmYUB7kOsNe6jBb_7uqbBfc2N?x=secret",
            "url.query": "secret=1"}) as root:
        with channel.start_as_current_span("ChannelService/Pay", kind=SpanKind.SERVER):
            pass
    with gateway.start_as_current_span("QueryOrder", links=[Link(root.get_span_context())],
                                       attributes={"paymesh.pay_order_id": "P1"}) as query:
        query.set_status(Status(StatusCode.ERROR, "boom"))
    return root.get_span_context()


async def test_exported_spans_are_kept_and_found_by_order_and_trace(
        store: tuple[RunningServer, Path]) -> None:
    running, path = store
    root = await asyncio.to_thread(export_payment, running.port)
    trace_id = f"{root.trace_id:032x}"

    reader = SpanStore(path, read_only=True)
    try:
        assert reader.trace_ids("SHOP-1") == [trace_id]
        found = reader.trace_ids("P1")
        assert found[0] == trace_id and len(found) == 2  # the creating trace first
        assert reader.trace_ids(trace_id.upper()) == [trace_id]
        spans = reader.spans(trace_id)
        assert [(s.service, s.name) for s in spans] == [
            ("paymesh-gateway", "UnifiedOrder"), ("paymesh-channel", "ChannelService/Pay")]
        assert spans[1].parent_span_id == spans[0].span_id
        assert spans[0].attributes["http.url"] == "http://edge/sandbox/pay/{token}"
        assert "url.query" not in spans[0].attributes
        errors = reader.recent(since_ns=0, limit=10, errors_only=True)
        assert [(e.trace_id, e.errors) for e in errors] == [(found[1], 1)]
        slow = reader.recent(since_ns=0, limit=10, errors_only=False)
        assert {s.trace_id for s in slow} == set(found)
        linked = reader.spans(found[1])
        assert linked[0].links == [{"traceId": trace_id, "spanId": f"{root.span_id:016x}"}]
        tree = render_tree(trace_id, spans).splitlines()
        assert tree[0].startswith(f"trace {trace_id}") and "2 spans" in tree[0]
        assert tree[1].startswith("└─ gateway") and "UnifiedOrder" in tree[1]
        assert tree[1].split()[-1] == "-"  # status UNSET
        assert tree[2].startswith("   └─ channel") and " ms " in tree[2]
        assert "ERROR (boom)" in render_tree(found[1], linked)
    finally:
        reader.close()


def test_old_spans_are_pruned(tmp_path: Path) -> None:
    from paymesh.services.tracestore.store import StoredSpan

    store = SpanStore(tmp_path / STORE_FILE, keep_hours=1)
    now = time.time_ns()
    old = StoredSpan("a" * 32, "1" * 16, None, "s", "old", "SERVER", now - 2 * 3600 * 10**9,
                     now - 2 * 3600 * 10**9 + 1, "UNSET", "", {"paymesh.pay_order_id": "P9"})
    new = StoredSpan("b" * 32, "2" * 16, None, "s", "new", "SERVER", now, now + 1, "UNSET", "")
    store.add([old, new])
    assert store.spans("a" * 32) == [] and store.trace_ids("P9") == []
    assert [s.name for s in store.spans("b" * 32)] == ["new"]
    store.close()
