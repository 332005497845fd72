"""Test fixtures shared by every layer.

The suite runs on one backend at a time, chosen by PAYMESH_TEST_BACKEND:

- ``sqlite`` (default): SQLite files and in-process shared state;
- ``mariadb``: MariaDB at PAYMESH_TEST_MARIADB_URL (default root@127.0.0.1:3306) and Redis at
  PAYMESH_TEST_REDIS_URL (default 127.0.0.1:6379). With CI=true an unreachable server fails the run.
"""

from __future__ import annotations

import base64
import os
import secrets
import selectors
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from paymesh.services.common import db, ports
from paymesh.services.common.config import METRICS_PORTS, SERVICES, MeshConfig

BACKEND = os.environ.get("PAYMESH_TEST_BACKEND", "sqlite")
MARIADB_URL = os.environ.get("PAYMESH_TEST_MARIADB_URL", "mysql+aiomysql://root@127.0.0.1:3306")
REDIS_URL = os.environ.get("PAYMESH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"

# Property tests are judged on what they find, not on how fast one example runs: the suite shares
# two cores with the mesh's processes, so a per-example deadline only makes them flaky.
settings.register_profile("paymesh", deadline=None)
settings.load_profile("paymesh")
DB_SERVICES = ("merchant", "gateway", "channel", "account", "reconciliation")
LOCALSTRIPE_SCRIPT = Path(__file__).parent / "channel" / "stripe" / "localstripe_server.py"
START_TIMEOUT_SECONDS = 15.0


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require_server(name: str, host: str, port: int) -> None:
    """Skips locally, fails in CI, when a server the test needs is not running."""
    if _reachable(host, port):
        return
    message = f"{name} at {host}:{port} is unreachable"
    if IN_CI:
        pytest.fail(message + " (CI=true: the suite must run against it)", pytrace=False)
    pytest.skip(message)


_PORTS_TAKEN: set[int] = set()  # given to this session's meshes, never handed out twice


def free_port() -> int:
    return ports.free_port(_PORTS_TAKEN)


def mesh_env(data_dir: Path) -> dict[str, str]:
    """Environment for a fresh, isolated mesh on the selected backend, with free ports."""
    run = secrets.token_hex(4)
    env = {
        "PAYMESH_DATA_DIR": str(data_dir),
        "PAYMESH_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "PAYMESH_ADMIN_TOKEN": secrets.token_urlsafe(24),
        "PAYMESH_HTTP_PORT": str(free_port()),
        "PAYMESH_ENVOY_ADMIN_PORT": str(free_port()),
        # Spans go to the mesh's own trace store, whatever collector this shell may name.
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        # Merchant-notification retries 100 times faster: 30 s becomes 0.3 s.
        "PAYMESH_NOTIFY_SCHEDULE_SCALE": "0.01",
        # The jobs process runs every job each second, and sweeps orders paying for 1 s, so the
        # end-to-end tests see polling, expiry and refund sweeps within a bounded wait.
        **{f"PAYMESH_JOBS_{name}": "1" for name in (
            "SWEEP_PAYING_INTERVAL", "PAYING_AGE", "EXPIRE_INTERVAL", "REFUND_INTERVAL",
            "NOTIFY_INTERVAL", "SETTLE_INTERVAL", "RECONCILE_INTERVAL", "RECONCILE_RETRY")},
        # Yesterday's reconciliation at every tick instead of from 10:00 (UTC+8).
        "PAYMESH_JOBS_RECONCILE_AT": "now",
    }
    for service in SERVICES:
        env[f"PAYMESH_{service.upper()}_ADDR"] = f"127.0.0.1:{free_port()}"
    for process in METRICS_PORTS:
        env[f"PAYMESH_{process.upper()}_METRICS_PORT"] = str(free_port())
    env["PAYMESH_TRACESTORE_ADDR"] = f"127.0.0.1:{free_port()}"
    if BACKEND == "mariadb":
        require_server("MariaDB", "127.0.0.1", 3306)
        require_server("Redis", "127.0.0.1", 6379)
        env["PAYMESH_DB_URL"] = f"{MARIADB_URL}/pmt_{run}_{{service}}"
        env["PAYMESH_SHARED_STATE_URL"] = REDIS_URL
        env["PAYMESH_SHARED_STATE_PREFIX"] = f"pmt:{run}:"
    elif BACKEND != "sqlite":
        raise ValueError(f"PAYMESH_TEST_BACKEND must be sqlite or mariadb, not {BACKEND!r}")
    return env


def drop_databases(config: MeshConfig) -> None:
    for service in DB_SERVICES:
        db.drop_database(config.db_urls[service])


@pytest.fixture
def config(tmp_path: Path) -> Iterator[MeshConfig]:
    """A MeshConfig on the selected backend with migrated, empty databases."""
    cfg = MeshConfig.from_env(mesh_env(tmp_path))
    for service in DB_SERVICES:
        db.migrate(service, cfg.db_urls[service])
    yield cfg
    if BACKEND == "mariadb":
        drop_databases(cfg)


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    """The API base of a localstripe process on 127.0.0.1, started once and stopped after."""
    try:
        import localstripe  # noqa: F401 - only checks that the dev dependency is there
    except ImportError:
        message = "localstripe (a dev dependency, run as a separate process) is not installed"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    proc = subprocess.Popen([sys.executable, str(LOCALSTRIPE_SCRIPT)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            if not selector.select(START_TIMEOUT_SECONDS):
                pytest.fail(f"localstripe did not start in {START_TIMEOUT_SECONDS} s")
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            pytest.fail(f"localstripe did not announce its port (exit code {proc.poll()})")
        yield f"http://127.0.0.1:{line[1]}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
