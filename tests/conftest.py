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
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

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


class MigratedDatabases:
    """Migrated, empty service databases for the ``config`` fixture, migrated once and reused.

    Migrating five databases for each of a few hundred tests is minutes of the suite on MariaDB.
    SQLite: the files are migrated once into a template directory and copied into each test's
    own. MariaDB: a set of five databases is migrated once; after its test every table but
    ``alembic_version`` is emptied (TRUNCATE: auto-increments start again, no trigger fires) and
    the set goes to a later test. A set whose schema a test moved (a migration test downgrading)
    or that cannot be emptied in a few seconds (a connection left holding a lock) is dropped
    instead, and the session drops every set at its end.
    """

    def __init__(self, template_dir: Path) -> None:
        self._template_dir = template_dir
        self._template: MeshConfig | None = None
        self._free: list[tuple[str, MeshConfig]] = []  # (PAYMESH_DB_URL, its databases)
        self._made: list[tuple[str, MeshConfig]] = []
        self._heads: dict[str, list[str]] = {}
        self._server_engine: Engine | None = None

    def take(self, data_dir: Path) -> MeshConfig:
        """A config for ``data_dir`` (fresh ports, keys, shared-state prefix) whose databases
        are migrated and empty."""
        env = mesh_env(data_dir)
        if BACKEND == "sqlite":
            template = self._sqlite_template()
            for service in DB_SERVICES:
                for file in template.data_dir.glob(f"{service}.db*"):
                    shutil.copyfile(file, data_dir / file.name)
            return MeshConfig.from_env(env)
        env["PAYMESH_DB_URL"] = (self._free.pop() if self._free else self._new_set())[0]
        return MeshConfig.from_env(env)

    def give_back(self, config: MeshConfig) -> None:
        if BACKEND != "mariadb":
            return
        made = next(item for item in self._made if item[1].db_urls == config.db_urls)
        if self._emptied(config):
            self._free.append(made)
        else:
            drop_databases(config)
            self._made.remove(made)

    def close(self) -> None:
        for _, config in self._made:
            drop_databases(config)
        if self._server_engine is not None:
            self._server_engine.dispose()

    def _sqlite_template(self) -> MeshConfig:
        if self._template is None:
            config = MeshConfig.from_env(mesh_env(self._template_dir))
            for service in DB_SERVICES:
                db.migrate(service, config.db_urls[service])
            self._template = config
        return self._template

    def _new_set(self) -> tuple[str, MeshConfig]:
        env = mesh_env(self._template_dir / secrets.token_hex(4))
        config = MeshConfig.from_env(env)
        for service in DB_SERVICES:
            db.migrate(service, config.db_urls[service])
        self._made.append((env["PAYMESH_DB_URL"], config))
        if not self._heads:
            self._heads = self._versions(config)
        return self._made[-1]

    def _server(self) -> Engine:
        """One engine on the MariaDB server for the pool's own work (an engine per database
        and check cost 0.3 s per test)."""
        if self._server_engine is None:
            self._server_engine = create_engine(
                f"{MARIADB_URL.replace('+aiomysql', '+pymysql')}/", pool_size=1,
                pool_pre_ping=True)
        return self._server_engine

    def _versions(self, config: MeshConfig) -> dict[str, list[str]]:
        """Each service database's Alembic revisions."""
        with self._server().connect() as conn:
            return {service: sorted(conn.scalars(text(
                f"SELECT version_num FROM `{make_url(config.db_urls[service]).database}`"
                ".alembic_version"))) for service in DB_SERVICES}

    def _emptied(self, config: MeshConfig) -> bool:
        try:
            if self._versions(config) != self._heads:
                return False
            with self._server().connect() as conn:
                conn.execute(text("SET SESSION lock_wait_timeout = 5"))
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
                names = [make_url(config.db_urls[s]).database for s in DB_SERVICES]
                tables = conn.execute(text(
                    "SELECT table_schema, table_name, auto_increment FROM "
                    "information_schema.tables WHERE table_schema IN :names AND "
                    "table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
                    ).bindparams(bindparam("names", expanding=True)), {"names": names}).all()
                for schema, table, next_id in tables:
                    # Only what the test touched: a row left, or an auto-increment moved on.
                    if (next_id or 1) > 1 or conn.execute(text(
                            f"SELECT 1 FROM `{schema}`.`{table}` LIMIT 1")).first():
                        conn.execute(text(f"TRUNCATE TABLE `{schema}`.`{table}`"))
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        except SQLAlchemyError:
            return False
        return True


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory
                       ) -> Iterator[MigratedDatabases]:
    pool = MigratedDatabases(tmp_path_factory.mktemp("migrated"))
    yield pool
    pool.close()


@pytest.fixture
def config(tmp_path: Path, migrated_databases: MigratedDatabases) -> Iterator[MeshConfig]:
    """A MeshConfig on the selected backend with migrated, empty databases."""
    cfg = migrated_databases.take(tmp_path)
    yield cfg
    migrated_databases.give_back(cfg)


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
