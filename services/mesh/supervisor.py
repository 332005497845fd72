"""Starts every service and Envoy as separate processes and watches them.

``paymesh up`` migrates the databases, starts merchant, account, channel, gateway and
reconciliation (each ``python -m`` its package), the jobs process (``python -m paymesh.jobs``)
and Envoy, waits until every one reports healthy, and stops them all on Ctrl-C or SIGTERM:
SIGTERM to each (graceful drain, the trace store last), SIGKILL to whatever is still running after
15 s. The services start side by side, the jobs process once they are healthy. Logs go to
``<data dir>/logs/<process>.log``.

Services are healthy when their gRPC health service says SERVING; the jobs process serves
nothing, so it is healthy when it is alive and has written its heartbeat file (its pid in
``<data dir>/jobs.heartbeat``, written once its scheduler runs).

Traces: unless OTEL_EXPORTER_OTLP_ENDPOINT names a collector, the local trace store
(services/tracestore) starts before everything else, and every process and Envoy export their
spans to it (the children get OTEL_EXPORTER_OTLP_ENDPOINT pointing at it). Every process also
serves Prometheus metrics on its PAYMESH_<SVC>_METRICS_PORT.

Once the mesh is up, a child that dies (a crash, ``kill -9``, an OOM kill) is started again with
the same command line (``supervise``, called in ``paymesh up``'s loop): after 0.5 s, then 1, 2,
4... up to 30 s when it keeps dying before it has stayed up 60 s; after 5 such crashes in a row
the supervisor gives up and ``paymesh up`` stops the mesh. Each restart is announced on stderr
and rewrites ``mesh.json`` with the new pid. The channel simulators are never restarted (a new
one would have new keys and port): their death stops the mesh, as during start-up.
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
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from paymesh.jobs.heartbeat import read_heartbeat
from paymesh.services.common import db
from paymesh.services.common.config import SERVICES, MeshConfig
from paymesh.services.common.telemetry import ENDPOINT_VARIABLE
from paymesh.services.mesh import envoy
from paymesh.services.mesh.simulators import SIMULATED, RunningSimulator, start_simulator

START_ORDER = ("merchant", "account", "channel", "gateway", "reconciliation", "jobs")
# The module each process runs with ``python -m``; services default to paymesh.services.<name>.
MODULES = {"jobs": "paymesh.jobs", "tracestore": "paymesh.services.tracestore"}
MIGRATED = ("merchant", "gateway", "channel", "account", "reconciliation")
STOP_SECONDS = 15.0
# Restarts of crashed children: the first after RESTART_FIRST_DELAY, doubling up to
# RESTART_MAX_DELAY while the child keeps dying before it has stayed up RESTART_STABLE_SECONDS;
# more than RESTART_LIMIT such crashes in a row and the supervisor gives up.
RESTART_FIRST_DELAY = 0.5
RESTART_MAX_DELAY = 30.0
RESTART_STABLE_SECONDS = 60.0
RESTART_LIMIT = 5


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
    wanted += [(config.metrics_host, port, f"PAYMESH_{name.upper()}_METRICS_PORT")
               for name, port in config.metrics_ports.items()
               if port and name in START_ORDER]
    if not os.environ.get(ENDPOINT_VARIABLE):
        host, _, port = config.tracestore_addr.rpartition(":")
        wanted.append((host, int(port), "PAYMESH_TRACESTORE_ADDR"))
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
    """One supervised process. ``argv`` is how to start it again; None: never restarted."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    argv: list[str] | None = None
    started_at: float = field(default_factory=time.monotonic)
    crashes: int = 0  # crashes in a row, each before it had stayed up RESTART_STABLE_SECONDS
    restarts: int = 0  # restarts since the mesh started
    restart_at: float | None = None  # when the restart of a dead child is due


