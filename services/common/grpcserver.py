"""Runs a grpc.aio server the same way for every service.

Standard health service, server reflection, metrics, tracing and error-mapping interceptors, a
Prometheus metrics port (metrics.py), and a graceful stop on SIGTERM or SIGINT: health turns
NOT_SERVING, new calls are refused, calls in flight drain.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from paymesh.services.common import eventloop
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import ErrorMappingInterceptor
from paymesh.services.common.logs import setup_logging
from paymesh.services.common.metrics import RpcMetricsInterceptor, serve_metrics
from paymesh.services.common.telemetry import server_interceptors, setup_tracing

log = logging.getLogger(__name__)
GRACE_SECONDS = 10.0


def build_server(service_names: Iterable[str]) -> tuple[grpc.aio.Server, health.aio.HealthServicer]:
    """A server with health and reflection registered; the caller adds its servicers."""
    server = grpc.aio.server(
        interceptors=[RpcMetricsInterceptor(), *server_interceptors(), ErrorMappingInterceptor()],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 << 20)])
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME]
    reflection.enable_server_reflection(names, server)
    return server, health_servicer


@dataclass
class RunningServer:
    """A started server and what must happen when it stops."""

    server: grpc.aio.Server
    health: health.aio.HealthServicer
    names: list[str]
    port: int
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Health NOT_SERVING, refuse new calls, drain calls in flight, then clean up."""
        for name in ["", *self.names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
        for cleanup in reversed(self.cleanups):
            await cleanup()


async def start(server: grpc.aio.Server, health_servicer: health.aio.HealthServicer,
                address: str, service_names: Iterable[str],
                cleanups: Iterable[Callable[[], Awaitable[None]]] = ()) -> RunningServer:
    """Binds (port 0 picks a free port), starts and marks every service SERVING."""
    port = server.add_insecure_port(address)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    names = list(service_names)
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("listening on port %d (event loop: %s)", port,
             type(asyncio.get_running_loop()).__module__.split(".")[0])
    return RunningServer(server, health_servicer, names, port, list(cleanups))


async def run_until_signal(running: RunningServer) -> None:
    """Serves until SIGTERM or SIGINT, then stops gracefully."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    log.info("stopping: draining calls in flight")
    await running.stop()


def run_service(name: str,
                create: Callable[[MeshConfig, str], Awaitable[RunningServer]]) -> None:
    """``python -m paymesh.services.<name>``: logging, tracing, metrics, serve until a signal."""
    setup_logging(name)
    config = MeshConfig.from_env()
    provider = setup_tracing(name, config.data_dir)

    async def serve() -> None:
        metrics = await serve_metrics(name, config)
        try:
            await run_until_signal(await create(config, config.addrs[name]))
        finally:
            if metrics is not None:
                await metrics.close()

    try:
        eventloop.run(serve())
    finally:
        provider.shutdown()  # flushes the spans still batched
