"""gRPC channels to the other services, traced like every server."""

from __future__ import annotations

import grpc

from paymesh.services.common.telemetry import client_interceptors


def open_channel(address: str) -> grpc.aio.Channel:
    """An insecure channel (internal gRPC stays on a private network) with tracing."""
    return grpc.aio.insecure_channel(address, interceptors=client_interceptors(), options=[
        # Reconnect quickly after a peer restarts instead of failing calls for seconds.
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ])
