"""The mesh a drill runs against: one of its own (``paymesh up --demo`` in a temporary data
directory, like bench/unified_order.py) or a running one (``--data-dir``).

Its own mesh listens on free ports, so it never collides with a ``paymesh up`` on the defaults,
and takes its backend from PAYMESH_DB_URL / PAYMESH_SHARED_STATE_URL like the mesh itself; on
MySQL/MariaDB every database name gets a suffix of the run (``..._d<run>``), and Redis keys a
prefix of their own, so a drill never touches another mesh's data; those databases are dropped
when the drill ends. Unless the environment says otherwise, its jobs run every second or two and
the merchant-notification schedule runs 100 times faster (PAYMESH_NOTIFY_SCHEDULE_SCALE=0.01),
so that quiescence comes in seconds instead of minutes.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from paymesh.jobs.heartbeat import read_heartbeat
from paymesh.services.common import db
from paymesh.services.common.config import METRICS_PORTS, SERVICES, MeshConfig
from paymesh.services.common.ports import free_port
from paymesh.services.drills import PROCESSES  # noqa: F401 - re-exported

START_SECONDS = 120.0
STOP_SECONDS = 60.0
# The jobs and notification pace of a drill's own mesh, unless the environment sets them.
FAST_PACE = {
    "PAYMESH_JOBS_SWEEP_PAYING_INTERVAL": "1",
    "PAYMESH_JOBS_PAYING_AGE": "3",
    "PAYMESH_JOBS_EXPIRE_INTERVAL": "5",
    "PAYMESH_JOBS_REFUND_INTERVAL": "2",
    "PAYMESH_JOBS_NOTIFY_INTERVAL": "1",
    "PAYMESH_JOBS_RUN_TIMEOUT": "15",
    "PAYMESH_NOTIFY_SCHEDULE_SCALE": "0.01",
}


class TargetError(RuntimeError):
    """The mesh could not be started or reached; the message says why."""


def own_env(data_dir: Path, base: Mapping[str, str], run: str) -> dict[str, str]:
    """The environment of a drill's own mesh: free ports, its own data, the base's backend."""
    env = {k: v for k, v in base.items() if not k.startswith("PAYMESH_") or k in (
        "PAYMESH_DB_URL", "PAYMESH_SHARED_STATE_URL") or
        k.startswith(("PAYMESH_JOBS_", "PAYMESH_NOTIFY_", "PAYMESH_SETTLEMENT_"))}
    env["PAYMESH_DATA_DIR"] = str(data_dir)
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = ""  # spans stay in the mesh's own trace store
    for name, value in FAST_PACE.items():
        env.setdefault(name, value)
    taken: set[int] = set()
    env["PAYMESH_HTTP_PORT"] = str(free_port(taken))
    env["PAYMESH_ENVOY_ADMIN_PORT"] = str(free_port(taken))
    env["PAYMESH_TRACESTORE_ADDR"] = f"127.0.0.1:{free_port(taken)}"
    for service in SERVICES:
        env[f"PAYMESH_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port(taken)}"
    for process in METRICS_PORTS:
        env[f"PAYMESH_{process.upper()}_METRICS_PORT"] = str(free_port(taken))
    template = env.get("PAYMESH_DB_URL", "")
    if template and not db.is_sqlite(template):
        base, question, query = template.partition("?")
        head, _, name = base.rpartition("/")
        env["PAYMESH_DB_URL"] = f"{head}/{name or 'paymesh_{service}'}_d{run}{question}{query}"
    if env.get("PAYMESH_SHARED_STATE_URL", "memory://").startswith("redis"):
        env["PAYMESH_SHARED_STATE_PREFIX"] = f"paymesh:drill:{run}:"
    return env


@dataclass
class Target:
    """A mesh under drill and what a drill needs to reach it."""

    config: MeshConfig
    env: dict[str, str]
    owned: bool
    process: subprocess.Popen[bytes] | None = None
    scratch: Path | None = None  # the own mesh's temporary data directory
    backend: str = field(init=False)

    def __post_init__(self) -> None:
        self.backend = "sqlite" if db.is_sqlite(self.config.db_urls["gateway"]) else "mariadb"
        if self.config.shared_state_url.startswith("redis"):
            self.backend += "+redis"

    @property
    def rest_url(self) -> str:
        return self.config.public_url

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    def pids(self) -> dict[str, int]:
        """The pid of every process, as ``paymesh up`` last wrote them (mesh.json)."""
        try:
            described = json.loads((self.data_dir / "mesh.json").read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return {str(k): int(v) for k, v in described.get("pids", {}).items()}

    async def healthy(self, name: str) -> bool:
        """Whether ``name`` (a service, ``jobs`` or ``envoy``) answers as ``paymesh up`` checks."""
        if name == "jobs":
            beat = read_heartbeat(self.data_dir)
            return beat is not None and beat.get("pid") == self.pids().get("jobs")
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

    def log_tail(self, lines: int = 40) -> str:
        """The end of ``paymesh up``'s own output (own meshes only)."""
        path = self.data_dir / "up.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, keep: bool = False) -> None:
        """Stops an own mesh (SIGTERM to ``paymesh up``) and drops its databases; its data
        directory (logs, SQLite files) is removed unless ``keep``."""
        if not self.owned:
            return
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(10)
            if self.backend.startswith("mariadb"):
                for service in SERVICES:
                    with contextlib.suppress(Exception):
                        db.drop_database(self.config.db_urls[service])
        finally:
            if self.scratch is not None and not keep:
                shutil.rmtree(self.scratch, ignore_errors=True)


def start_own(extra_env: Mapping[str, str] | None = None, *, simulate: bool = False,
              base_env: Mapping[str, str] | None = None) -> Target:
    """Starts ``paymesh up --demo`` in a temporary directory and waits until it is up."""
    run = secrets.token_hex(3)
    data_dir = Path(tempfile.mkdtemp(prefix="paymesh-drill-"))
    env = own_env(data_dir, os.environ if base_env is None else base_env, run)
    env.update(extra_env or {})
    argv = [sys.executable, "-m", "paymesh.services.cli", "up", "--demo"]
    if simulate:
        argv.append("--simulate-channels")
    log = data_dir / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    target = Target(MeshConfig.from_env(env), env, True, process, data_dir)
    deadline = time.monotonic() + START_SECONDS
    try:
        while "demo merchant" not in log.read_text(errors="replace"):
            if process.poll() is not None:
                raise TargetError(f"paymesh up exited with code {process.returncode}:\n"
                                  + target.log_tail())
            if time.monotonic() > deadline:
                raise TargetError(f"paymesh up was not up after {START_SECONDS:.0f} s:\n"
                                  + target.log_tail())
            time.sleep(0.2)
    except BaseException:
        target.stop()
        raise
    # The master key and admin token files exist now.
    target.config = MeshConfig.from_env(env)
    return target


def attach(data_dir: Path) -> Target:
    """A running mesh, by its data directory (its settings come from this environment)."""
    env = dict(os.environ, PAYMESH_DATA_DIR=str(data_dir))
    config = MeshConfig.from_env(env)
    if not (config.data_dir / "mesh.json").exists():
        raise TargetError(f"no mesh.json in {config.data_dir}: is `paymesh up` running there?")
    return Target(config, env, False)
