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

import httpx
import pytest

from paymesh.services.client.merchant import MerchantClient, MerchantCredentials
from paymesh.services.common.config import MeshConfig
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


@pytest.fixture(scope="session")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMesh]:
    data_dir = tmp_path_factory.mktemp("mesh")
    env = mesh_env(data_dir)
    process = start_mesh(data_dir, env)
    try:
        demo = wait_for_demo(data_dir, process)
        yield RunningMesh(MeshConfig.from_env(env), env, demo, process)
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