class Mesh:
    """The processes of one mesh."""

    def __init__(self, config: MeshConfig) -> None:
        self.config = config
        self.children: list[Child] = []
        self.simulators: list[RunningSimulator] = []
        # A collector of the operator's, or the local trace store (started by start()).
        self.otlp_endpoint = os.environ.get(ENDPOINT_VARIABLE) or None
        self.trace_store = self.otlp_endpoint is None
        if self.otlp_endpoint is None:
            self.otlp_endpoint = f"http://{config.tracestore_addr}"

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
        self.children.append(Child(name, self._popen(argv, log), log, argv))

    def _popen(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=self._env(),
                                    start_new_session=True)

    async def start_all(self, timeout: float = 60.0) -> None:
        await self.start(timeout)
        await self.wait_healthy(["envoy"], timeout)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PAYMESH_DATA_DIR"] = str(self.config.data_dir)
        env.setdefault("OTEL_BSP_SCHEDULE_DELAY", "500")
        if self.otlp_endpoint is not None:
            env[ENDPOINT_VARIABLE] = self.otlp_endpoint
        return env

    async def start(self, timeout: float = 60.0) -> None:
        """Starts the trace store, then the services side by side (none calls another while it
        starts; their clients connect when first used), then, once all are healthy, the jobs
        process, which calls them, and Envoy."""
        _check_ports_free(self.config)
        services = [name for name in START_ORDER if name != "jobs"]
        waves = [["tracestore"]] if self.trace_store else []
        waves += [services, [name for name in START_ORDER if name == "jobs"]]
        for wave in waves:
            for service in wave:
                module = MODULES.get(service, f"paymesh.services.{service}")
                self._spawn(service, [sys.executable, "-m", module])
            await self.wait_healthy(wave, timeout)
        envoy_yaml = self.config.data_dir / "envoy.yaml"
        envoy_yaml.write_text(envoy.render(self.config, self.otlp_endpoint))
        self._spawn("envoy", [envoy.envoy_binary(), "-c", str(envoy_yaml),
                              "--disable-hot-restart", "--log-level", "warn"])

    def dead(self) -> Child | None:
        for child in self.children:
            if child.process.poll() is not None:
                return child
        return None

    def supervise(self) -> Child | None:
        """Restarts dead children with backoff (see the module docs); returns a dead child that
        is not restarted (a simulator, or one that crashed too often in a row), else None.
        Called every fraction of a second once the mesh is up; it never blocks."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.argv is None:
                return child
            if child.restart_at is None:
                stable = now - child.started_at >= RESTART_STABLE_SECONDS
                child.crashes = 1 if stable else child.crashes + 1
                if child.crashes > RESTART_LIMIT:
                    return child
                delay = min(RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** (child.crashes - 1))
                child.restart_at = now + delay
                print(f"paymesh: {child.name} exited with code {code}; restarting it in "
                      f"{delay:g} s (crash {child.crashes} in a row, see {child.log})",
                      file=sys.stderr, flush=True)
            elif now >= child.restart_at:
                child.process = self._popen(child.argv, child.log)
                child.started_at, child.restart_at = now, None
                child.restarts += 1
                print(f"paymesh: {child.name} restarted (pid {child.process.pid})",
                      file=sys.stderr, flush=True)
                if (self.config.data_dir / "mesh.json").exists():
                    self.write_description()
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
        address = (self.config.tracestore_addr if name == "tracestore"
                   else self.config.addrs[name])
        async with grpc.aio.insecure_channel(address) as channel:
            try:
                answer = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            except grpc.aio.AioRpcError:
                return False
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)

    def stop(self) -> None:
        """SIGTERM everything (gateway and Envoy first), then SIGKILL stragglers; the trace
        store last, once the others are gone, so their final spans are kept and no exporter
        waits out its retries against a store that has stopped."""
        store = [c for c in self.children if c.name == "tracestore"]
        deadline = time.monotonic() + STOP_SECONDS
        for group in ([c for c in self.children if c.name != "tracestore"], store):
            for child in reversed(group):
                if child.process.poll() is None:
                    child.process.send_signal(signal.SIGTERM)
            for child in group:
                try:
                    child.process.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()

    def describe(self) -> dict[str, object]:
        return {"restUrl": self.config.public_url,
                "grpc": dict(self.config.addrs),
                "envoyAdmin": f"http://127.0.0.1:{self.config.envoy_admin_port}",
                "metrics": {name: f"http://{self.config.metrics_host}:{port}/metrics"
                            for name, port in self.config.metrics_ports.items()
                            if port and name in START_ORDER},
                "traces": (str(self.config.data_dir / "traces.db") if self.trace_store
                           else self.otlp_endpoint),
                "dataDir": str(self.config.data_dir),
                "pids": {c.name: c.process.pid for c in self.children}}

    def write_description(self) -> None:
        (self.config.data_dir / "mesh.json").write_text(json.dumps(self.describe(), indent=2))


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
