"""One real mesh for the end-to-end tests: ``paymesh up --demo`` as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from paymesh.services.client.merchant import MerchantClient, MerchantCredentials
from paymesh.services.common.config import MeshConfig
from paymesh.services.tracestore.store import STORE_FILE, SpanStore
from tests.conftest import BACKEND, drop_databases, mesh_env

START_TIMEOUT = 90


@dataclass
class RunningMesh:
    """A started mesh and what a test needs to talk to it."""

    config: MeshConfig
    env: dict[str, str]
    demo: dict[str, str]
    process: subprocess.Popen[bytes]

    @property
    def rest_url(self) -> str:
        return self.config.public_url

    @property
    def credentials(self) -> MerchantCredentials:
        return MerchantCredentials(self.demo["mchNo"], self.demo["appId"], self.demo["appSecret"])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs a ``paymesh`` subcommand against this mesh."""
        return subprocess.run([sys.executable, "-m", "paymesh.services.cli", *args],
                              env={**os.environ, **self.env}, capture_output=True, text=True,
                              timeout=60)

    def cli_json(self, *args: str) -> dict[str, object]:
        done = self.cli(*args)
        assert done.returncode == 0, done.stderr
        result: dict[str, object] = json.loads(done.stdout)
        return result

    def spans(self, service: str | None = None) -> list[dict[str, Any]]:
        """Every span the mesh's trace store holds (of ``service``: gateway, envoy, ...)."""
        path = self.config.data_dir / STORE_FILE
        if not path.exists():
            return []
        store = SpanStore(path, read_only=True)
        try:
            found = store.all_spans()
        finally:
            store.close()
        return [{"trace_id": s.trace_id, "span_id": s.span_id,
                 "parent_span_id": s.parent_span_id, "name": s.name,
                 "service": s.service.removeprefix("paymesh-"), "kind": s.kind,
                 "status": s.status, "attributes": s.attributes, "links": s.links,
                 "events": s.events, "start_ns": s.start_ns, "end_ns": s.end_ns}
                for s in found
                if service is None or s.service.removeprefix("paymesh-") == service]


def _log_of(data_dir: Path, process: subprocess.Popen[bytes]) -> Path:
    return data_dir / f"up-{process.pid}.log"


def start_mesh(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Runs ``paymesh up --demo``; its output goes to ``up-<pid>.log`` in the data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log = (data_dir / "up-starting.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.cli", "up", "--demo"],
                               env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    (data_dir / "up-starting.log").rename(_log_of(data_dir, process))
    return process


def wait_for_demo(data_dir: Path, process: subprocess.Popen[bytes]) -> dict[str, str]:
    """Waits until this ``paymesh up`` says it is up and has written demo.json."""
    log = _log_of(data_dir, process)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        output = log.read_text() if log.exists() else ""
        if process.poll() is not None:
            raise RuntimeError(f"paymesh up exited:\n{output}")
        if "demo merchant" in output:
            demo: dict[str, str] = json.loads((data_dir / "demo.json").read_text())
            return demo
        time.sleep(0.2)
    raise RuntimeError(f"paymesh up did not come up in time:\n{log.read_text()}")


def stop_mesh(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


def check_ledger_at_end(mesh: RunningMesh, settle_seconds: float = 15.0) -> None:
    """``paymesh ledger check`` against the mesh when the session ends: the ledger must agree
    with itself and with the gateway's orders after the whole suite, or the session fails (a
    teardown error). Work still being delivered gets a few seconds to land first."""
    deadline = time.monotonic() + settle_seconds
    while True:
        done = mesh.cli("ledger", "check")
        if done.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert done.returncode == 0, ("paymesh ledger check is not sound after the session:\n"
                                  + done.stdout + done.stderr)


# One mesh per test package (e2e, and each folder that imports this fixture), stopped when the
# package's last test is done: an idle mesh still runs its jobs every second, and the suite
# should not pay for meshes whose tests are over.
@pytest.fixture(scope="package")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMesh]:
    data_dir = tmp_path_factory.mktemp("mesh")
    env = mesh_env(data_dir)
    process = start_mesh(data_dir, env)
    try:
        demo = wait_for_demo(data_dir, process)
        running = RunningMesh(MeshConfig.from_env(env), env, demo, process)
        yield running
        if process.poll() is None:
            check_ledger_at_end(running)
    finally:
        if process.poll() is None:
            stop_mesh(process)
        if BACKEND == "mariadb":
            drop_databases(MeshConfig.from_env(env))


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
async def merchant(mesh: RunningMesh, http: httpx.AsyncClient) -> MerchantClient:
    return MerchantClient(mesh.rest_url, mesh.credentials, http)
