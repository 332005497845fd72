"""Prometheus metrics: every process serves its own at ``http://<host>:<port>/metrics``.

The port is PAYMESH_<PROCESS>_METRICS_PORT (config.METRICS_PORTS; 0 turns it off), the host
PAYMESH_METRICS_HOST. Two kinds of figures, all documented in docs/operations.md:

- request figures, counted in the process with prometheus_client (its process-wide registry,
  like OpenTelemetry's process-wide tracer provider): every gRPC call by method and status code
  (``RpcMetricsInterceptor``, installed by grpcserver.build_server), every job run by job and
  outcome (the jobs process);
- business figures, computed when scraped from the owning service's own database (a small
  engine of its own), so nothing on the payment path changes and the values survive restarts:
  orders created and paid per channel and wayCode, refunds, notification backlog and failures,
  ledger posting lag (gateway), postings (account), the last reconciliation batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, Protocol

import grpc
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FIGURES_TIMEOUT = 5.0


@cache
def _rpc_instruments() -> tuple[Counter, Histogram]:
    disable_created_metrics()  # no *_created series: they double the output and say little
    requests = Counter("paymesh_rpc_requests", "gRPC calls served, by method and status code",
                       ["method", "code"], registry=REGISTRY)
    latency = Histogram("paymesh_rpc_duration_seconds", "time to serve a gRPC call, by method",
                        ["method"], buckets=LATENCY_BUCKETS, registry=REGISTRY)
    return requests, latency


@cache
def job_instruments() -> tuple[Counter, Histogram, Gauge]:
    """Runs by job and outcome, their duration, and each job's last successful run."""
    disable_created_metrics()
    runs = Counter("paymesh_job_runs", "job runs made by this process, by job and outcome "
                   "(ok, failed)", ["job", "outcome"], registry=REGISTRY)
    duration = Histogram("paymesh_job_duration_seconds", "time one job run took", ["job"],
                         buckets=LATENCY_BUCKETS, registry=REGISTRY)
    last_ok = Gauge("paymesh_job_last_success_timestamp_seconds",
                    "Unix time of the job's last successful run in this process", ["job"],
                    registry=REGISTRY)
    return runs, duration, last_ok


@cache
def shared_state_instruments() -> tuple[Counter, Gauge, Counter]:
    """Shared-state (Redis) calls that could not be made, whether it answers, and the checks
    answered without it (common.sharedstate)."""
    disable_created_metrics()
    unavailable = Counter("paymesh_shared_state_unavailable", "shared-state (Redis) calls "
                          "that failed, by operation and why (error: Redis failed or timed out; "
                          "open: refused at once by the open circuit breaker)",
                          ["operation", "why"], registry=REGISTRY)
    up = Gauge("paymesh_shared_state_up", "1 while the shared state (Redis) answers, 0 while "
               "its circuit breaker is open", registry=REGISTRY)
    degraded = Counter("paymesh_shared_state_degraded", "work done without the shared state, "
                       "by use (replay: a replay check answered by the process-local window; "
                       "job_turn: a job turn skipped; config_change: a config change not "
                       "announced, watch streams ended)", ["use"], registry=REGISTRY)
    return unavailable, up, degraded


def _code_name(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if error is None:
        return "OK"
    return "CANCELLED" if isinstance(error, asyncio.CancelledError) else "UNKNOWN"


class RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts every call and its latency by method and final status code (outermost)."""

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        requests, latency = _rpc_instruments()

        def record(context: grpc.aio.ServicerContext, started: float,
                   error: BaseException | None) -> None:
            requests.labels(method, _code_name(context, error)).inc()
            latency.labels(method).observe(time.perf_counter() - started)

        if handler.unary_unary is not None or handler.stream_unary is not None:
            streaming_in = handler.unary_unary is None
            inner = handler.stream_unary if streaming_in else handler.unary_unary

            async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                started, error = time.perf_counter(), None
                try:
                    return await inner(request, context)
                except BaseException as raised:
                    error = raised
                    raise
                finally:
                    record(context, started, error)

            make = (grpc.stream_unary_rpc_method_handler if streaming_in
                    else grpc.unary_unary_rpc_method_handler)
            return make(unary, request_deserializer=handler.request_deserializer,
                        response_serializer=handler.response_serializer)
        streaming_in = handler.unary_stream is None
        inner_stream = handler.stream_stream if streaming_in else handler.unary_stream

        async def stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, error = time.perf_counter(), None
            try:
                async for item in inner_stream(request, context):
                    yield item
            except BaseException as raised:
                error = raised
                raise
            finally:
                record(context, started, error)

        make_stream = (grpc.stream_stream_rpc_method_handler if streaming_in
                       else grpc.unary_stream_rpc_method_handler)
        return make_stream(stream, request_deserializer=handler.request_deserializer,
                           response_serializer=handler.response_serializer)


class Figures(Protocol):
    """Business figures read from a service's database when the metrics are scraped."""

    async def families(self) -> list[Metric]: ...

    async def close(self) -> None: ...


class _Fixed:
    """A collector answering with metric families computed beforehand."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


async def render(figures: Sequence[Figures] = (),
                 registry: CollectorRegistry = REGISTRY) -> bytes:
    """The whole text exposition: the process's counters, then the business figures."""
    families: list[Metric] = []
    healthy = GaugeMetricFamily("paymesh_figures_up", "1 when the business figures could be "
                                "read from the database at this scrape", labels=[])
    ok = 1
    for figure in figures:
        try:
            async with asyncio.timeout(FIGURES_TIMEOUT):
                families.extend(await figure.families())
        except Exception as error:  # noqa: BLE001 - the request figures are still worth serving
            log.warning("business figures unavailable: %s", type(error).__name__)
            ok = 0
    if figures:
        healthy.add_metric([], ok)
        families.append(healthy)
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_Fixed(families))  # type: ignore[arg-type]
    return generate_latest(registry) + generate_latest(extra)


