"""The mesh's configuration, read once from the environment into a frozen object.

Every service and the command line read the same variables, so one place documents them all:

=============================  ===============================================================
PAYMESH_DATA_DIR               data directory (SQLite files, keys, traces, logs); ``.paymesh``
PAYMESH_DB_URL                 database URL template, ``{service}`` replaced by the service name;
                               default SQLite files in the data directory. For MariaDB/MySQL:
                               ``mysql+aiomysql://user:pass@host:3306/paymesh_{service}``
PAYMESH_<SERVICE>_DB_URL       overrides the template for one service
PAYMESH_SHARED_STATE_URL       ``memory://`` (default, one node) or ``redis://host:6379/0``
PAYMESH_SHARED_STATE_PREFIX    key prefix in Redis; ``paymesh:``
PAYMESH_MASTER_KEY             base64 of 32 bytes encrypting secrets at rest; default: the file
                               ``master.key`` in the data directory, created by ``paymesh up``
PAYMESH_ADMIN_TOKEN            bearer token of the admin REST API; default ``admin.token`` file
PAYMESH_HTTP_HOST/PORT         where Envoy listens; 127.0.0.1:9216
PAYMESH_PUBLIC_URL             how payers and channels reach the edge; http://127.0.0.1:<port>
PAYMESH_<SERVICE>_ADDR         gRPC address of merchant, gateway, channel (127.0.0.1:9217..9219),
                               account (127.0.0.1:9221) and reconciliation (127.0.0.1:9222)
PAYMESH_ENVOY_ADMIN_PORT       Envoy's admin port; 9220
PAYMESH_REQ_TIME_WINDOW        seconds a request's reqTime may differ from the clock; 300
PAYMESH_NOTIFY_SCHEDULE_SCALE  factor applied to every delay of the merchant-notification retry
                               schedule (positive float, at most 1000); 1.0. Tests use 0.01 so
                               30 s becomes 0.3 s; production leaves it at 1.0
PAYMESH_JOBS_*                 the jobs process's intervals and limits: see jobs/config.py
PAYMESH_SETTLEMENT_DAYS        N of T+N for merchants without settlement terms of their own,
                               0..30; 1 (services/account/settings.py)
PAYMESH_SETTLEMENT_GATE        what releases a day to settlement: ``reconciliation`` (default,
                               once reconciled for every active channel config) or ``none``
                               (every past day; see jobs/config.py)
PAYMESH_<SVC>_METRICS_PORT     Prometheus metrics port of each process: merchant 9317, gateway
                               9318, channel 9319, account 9321, reconciliation 9322, jobs
                               9323; 0 turns that process's metrics off (docs/operations.md)
PAYMESH_METRICS_HOST           where the metrics ports listen; 127.0.0.1
PAYMESH_TRACESTORE_ADDR        gRPC (OTLP) address of the local trace store that ``paymesh up``
                               starts when no collector is set; 127.0.0.1:9223
PAYMESH_TRACE_KEEP_HOURS       hours the local trace store keeps spans; 72
PAYMESH_EVENT_LOOP             ``uvloop`` (default where installed) or ``asyncio``: the event
                               loop of every service process (services/common/eventloop.py)
OTEL_EXPORTER_OTLP_ENDPOINT    an OpenTelemetry collector (OTLP/gRPC, ``http://host:4317``) for
                               every process and Envoy instead of the local trace store
=============================  ===============================================================
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("merchant", "gateway", "channel", "account", "reconciliation")
DEFAULT_PORTS = {"http": 9216, "merchant": 9217, "gateway": 9218, "channel": 9219, "envoy": 9220,
                 "account": 9221, "reconciliation": 9222, "tracestore": 9223}
# Each process's Prometheus port (PAYMESH_<PROCESS>_METRICS_PORT; 0 turns it off).
METRICS_PORTS = {"merchant": 9317, "gateway": 9318, "channel": 9319, "account": 9321,
                 "reconciliation": 9322, "jobs": 9323}


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class MeshConfig:
    """Everything a paymesh process needs to know about its surroundings."""

    data_dir: Path
    db_urls: Mapping[str, str]
    shared_state_url: str
    shared_state_prefix: str
    master_key: bytes | None
    admin_token: str | None
    http_host: str
    http_port: int
    public_url: str
    addrs: Mapping[str, str]
    envoy_admin_port: int
    req_time_window: int
    notify_schedule_scale: float = 1.0
    metrics_host: str = "127.0.0.1"
    metrics_ports: Mapping[str, int] = field(default_factory=dict)
    tracestore_addr: str = f"127.0.0.1:{DEFAULT_PORTS['tracestore']}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MeshConfig:
        env = os.environ if env is None else env
        data_dir = Path(env.get("PAYMESH_DATA_DIR", ".paymesh")).resolve()
        template = env.get("PAYMESH_DB_URL", f"sqlite+aiosqlite:///{data_dir}/{{service}}.db")
        db_urls = {s: env.get(f"PAYMESH_{s.upper()}_DB_URL", template.replace("{service}", s))
                   for s in SERVICES}
        http_port = _port(env, "PAYMESH_HTTP_PORT", DEFAULT_PORTS["http"])
        http_host = env.get("PAYMESH_HTTP_HOST", "127.0.0.1")
        addrs = {s: env.get(f"PAYMESH_{s.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[s]}")
                 for s in SERVICES}
        for name, addr in addrs.items():
            host, _, port = addr.rpartition(":")
            if not host or not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
                raise ConfigError(f"PAYMESH_{name.upper()}_ADDR must be host:port, got {addr!r}")
        state_url = env.get("PAYMESH_SHARED_STATE_URL", "memory://")
        if not state_url.startswith(("memory://", "redis://", "rediss://")):
            raise ConfigError("PAYMESH_SHARED_STATE_URL must be memory:// or redis://...")
        window = _int(env, "PAYMESH_REQ_TIME_WINDOW", 300)
        if window < 1:
            raise ConfigError(f"PAYMESH_REQ_TIME_WINDOW must be at least 1 second, got {window}")
        return cls(
            data_dir=data_dir,
            db_urls=db_urls,
            shared_state_url=state_url,
            shared_state_prefix=env.get("PAYMESH_SHARED_STATE_PREFIX", "paymesh:"),
            master_key=_master_key(env, data_dir),
            admin_token=env.get("PAYMESH_ADMIN_TOKEN") or _read(data_dir / "admin.token"),
            http_host=http_host,
            http_port=http_port,
            public_url=env.get("PAYMESH_PUBLIC_URL", f"http://{http_host}:{http_port}").rstrip("/"),
            addrs=addrs,
            envoy_admin_port=_port(env, "PAYMESH_ENVOY_ADMIN_PORT", DEFAULT_PORTS["envoy"]),
            req_time_window=window,
            notify_schedule_scale=_scale(env, "PAYMESH_NOTIFY_SCHEDULE_SCALE"),
            metrics_host=env.get("PAYMESH_METRICS_HOST", "127.0.0.1"),
            metrics_ports={name: _port(env, f"PAYMESH_{name.upper()}_METRICS_PORT", default,
                                       allow_zero=True)
                           for name, default in METRICS_PORTS.items()},
            tracestore_addr=_addr(env, "PAYMESH_TRACESTORE_ADDR",
                                  f"127.0.0.1:{DEFAULT_PORTS['tracestore']}"),
        )

    def listen_port(self, service: str) -> int:
        return int(self.addrs[service].rpartition(":")[2])

    def metrics_port(self, process: str) -> int:
        """The process's Prometheus port; 0 when its metrics are off."""
        return self.metrics_ports.get(process, 0)

    def require_master_key(self) -> bytes:
        if self.master_key is None:
            raise ConfigError("no master key: set PAYMESH_MASTER_KEY or run `paymesh up` once")
        return self.master_key


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _scale(env: Mapping[str, str], name: str) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not 0 < value <= 1000:  # also refuses nan and inf
        raise ConfigError(f"{name} must be above 0 and at most 1000, got {raw!r}")
    return value


def _port(env: Mapping[str, str], name: str, default: int, allow_zero: bool = False) -> int:
    port = _int(env, name, default)
    if not (0 < port < 65536 or (allow_zero and port == 0)):
        raise ConfigError(f"{name} must be a TCP port, got {port}")
    return port


def _addr(env: Mapping[str, str], name: str, default: str) -> str:
    addr = env.get(name) or default
    host, _, port = addr.rpartition(":")
    if not host or not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError(f"{name} must be host:port, got {addr!r}")
    return addr


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def _master_key(env: Mapping[str, str], data_dir: Path) -> bytes | None:
    raw = env.get("PAYMESH_MASTER_KEY") or _read(data_dir / "master.key")
    if raw is None:
        return None
    try:
        key = base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise ConfigError("PAYMESH_MASTER_KEY must be base64") from None
    if len(key) != 32:
        raise ConfigError("PAYMESH_MASTER_KEY must decode to 32 bytes")
    return key
