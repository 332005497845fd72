"""Envoy's tracer configuration: spans to the trace store or a collector, and Envoy accepts it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from paymesh.services.common.config import MeshConfig
from paymesh.services.mesh import envoy
from tests.conftest import mesh_env


def otlp_cluster(rendered: str) -> dict[str, Any]:
    config = yaml.safe_load(rendered)
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    cluster: dict[str, Any] = clusters["otlp"]
    return cluster


def address(cluster: dict[str, Any]) -> tuple[str, int]:
    socket = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"][
        "address"]["socket_address"]
    return socket["address"], socket["port_value"]


def test_spans_go_to_the_trace_store_unless_a_collector_is_named(tmp_path: Path) -> None:
    config = MeshConfig.from_env(mesh_env(tmp_path))
    local = otlp_cluster(envoy.render(config))
    host, port = config.tracestore_addr.rsplit(":", 1)
    assert address(local) == (host, int(port)) and local["type"] == "STATIC"
    remote = otlp_cluster(envoy.render(config, "http://collector.internal:4317"))
    assert address(remote) == ("collector.internal", 4317) and remote["type"] == "STRICT_DNS"
    assert "transport_socket" not in remote
    secure = otlp_cluster(envoy.render(config, "https://otlp.example.com"))
    assert address(secure) == ("otlp.example.com", 443)
    assert secure["transport_socket"]["typed_config"]["sni"] == "otlp.example.com"
    edge = yaml.safe_load(envoy.render(config))["static_resources"]["listeners"][0]
    manager = edge["filter_chains"][0]["filters"][0]["typed_config"]
    tracer = manager["tracing"]["provider"]
    assert tracer["name"] == "envoy.tracers.opentelemetry"
    assert tracer["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] == "otlp"


def test_envoy_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    config = MeshConfig.from_env(mesh_env(tmp_path))
    (tmp_path / "logs").mkdir()
    path = tmp_path / "envoy.yaml"
    path.write_text(envoy.render(config, "http://collector.internal:4317"))
    done = subprocess.run([envoy.envoy_binary(), "--mode", "validate", "-c", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
