"""The container health probe: gRPC health, the jobs heartbeat, Envoy's /ready."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from paymesh.services.common.grpcserver import build_server, start
from paymesh.services.common.healthcheck import grpc_serving, http_ready, jobs_alive
from paymesh.services.common.metrics import MetricsServer
from tests.conftest import free_port


async def test_grpc_health_is_serving_until_the_server_stops() -> None:
    server, health = build_server(["paymesh.test.v1.Thing"])
    running = await start(server, health, "127.0.0.1:0", ["paymesh.test.v1.Thing"])
    address = f"127.0.0.1:{running.port}"
    assert await grpc_serving(address)
    assert await grpc_serving(address, "paymesh.test.v1.Thing")
    assert not await grpc_serving(address, "paymesh.test.v1.Other")
    await running.stop(0)
    assert not await grpc_serving(address, timeout=0.5)


def test_jobs_are_alive_while_their_heartbeat_is_fresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYMESH_DATA_DIR", str(tmp_path))
    assert not jobs_alive(30)
    beat = tmp_path / "jobs.heartbeat"
    beat.write_text(json.dumps({"pid": 1, "time": time.time()}))
    assert jobs_alive(30)
    beat.write_text(json.dumps({"pid": 1, "time": time.time() - 60}))
    assert not jobs_alive(30)


async def test_http_ready_wants_200() -> None:
    server = MetricsServer()
    port = await server.start("127.0.0.1", 0)
    try:
        assert await asyncio_to_thread(http_ready, f"http://127.0.0.1:{port}/metrics")
        assert not await asyncio_to_thread(http_ready, f"http://127.0.0.1:{port}/ready")
    finally:
        await server.close()
    assert not http_ready(f"http://127.0.0.1:{free_port()}/ready", timeout=0.5)


async def asyncio_to_thread(fn: Callable[..., bool], *args: object) -> bool:
    return await asyncio.to_thread(fn, *args)


def test_the_module_exits_non_zero_when_unhealthy(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "paymesh.services.common.healthcheck", "jobs"],
                          env={**os.environ, "PAYMESH_DATA_DIR": str(tmp_path)},
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (1, "NOT_SERVING")
