"""One trace per payment: orders keep their creating trace, later work joins it, and what else
gets a span (database statements inside a trace only, outbound HTTP without query strings)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, utc_now
from paymesh.services.common.telemetry import (
    current_traceparent,
    instrument_httpx,
    order_span,
    scrubbed_url,
)
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import PAY_SUCCEEDED, OutboxDispatcher, Subscription
from paymesh.services.gateway.repository import PayOrderRepository

tracer = trace.get_tracer("tests")


@pytest.fixture
async def engine(config: MeshConfig) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(config.db_urls["gateway"])
    yield engine
    await engine.dispose()


def new_order(pid: str) -> PayOrder:
    now = utc_now()
    return PayOrder(
        pay_order_id=pid, mch_no="M1", app_id="A1", mch_order_no=f"SHOP-{pid}",
        if_code="sandbox", way_code="WX_NATIVE", amount=100, currency="cny", state=St.PAYING,
        subject="s", body="b", expire_at=now + timedelta(hours=2), fee_rate="0", fee_amount=0,
        late_success=False, refunded_amount=0, refund_reserved=0, refund_times=0,
        created_at=now, updated_at=now)


def ids(span: trace.Span | object) -> tuple[int, int]:
    context = span.get_span_context()  # type: ignore[attr-defined]
    return context.trace_id, context.span_id


async def test_an_order_keeps_the_trace_that_created_it(
        engine: AsyncEngine, exported: InMemorySpanExporter) -> None:
    orders = PayOrderRepository(engine)
    with tracer.start_as_current_span("UnifiedOrder", kind=SpanKind.SERVER) as request:
        assert await orders.insert(new_order("P1"))
        expected = current_traceparent()
    stored = await orders.get("P1")
    assert stored is not None and stored.trace_context == expected
    trace_id, span_id = ids(request)
    assert expected is not None and expected.startswith(f"00-{trace_id:032x}-{span_id:016x}-")
    # The creating span now names the order, so `paymesh trace SHOP-P1` finds it.
    [finished] = [s for s in exported.get_finished_spans() if s.name == "UnifiedOrder"]
    assert finished.attributes is not None
    assert finished.attributes["paymesh.pay_order_id"] == "P1"
    assert finished.attributes["paymesh.mch_order_no"] == "SHOP-P1"
    assert finished.attributes["paymesh.way_code"] == "WX_NATIVE"
    # The statement itself has a span under the request.
    inserts = [s for s in exported.get_finished_spans() if s.name.startswith("INSERT")]
    assert inserts and inserts[0].parent is not None and inserts[0].parent.span_id == span_id

    # An order inserted outside any trace has no context to join.
    assert await orders.insert(new_order("P2"))
    untraced = await orders.get("P2")
    assert untraced is not None and untraced.trace_context is None


async def test_outbox_consumers_run_in_the_orders_trace_linked_from_the_callback(
        engine: AsyncEngine, exported: InMemorySpanExporter) -> None:
    orders = PayOrderRepository(engine)
    with tracer.start_as_current_span("UnifiedOrder") as created:
        assert await orders.insert(new_order("P3"))
    seen: list[tuple[int, str | None]] = []

    async def ledger(topic: str, order_id: str) -> None:
        seen.append((trace.get_current_span().get_span_context().trace_id, order_id))

    dispatcher = OutboxDispatcher(engine, [Subscription.of("ledger", [PAY_SUCCEEDED], ledger)])
    with tracer.start_as_current_span("ReceivePayNotify") as callback:
        assert await orders.transition("P3", [St.PAYING], state=St.SUCCESS, event=PAY_SUCCEEDED)
        assert await dispatcher.dispatch_due() == 1
    assert seen == [(ids(created)[0], "P3")]
    [outbox] = [s for s in exported.get_finished_spans()
                if s.name == "outbox pay.succeeded ledger"]
    assert outbox.context is not None and outbox.context.trace_id == ids(created)[0]
    assert outbox.parent is not None and outbox.parent.span_id == ids(created)[1]
    assert [(link.context.trace_id, link.context.span_id) for link in outbox.links] == \
        [ids(callback)]
    assert outbox.attributes is not None
    assert dict(outbox.attributes) == {"paymesh.outbox.topic": PAY_SUCCEEDED,
                                       "paymesh.outbox.consumer": "ledger",
                                       "paymesh.pay_order_id": "P3"}


def test_order_span_without_a_stored_context_is_a_child_of_the_current_span(
        exported: InMemorySpanExporter) -> None:
    with tracer.start_as_current_span("job") as job, order_span("sweep", None) as span:
        assert span.get_span_context().trace_id == ids(job)[0]
    [sweep] = [s for s in exported.get_finished_spans() if s.name == "sweep"]
    assert sweep.parent is not None and sweep.parent.span_id == ids(job)[1]
    assert not sweep.links
    with pytest.raises(ValueError, match="paymesh.buyer_id"):
        with order_span("sweep", None, {"paymesh.buyer_id": "o-123"}):
            pass


async def test_database_statements_get_spans_only_inside_a_trace(
        engine: AsyncEngine, exported: InMemorySpanExporter) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    assert not [s for s in exported.get_finished_spans() if s.name.startswith("SELECT")]
    with tracer.start_as_current_span("request") as request:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 2"))
    [select] = [s for s in exported.get_finished_spans() if s.name.startswith("SELECT")]
    assert select.kind == SpanKind.CLIENT
    assert select.parent is not None and select.parent.span_id == ids(request)[1]
    assert select.attributes is not None and "SELECT 2" in str(dict(select.attributes))


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_outbound_http_spans_never_record_query_strings_or_tokens(
        http_server: str, exported: InMemorySpanExporter) -> None:
    instrument_httpx()
    token = "0iqsTfHLmYUB7kOsNe6jBb_7uqbBfc2N"
    try:
        with tracer.start_as_current_span("request"):
            async with httpx.AsyncClient() as client:
                answer = await client.get(f"{http_server}/sns/oauth2/access_token"
                                          f"?appid=wx1&secret=TOPSECRET&code=abc")
                assert answer.status_code == 200
                await client.get(f"{http_server}/pay/{token}/P123")
    finally:
        # The instrumentation is process-wide: left on, the test process's own requests to a
        # mesh would carry a trace context and Envoy's span would not be a trace's root.
        HTTPXClientInstrumentor().uninstrument()
    urls = [str(dict(s.attributes or {})) for s in exported.get_finished_spans()
            if s.kind == SpanKind.CLIENT]
    assert len(urls) == 2
    assert "TOPSECRET" not in urls[0] and "/sns/oauth2/access_token" in urls[0]
    assert token not in urls[1] and "/pay/{token}/P123" in urls[1]


def test_scrubbed_url_keeps_host_path_and_order_ids() -> None:
    assert scrubbed_url("https://user:pw@api.example.com:8443/v3/pay/P382701924256432128?x=1#f") \
        == "https://api.example.com:8443/v3/pay/P382701924256432128"
    assert scrubbed_url("http://127.0.0.1:9216/cashier/eyJwIjoiUDEyMyJ9.c2lnbmF0dXJl") \
        == "http://127.0.0.1:9216/cashier/{token}"