class MetricsServer:
    """A minimal HTTP/1.1 server in the process's event loop: GET /metrics, nothing else."""

    def __init__(self, figures: Sequence[Figures] = ()) -> None:
        self._figures = list(figures)
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listens on ``host:port`` (0 picks a free port); returns the port."""
        self._server = await asyncio.start_server(self._handle, host, port)
        bound: int = self._server.sockets[0].getsockname()[1]
        log.info("metrics on http://%s:%d/metrics", host, bound)
        return bound

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        for figure in self._figures:
            await figure.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            if method == "GET" and path in ("/metrics", "/"):
                status, body = "200 OK", await render(self._figures)
                kind = CONTENT_TYPE_LATEST
            else:
                status, body, kind = "404 Not Found", b"GET /metrics\n", "text/plain"
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                         .encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


async def serve_metrics(process: str, config: Any) -> MetricsServer | None:
    """Starts ``process``'s metrics server as configured (MeshConfig); None when it is off."""
    port = config.metrics_port(process)
    if not port:
        return None
    server = MetricsServer(figures_for(process, config))
    await server.start(config.metrics_host, port)
    return server


def figures_for(process: str, config: Any) -> list[Figures]:
    """The business figures of a process, reading its own database."""
    from paymesh.services.common.db import open_engine

    known: dict[str, Callable[[AsyncEngine], Figures]] = {
        "gateway": GatewayFigures, "account": AccountFigures,
        "reconciliation": ReconciliationFigures}
    make = known.get(process)
    if make is None:
        return []
    return [make(open_engine(config.db_urls[process]))]


