"""docker-compose.yml cannot be started here (no container engine), so it is checked against the
code instead: every service, port, variable, module and file it names must exist, or CI fails."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from paymesh.services.common.config import DEFAULT_PORTS, METRICS_PORTS, SERVICES
from paymesh.services.mesh import envoy
from paymesh.services.mesh.supervisor import START_ORDER

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
PROCESSES = (*SERVICES, "jobs")
HEALTHCHECK = "paymesh.services.common.healthcheck"
# Where each kind of PAYMESH_* variable is documented.
CONFIG_DOCS = (REPO / "services" / "common" / "config.py", REPO / "jobs" / "config.py")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def module_of(command: list[str]) -> str | None:
    """The module a ``python -m MODULE ...`` command runs."""
    if command[:2] == ["python", "-m"]:
        return command[2]
    return None


def test_every_process_of_the_mesh_has_a_service_running_its_module(
        compose: dict[str, Any]) -> None:
    defined = services(compose)
    assert set(START_ORDER) <= set(PROCESSES)
    for name in PROCESSES:
        assert name in defined, f"docker-compose.yml has no service {name!r}"
        service = defined[name]
        assert service.get("build") == ".", f"{name} is not built from the Dockerfile"
        module = module_of(service["command"])
        expected = "paymesh.jobs" if name == "jobs" else f"paymesh.services.{name}"
        assert module == expected, f"{name} runs {service['command']}"
        assert importlib.util.find_spec(module) is not None, f"no module {module}"
    for name in ("mysql", "redis", "otel-collector", "jaeger", "envoy", "migrate"):
        assert name in defined, f"docker-compose.yml has no service {name!r}"
    assert defined["migrate"]["command"] == ["paymesh", "migrate"]


def test_health_checks_are_real_probes_of_each_process(compose: dict[str, Any]) -> None:
    defined = services(compose)
    assert importlib.util.find_spec(HEALTHCHECK) is not None
    for name in (*PROCESSES, "envoy"):
        test = defined[name]["healthcheck"]["test"]
        assert test[0] == "CMD" and module_of(test[1:]) == HEALTHCHECK, (name, test)
        target = test[4]
        if name == "jobs":
            assert target == "jobs"
        elif name == "envoy":
            assert target == f"http://127.0.0.1:{DEFAULT_PORTS['envoy']}/ready"
        else:
            assert target == f"127.0.0.1:{DEFAULT_PORTS[name]}", (name, target)


def test_ports_are_the_mesh_defaults(compose: dict[str, Any]) -> None:
    defined = services(compose)
    for name in SERVICES:
        env = defined[name]["environment"]
        port = DEFAULT_PORTS[name]
        assert env[f"PAYMESH_{name.upper()}_ADDR"] == f"0.0.0.0:{port}"  # its own listen address
        metrics = METRICS_PORTS[name]
        assert env[f"PAYMESH_{name.upper()}_METRICS_PORT"] == str(metrics)
        assert set(defined[name]["expose"]) == {str(port), str(metrics)}
        # ... and everyone else dials it by its service name.
        assert defined["jobs"]["environment"][f"PAYMESH_{name.upper()}_ADDR"] == f"{name}:{port}"
    jobs = defined["jobs"]
    assert jobs["environment"]["PAYMESH_JOBS_METRICS_PORT"] == str(METRICS_PORTS["jobs"])
    assert jobs["expose"] == [str(METRICS_PORTS["jobs"])]
    assert defined["envoy"]["ports"] == [f"{DEFAULT_PORTS['http']}:{DEFAULT_PORTS['http']}"]


def known_variables() -> set[str]:
    """PAYMESH_* variables the code reads: literal names, and the per-service families."""
    names: set[str] = set()
    for folder in ("services", "jobs"):
        for path in (REPO / folder).rglob("*.py"):
            names |= set(re.findall(r"\"(PAYMESH_[A-Z0-9_]+)\"", path.read_text()))
    for service in SERVICES:
        names |= {f"PAYMESH_{service.upper()}_ADDR", f"PAYMESH_{service.upper()}_DB_URL"}
    names |= {f"PAYMESH_{process.upper()}_METRICS_PORT" for process in METRICS_PORTS}
    return names


def documented(name: str) -> bool:
    docs = "".join(path.read_text() for path in CONFIG_DOCS)
    patterns = {"PAYMESH_<SERVICE>_ADDR": r"PAYMESH_[A-Z]+_ADDR",
                "PAYMESH_<SERVICE>_DB_URL": r"PAYMESH_[A-Z]+_DB_URL",
                "PAYMESH_<SVC>_METRICS_PORT": r"PAYMESH_[A-Z]+_METRICS_PORT"}
    return name in docs or any(doc in docs and re.fullmatch(rx, name)
                               for doc, rx in patterns.items())


def test_every_variable_it_sets_is_read_and_documented(compose: dict[str, Any]) -> None:
    known = known_variables()
    seen: set[str] = set()
    for name, service in services(compose).items():
        for variable in service.get("environment") or {}:
            if variable.startswith("PAYMESH_"):
                seen.add(variable)
                assert variable in known, f"{name}: the code reads no {variable}"
                assert documented(variable), f"{name}: {variable} is not documented"
            elif variable.startswith("OTEL_"):
                seen.add(variable)
                assert variable in (REPO / "services/common/config.py").read_text()
    assert {"PAYMESH_DB_URL", "PAYMESH_SHARED_STATE_URL", "PAYMESH_MASTER_KEY",
            "OTEL_EXPORTER_OTLP_ENDPOINT"} <= seen
    env = services(compose)["gateway"]["environment"]
    assert env["PAYMESH_DB_URL"].startswith("mysql+aiomysql://")
    assert "{service}" in env["PAYMESH_DB_URL"]
    assert env["PAYMESH_SHARED_STATE_URL"].startswith("redis://redis:")


def test_traces_go_to_the_collector_and_on_to_jaeger(compose: dict[str, Any]) -> None:
    defined = services(compose)
    endpoint = defined["gateway"]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert endpoint == envoy.COMPOSE_COLLECTOR
    collector = defined["otel-collector"]
    mounted = {volume.split(":")[0]: volume.split(":")[1] for volume in collector["volumes"]}
    config_file = REPO / next(iter(mounted)).removeprefix("./")
    assert config_file.exists()
    config = yaml.safe_load(config_file.read_text())
    assert config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")
    assert f"--config={mounted[next(iter(mounted))]}" in collector["command"]
    jaeger = config["exporters"]["otlp/jaeger"]["endpoint"]
    assert jaeger.split(":")[0] in defined


def test_envoy_runs_the_checked_in_configuration_rendered_for_compose(
        compose: dict[str, Any]) -> None:
    command = services(compose)["envoy"]["command"]
    assert command[0] == "envoy"
    path = command[command.index("-c") + 1]
    local = REPO / path.removeprefix("/app/")
    assert local == envoy.COMPOSE_FILE and local.exists()
    assert local.read_text() == envoy.render_compose(), (
        "deploy/envoy.yaml is stale: run "
        "`.venv/bin/python -m paymesh.services.mesh.envoy --compose > deploy/envoy.yaml`")
    rendered = yaml.safe_load(local.read_text())
    clusters = {c["name"]: c for c in rendered["static_resources"]["clusters"]}
    for name in SERVICES:
        address = clusters[name]["load_assignment"]["endpoints"][0]["lb_endpoints"][0][
            "endpoint"]["address"]["socket_address"]
        assert (address["address"], address["port_value"]) == (name, DEFAULT_PORTS[name])
    otlp = clusters["otlp"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert otlp["address"]["socket_address"]["address"] == "otel-collector"
    assert envoy.COMPOSE_DESCRIPTOR.removeprefix("/app/") == \
        str(envoy.DESCRIPTOR.relative_to(REPO))


def test_every_dependency_and_mounted_file_exists(compose: dict[str, Any]) -> None:
    defined = services(compose)
    for name, service in defined.items():
        for dependency in service.get("depends_on") or {}:
            assert dependency in defined, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes") or []:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
    dockerfile = (REPO / "Dockerfile").read_text()
    for folder in ("gen", "services", "jobs", "deploy"):
        assert f"COPY {folder} {folder}" in dockerfile


def test_envoy_accepts_the_compose_configuration(tmp_path: Path) -> None:
    """The checked-in file, with the image's descriptor path pointed at this checkout's."""
    local = tmp_path / "envoy.yaml"
    local.write_text(envoy.COMPOSE_FILE.read_text().replace(envoy.COMPOSE_DESCRIPTOR,
                                                            str(envoy.DESCRIPTOR)))
    done = subprocess.run([envoy.envoy_binary(), "--mode", "validate", "-c", str(local)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
