"""Wiring and lifecycle of the trace store: OTLP TraceService/Export into the SQLite store.

It listens on PAYMESH_TRACESTORE_ADDR (127.0.0.1:9223) with the standard health service, keeps
spans in ``<data dir>/traces.db`` for PAYMESH_TRACE_KEEP_HOURS (72), and traces nothing itself
(its own spans would feed back into it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from paymesh.services.common import eventloop
from paymesh.services.common.config import ConfigError, MeshConfig
from paymesh.services.common.grpcserver import (
    RunningServer,
    build_server,
    run_until_signal,
    start,
)
from paymesh.services.common.logs import setup_logging
from paymesh.services.tracestore.store import STORE_FILE, SpanStore, spans_of

SERVICE_NAMES = [trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name]


@dataclass(frozen=True)
class TraceStoreConfig:
    """How long spans are kept."""

    keep_hours: float = 72.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TraceStoreConfig:
        env = os.environ if env is None else env
        raw = env.get("PAYMESH_TRACE_KEEP_HOURS", "")
        if not raw:
            return cls()
        try:
            hours = float(raw)
        except ValueError:
            raise ConfigError(f"PAYMESH_TRACE_KEEP_HOURS must be a number, got {raw!r}") from None
        if not 0 < hours <= 24 * 365:
            raise ConfigError(f"PAYMESH_TRACE_KEEP_HOURS must be above 0 and at most a year, "
                              f"got {raw!r}")
        return cls(keep_hours=hours)


class TraceReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    """OTLP's TraceService: every exported span goes into the store."""

    def __init__(self, store: SpanStore) -> None:
        self._store = store

    async def Export(self, request: trace_service_pb2.ExportTraceServiceRequest,
                     context: grpc.aio.ServicerContext
                     ) -> trace_service_pb2.ExportTraceServiceResponse:
        spans = spans_of(request)
        if spans:
            await asyncio.to_thread(self._store.add, spans)
        return trace_service_pb2.ExportTraceServiceResponse()


async def create(config: MeshConfig, address: str,
                 settings: TraceStoreConfig | None = None) -> RunningServer:
    """Builds and starts the trace store on ``address`` (port 0 picks one)."""
    settings = settings or TraceStoreConfig.from_env()
    store = SpanStore(config.data_dir / STORE_FILE, keep_hours=settings.keep_hours)
    server, health = build_server(SERVICE_NAMES)
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceReceiver(store), server)

    async def close() -> None:
        store.close()

    return await start(server, health, address, SERVICE_NAMES, [close])


def main() -> None:
    """Entry point of ``python -m paymesh.services.tracestore``."""
    setup_logging("tracestore")
    config = MeshConfig.from_env()
    settings = TraceStoreConfig.from_env()

    async def serve() -> None:
        await run_until_signal(await create(config, config.tracestore_addr, settings))

    eventloop.run(serve())