class _DatabaseFigures:
    """Figures read with one small query batch from one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def close(self) -> None:
        await self._engine.dispose()

    async def _rows(self, sql: str, **bind: Any) -> list[Any]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(text(sql), bind)).all())


def _counter(name: str, doc: str, labels: Sequence[str], rows: Iterable[Sequence[Any]]
             ) -> CounterMetricFamily:
    family = CounterMetricFamily(name, doc, labels=list(labels))
    for row in rows:
        family.add_metric([str(v) for v in row[:-1]], float(row[-1] or 0))
    return family


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _gauges(name: str, doc: str, labels: Sequence[str], rows: Iterable[Sequence[Any]]
            ) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels))
    for row in rows:
        family.add_metric([str(v) for v in row[:-1]], float(row[-1] or 0))
    return family


def _age_seconds(oldest: datetime | str | None) -> float:
    if oldest is None:
        return 0.0
    if isinstance(oldest, str):  # SQLite hands back text
        oldest = datetime.fromisoformat(oldest)
    now = datetime.now(UTC).replace(tzinfo=None)  # the databases keep naive UTC
    return max(0.0, (now - oldest.replace(tzinfo=None)).total_seconds())


class GatewayFigures(_DatabaseFigures):
    """Orders, refunds, notifications and the outbox, from the gateway's database."""

    async def families(self) -> list[Metric]:
        from paymesh.services.gateway.ledger_events import TOPICS as LEDGER_TOPICS
        from paymesh.services.gateway.models import PayOrderState, RefundState
        from paymesh.services.gateway.notify_models import NotifyState

        created = await self._rows("SELECT if_code, way_code, COUNT(*) FROM pay_order "
                                   "GROUP BY if_code, way_code")
        paid = await self._rows("SELECT if_code, way_code, currency, COUNT(*), SUM(amount) "
                                "FROM pay_order WHERE success_at IS NOT NULL "
                                "GROUP BY if_code, way_code, currency")
        states = await self._rows("SELECT state, COUNT(*) FROM pay_order GROUP BY state")
        refunds = await self._rows("SELECT if_code, state, COUNT(*) FROM refund_order "
                                   "GROUP BY if_code, state")
        notify = dict(await self._rows("SELECT state, COUNT(*) FROM notify_record "
                                       "GROUP BY state"))
        attempts = (await self._rows("SELECT COUNT(*) FROM notify_attempt"))[0][0]
        topics = {f"t{i}": topic for i, topic in enumerate(LEDGER_TOPICS)}
        lag = (await self._rows(
            "SELECT MIN(e.created_at) FROM outbox_event e WHERE e.delivered_at IS NULL "
            f"AND e.topic IN ({', '.join(':' + key for key in topics)}) AND NOT EXISTS "
            "(SELECT 1 FROM outbox_delivery d WHERE d.event_id = e.event_id "
            "AND d.consumer = 'ledger')", **topics))[0][0]
        backlog = await self._rows("SELECT topic, COUNT(*) FROM outbox_event "
                                   "WHERE delivered_at IS NULL GROUP BY topic")
        return [
            _counter("paymesh_pay_orders_created", "pay orders created, by channel and wayCode",
                     ["if_code", "way_code"], created),
            _counter("paymesh_pay_orders_paid", "pay orders paid, by channel and wayCode",
                     ["if_code", "way_code"], [(r[0], r[1], r[3]) for r in paid]),
            _counter("paymesh_pay_orders_paid_fen", "amount paid in minor units (fen), by "
                     "channel, wayCode and currency", ["if_code", "way_code", "currency"],
                     [(r[0], r[1], r[2], r[4]) for r in paid]),
            _gauges("paymesh_pay_orders", "pay orders by current state", ["state"],
                    [(PayOrderState.NAMES.get(s, str(s)), n) for s, n in states]),
            _gauges("paymesh_refund_orders", "refund orders by channel and current state",
                    ["if_code", "state"],
                    [(i, RefundState.NAMES.get(s, str(s)), n) for i, s, n in refunds]),
            _gauge("paymesh_notify_backlog", "merchant notifications still being delivered "
                   "(state sending)", notify.get(NotifyState.SENDING, 0)),
            _gauge("paymesh_notify_failed", "merchant notifications given up after their last "
                   "attempt (state failed; an operator may resend)",
                   notify.get(NotifyState.FAILED, 0)),
            _counter("paymesh_notify_delivered", "merchant notifications acknowledged", [],
                     [(notify.get(NotifyState.SUCCESS, 0),)]),
            _counter("paymesh_notify_attempts", "merchant notification attempts made", [],
                     [(attempts,)]),
            _gauge("paymesh_ledger_posting_lag_seconds", "age of the oldest money event not "
                   "yet posted to the ledger; 0 when all are posted", _age_seconds(lag)),
            _gauges("paymesh_outbox_undelivered", "outbox events not yet delivered to every "
                    "consumer, by topic", ["topic"], backlog),
        ]


class AccountFigures(_DatabaseFigures):
    """Ledger postings, from the account service's database."""

    async def families(self) -> list[Metric]:
        postings = await self._rows("SELECT status, COUNT(*) FROM posting GROUP BY status")
        return [_counter("paymesh_ledger_postings", "ledger postings recorded, by status",
                         ["status"], postings)]


class ReconciliationFigures(_DatabaseFigures):
    """The last finished reconciliation batch and open mistakes, from the reconciliation
    service's database."""

    async def families(self) -> list[Metric]:
        last = await self._rows(
            "SELECT state, if_code, bill_date, mistake_count, matched_count, finished_at "
            "FROM recon_batch WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1")
        batches = await self._rows("SELECT state, COUNT(*) FROM recon_batch GROUP BY state")
        open_mistakes = await self._rows(
            "SELECT mistake_type, COUNT(*) FROM recon_mistake "
            "WHERE handle_state IN ('NOHANDLE', 'HANDLING') GROUP BY mistake_type")
        families: list[Metric] = [
            _gauges("paymesh_reconciliation_batches", "reconciliation batches by state",
                    ["state"], batches),
            _gauges("paymesh_reconciliation_open_mistakes", "mistakes not yet handled, by type",
                    ["mistake_type"], open_mistakes)]
        if last:
            state, if_code, bill_date, mistakes, matched, finished = last[0]
            info = GaugeMetricFamily(
                "paymesh_reconciliation_last_batch", "the last finished reconciliation batch: "
                "1, labelled with its result (SUCCESS, FAIL, ERROR, NOBILL), channel and date",
                labels=["state", "if_code", "bill_date"])
            info.add_metric([str(state), str(if_code), str(bill_date)], 1)
            families += [
                info,
                _gauge("paymesh_reconciliation_last_batch_mistakes",
                       "mistakes found by the last finished batch", float(mistakes or 0)),
                _gauge("paymesh_reconciliation_last_batch_matched",
                       "records matched by the last finished batch", float(matched or 0)),
                _gauge("paymesh_reconciliation_last_batch_age_seconds",
                       "seconds since the last batch finished", _age_seconds(finished))]
        return families
