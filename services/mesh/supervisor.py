"""Starts every service and Envoy as separate processes and watches them.

``paymesh up`` migrates the databases, starts merchant, channel and gateway (each ``python -m``
its package), the jobs process (``python -m paymesh.jobs``) and Envoy, waits until every one
reports healthy, and stops them all on Ctrl-C or SIGTERM: SIGTERM to each (graceful drain),
SIGKILL to whatever is still running after 15 s. Logs go to ``<data dir>/logs/<process>.log``.

Services are healthy when their gRPC health service says SERVING; the jobs process serves
nothing, so it is healthy when it is alive and has written its heartbeat file (its pid in
``<data dir>/jobs.heartbeat``, written once its scheduler runs).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from paymesh.jobs.heartbeat import read_heartbeat
from paymesh.services.common import db
from paymesh.services.common.config import SERVICES, MeshConfig
from paymesh.services.mesh import envoy
from paymesh.services.mesh.simulators import SIMULATED, RunningSimulator, start_simulator

START_ORDER = ("merchant", "account", "channel", "gateway", "jobs")
# The module each process runs with ``python -m``; services default to paymesh.services.<name>.
MODULES = {"jobs": "paymesh.jobs"}
MIGRATED = ("merchant", "gateway", "channel", "account")
STOP_SECONDS = 15.0


class MeshError(RuntimeError):
    """The mesh could not start; the message says why."""


def prepare_data_dir(data_dir: Path) -> None:
    """Creates the data directory with an owner-only master key and admin token."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "logs").mkdir(exist_ok=True)
    for name, make in (("master.key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()),
                       ("admin.token", lambda: secrets.token_urlsafe(32))):
        path = data_dir / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(make() + "\n")


def migrate_all(config: MeshConfig) -> None:
    for service in MIGRATED:
        db.migrate(service, config.db_urls[service])


def _check_ports_free(config: MeshConfig) -> None:
    wanted = [(config.http_host, config.http_port, "PAYMESH_HTTP_PORT"),
              ("127.0.0.1", config.envoy_admin_port, "PAYMESH_ENVOY_ADMIN_PORT")]
    wanted += [(config.addrs[s].rpartition(":")[0], config.listen_port(s),
                f"PAYMESH_{s.upper()}_ADDR") for s in SERVICES]
    for host, port, variable in wanted:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                raise MeshError(f"port {port} on {host} is in use (is another paymesh running?); "
                                f"choose another with {variable}") from None


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


class Mesh:
    """The processes of one mesh."""

    def __init__(self, config: MeshConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.simulators: list[RunningSimulator] = []

    def start_simulators(self) -> None:
        """Starts the channel simulators and records them in ``simulators.json``."""
        for if_code in SIMULATED:
            try:
                running = start_simulator(if_code, self.config.data_dir / "logs")
            except RuntimeError as error:
                raise MeshError(str(error)) from None
            self.simulators.append(running)
            self.children.append(Child(f"{if_code} simulator", running.process,
                                       self.config.data_dir / "logs" / f"simulator-{if_code}.log"))
        (self.config.data_dir / "simulators.json").write_text(json.dumps(
            {s.if_code: {"baseUrl": s.base_url} for s in self.simulators}, indent=2))

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = self.config.data_dir / "logs" / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=self._env(),
                                       start_new_session=True)
        self.children.append(Child(name, process, log))

    async def start_all(self, timeout: float = 60.0) -> None:
        await self.start(timeout)
        await self.wait_healthy(["envoy"], timeout)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PAYMESH_DATA_DIR"] = str(self.config.data_dir)
        env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "500")
        return env

    async def start(self, timeout: float = 60.0) -> None:
        """Starts the services in dependency order, each healthy before the next, then Envoy."""
        _check_ports_free(self.config)
        for service in START_ORDER:
            module = MODULES.get(service, f"paymesh.services.{service}")
            self._spawn(service, [sys.executable, "-m", module])
            await self.wait_healthy([service], timeout)
        envoy_yaml = self.config.data_dir / "envoy.yaml"
        envoy_yaml.write_text(envoy.render(self.config))
        self._spawn("envoy", [envoy.envoy_binary(), "-c", str(envoy_yaml),
                              "--disable-hot-restart", "--log-level", "warn"])

    def dead(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    async def wait_healthy(self, names: list[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(names)
        while pending:
            child = self.dead()
            if child is not None:
                raise MeshError(f"{child.name} exited with code {child.process.returncode}:\n"
                                + tail(child.log))
            for name in sorted(pending):
                if await self._healthy(name):
                    pending.discard(name)
            if pending and time.monotonic() > deadline:
                raise MeshError(f"not healthy after {timeout:.0f} s: {', '.join(sorted(pending))}")
            if pending:
                await asyncio.sleep(0.1)

    async def _healthy(self, name: str) -> bool:
        if name == "jobs":
            beat = read_heartbeat(self.config.data_dir)
            child = next((c for c in self.children if c.name == "jobs"), None)
            return beat is not None and child is not None and beat.get("pid") == child.process.pid
        if name == "envoy":
            try:
                async with httpx.AsyncClient(timeout=1.0) as client:
                    answer = await client.get(
                        f"http://127.0.0.1:{self.config.envoy_admin_port}/ready")
                return answer.status_code == 200
            except httpx.HTTPError:
                return False
        async with grpc.aio.insecure_channel(self.config.addrs[name]) as channel:
            try:
                answer = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            except grpc.aio.AioRpcError:
                return False
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    def stop(self) -> None:
        """SIGTERM everything (gateway and Envoy first), then SIGKILL stragglers."""
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for child in self.children:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

    def describe(self) -> dict[str, object]:
        return {"restUrl": self.config.public_url,
                "grpc": dict(self.config.addrs),
                "envoyAdmin": f"http://127.0.0.1:{self.config.envoy_admin_port}",
                "dataDir": str(self.config.data_dir),
                "pids": {c.name: c.process.pid for c in self.children}}

    def write_description(self) -> None:
        (self.config.data_dir / "mesh.json").write_text(json.dumps(self.describe(), indent=2))


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
