"""MeshConfig.from_env: defaults, database URLs, and failing fast on each bad value."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from paymesh.services.common.config import ConfigError, MeshConfig

ALL_DB_SERVICES = ("merchant", "gateway", "channel", "account", "reconciliation")


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PAYMESH_DATA_DIR": str(tmp_path), **extra}


def test_defaults(tmp_path: Path) -> None:
    config = MeshConfig.from_env(env_for(tmp_path))
    assert config.data_dir == tmp_path.resolve()
    assert config.http_host == "127.0.0.1"
    assert config.http_port == 9216
    assert dict(config.addrs) == {"merchant": "127.0.0.1:9217", "gateway": "127.0.0.1:9218",
                                  "channel": "127.0.0.1:9219", "account": "127.0.0.1:9221",
                                  "reconciliation": "127.0.0.1:9222"}
    assert dict(config.metrics_ports) == {"merchant": 9317, "gateway": 9318, "channel": 9319,
                                          "account": 9321, "reconciliation": 9322, "jobs": 9323}
    assert (config.metrics_host, config.tracestore_addr) == ("127.0.0.1", "127.0.0.1:9223")
    assert [config.listen_port(s) for s in ("merchant", "gateway", "channel")] == [9217, 9218, 9219]
    assert config.envoy_admin_port == 9220
    assert config.public_url == "http://127.0.0.1:9216"
    assert config.shared_state_url == "memory://"
    assert config.shared_state_prefix == "paymesh:"
    assert config.req_time_window == 300
    assert config.master_key is None and config.admin_token is None
    for service in ALL_DB_SERVICES:
        assert config.db_urls[service] == f"sqlite+aiosqlite:///{tmp_path.resolve()}/{service}.db"


def test_config_is_frozen(tmp_path: Path) -> None:
    config = MeshConfig.from_env(env_for(tmp_path))
    with pytest.raises(AttributeError):
        config.http_port = 1  # type: ignore[misc]


def test_db_url_template_names_each_service(tmp_path: Path) -> None:
    template = "mysql+aiomysql://root@127.0.0.1:3306/paymesh_{service}"
    config = MeshConfig.from_env(env_for(tmp_path, PAYMESH_DB_URL=template))
    for service in ALL_DB_SERVICES:
        assert config.db_urls[service] == f"mysql+aiomysql://root@127.0.0.1:3306/paymesh_{service}"


def test_per_service_db_url_overrides_the_template(tmp_path: Path) -> None:
    config = MeshConfig.from_env(env_for(
        tmp_path, PAYMESH_DB_URL="mysql+aiomysql://db/pm_{service}",
        PAYMESH_GATEWAY_DB_URL="mysql+aiomysql://other/gw"))
    assert config.db_urls["gateway"] == "mysql+aiomysql://other/gw"
    assert config.db_urls["merchant"] == "mysql+aiomysql://db/pm_merchant"


def test_explicit_values_are_read(tmp_path: Path) -> None:
    key = os.urandom(32)
    config = MeshConfig.from_env(env_for(
        tmp_path, PAYMESH_HTTP_HOST="0.0.0.0", PAYMESH_HTTP_PORT="8080",
        PAYMESH_PUBLIC_URL="https://pay.example.com/", PAYMESH_MERCHANT_ADDR="10.0.0.5:7001",
        PAYMESH_SHARED_STATE_URL="redis://127.0.0.1:6379/0", PAYMESH_SHARED_STATE_PREFIX="pm:",
        PAYMESH_MASTER_KEY=base64.b64encode(key).decode(), PAYMESH_ADMIN_TOKEN="tok",
        PAYMESH_ENVOY_ADMIN_PORT="9901", PAYMESH_REQ_TIME_WINDOW="60"))
    assert (config.http_host, config.http_port) == ("0.0.0.0", 8080)
    assert config.public_url == "https://pay.example.com"
    assert config.addrs["merchant"] == "10.0.0.5:7001" and config.listen_port("merchant") == 7001
    assert config.shared_state_url == "redis://127.0.0.1:6379/0"
    assert config.shared_state_prefix == "pm:"
    assert config.master_key == key and config.require_master_key() == key
    assert config.admin_token == "tok"
    assert config.envoy_admin_port == 9901 and config.req_time_window == 60


def test_master_key_and_admin_token_fall_back_to_files(tmp_path: Path) -> None:
    key = os.urandom(32)
    (tmp_path / "master.key").write_text(base64.b64encode(key).decode() + "\n")
    (tmp_path / "admin.token").write_text("from-file\n")
    config = MeshConfig.from_env(env_for(tmp_path))
    assert config.master_key == key
    assert config.admin_token == "from-file"


def test_missing_master_key_is_an_error_when_required(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PAYMESH_MASTER_KEY"):
        MeshConfig.from_env(env_for(tmp_path)).require_master_key()


@pytest.mark.parametrize(("variable", "value"), [
    ("PAYMESH_HTTP_PORT", "http"),
    ("PAYMESH_HTTP_PORT", "80.5"),
    ("PAYMESH_HTTP_PORT", "0"),
    ("PAYMESH_HTTP_PORT", "65536"),
    ("PAYMESH_HTTP_PORT", "-1"),
    ("PAYMESH_ENVOY_ADMIN_PORT", "abc"),
    ("PAYMESH_ENVOY_ADMIN_PORT", "70000"),
    ("PAYMESH_REQ_TIME_WINDOW", "5m"),
    ("PAYMESH_MERCHANT_ADDR", "127.0.0.1"),
    ("PAYMESH_GATEWAY_ADDR", ":9218"),
    ("PAYMESH_CHANNEL_ADDR", "127.0.0.1:port"),
    ("PAYMESH_CHANNEL_ADDR", "127.0.0.1:"),
    ("PAYMESH_CHANNEL_ADDR", "127.0.0.1:65536"),
    ("PAYMESH_MERCHANT_ADDR", "127.0.0.1:0"),
    ("PAYMESH_MERCHANT_ADDR", "127.0.0.1:\u00b2"),
    ("PAYMESH_SHARED_STATE_URL", "http://127.0.0.1:6379"),
    ("PAYMESH_SHARED_STATE_URL", "memcached://127.0.0.1"),
    ("PAYMESH_MASTER_KEY", base64.b64encode(b"k" * 16).decode()),
    ("PAYMESH_MASTER_KEY", base64.b64encode(b"k" * 33).decode()),
    ("PAYMESH_MASTER_KEY", "not base64 at all!"),
    ("PAYMESH_MASTER_KEY", "k" * 43),
])
def test_bad_value_names_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        MeshConfig.from_env(env_for(tmp_path, **{variable: value}))


def test_metrics_ports_may_be_turned_off_but_not_malformed(tmp_path: Path) -> None:
    config = MeshConfig.from_env(env_for(tmp_path, PAYMESH_GATEWAY_METRICS_PORT="0",
                                         PAYMESH_JOBS_METRICS_PORT="19323"))
    assert (config.metrics_port("gateway"), config.metrics_port("jobs")) == (0, 19323)
    for bad in ("-1", "70000", "x"):
        with pytest.raises(ConfigError, match="PAYMESH_CHANNEL_METRICS_PORT"):
            MeshConfig.from_env(env_for(tmp_path, PAYMESH_CHANNEL_METRICS_PORT=bad))
    with pytest.raises(ConfigError, match="PAYMESH_TRACESTORE_ADDR"):
        MeshConfig.from_env(env_for(tmp_path, PAYMESH_TRACESTORE_ADDR="nohost"))
