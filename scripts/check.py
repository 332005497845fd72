"""Every check paymesh's CI runs, in order; ``./dev test`` calls this.

1. gen/ matches proto/ (scripts/gen_protos.py --check), docs/openapi.json matches gen/
   (scripts/gen_openapi.py --check)
2. buf lint (STANDARD) over the contracts
3. buf breaking against the previous commit's contracts, when there is one
4. ruff
5. the test suite on SQLite with in-process shared state
6. the test suite on MariaDB and Redis (required when CI=true; skipped with a notice locally
   when they are not running)

    python scripts/check.py [--backend sqlite|mariadb|all] [pytest arguments...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR = "gen/paymesh/descriptor.binpb"
IN_CI = os.environ.get("CI", "").lower() == "true"


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(argv: list[str], **kwargs: object) -> int:
    return subprocess.run(argv, cwd=ROOT, check=False, **kwargs).returncode  # type: ignore[call-overload]


def buf() -> str | None:
    local = ROOT / "node_modules" / ".bin" / "buf"
    return str(local) if local.exists() else shutil.which("buf")


def proto_paths() -> list[str]:
    return [arg for p in sorted((ROOT / "proto").rglob("*.proto"))
            for arg in ("--path", str(p.relative_to(ROOT / "proto")))]


def contracts() -> list[str]:
    failures = []
    step("gen/ is up to date")
    if run([sys.executable, "scripts/gen_protos.py", "--check"]) != 0:
        failures.append("gen/ out of date")
    step("docs/openapi.json is up to date")
    if run([sys.executable, "scripts/gen_openapi.py", "--check"]) != 0:
        failures.append("docs/openapi.json out of date")
    tool = buf()
    if tool is None:
        print("buf not found (npm install installs it)")
        if IN_CI:
            failures.append("buf missing")
        return failures
    step("buf lint")
    if run([tool, "lint", DESCRIPTOR, "--config", "buf.yaml", *proto_paths()]) != 0:
        failures.append("buf lint")
    else:
        print("clean")
    step("buf breaking against the previous commit")
    previous = subprocess.run(["git", "show", f"HEAD~1:{DESCRIPTOR}"], cwd=ROOT,
                              capture_output=True, check=False)
    if previous.returncode != 0:
        print("no previous commit with contracts; nothing to compare")
        return failures
    with tempfile.NamedTemporaryFile(suffix=".binpb") as against:
        against.write(previous.stdout)
        against.flush()
        if run([tool, "breaking", DESCRIPTOR, "--against", against.name,
                "--config", "buf.yaml", *proto_paths()]) != 0:
            failures.append("buf breaking")
        else:
            print("no breaking change")
    return failures


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def suite(backend: str, pytest_args: list[str]) -> list[str]:
    step(f"test suite on {backend}")
    if backend == "mariadb" and not (reachable("127.0.0.1", 3306)
                                     and reachable("127.0.0.1", 6379)):
        if IN_CI:
            print("MariaDB (127.0.0.1:3306) or Redis (127.0.0.1:6379) unreachable; CI=true "
                  "requires them")
            return ["mariadb/redis unreachable"]
        print("MariaDB or Redis not running here: the MariaDB run is skipped "
              "(CI=true makes this an error)")
        return []
    env = {**os.environ, "PAYMESH_TEST_BACKEND": backend}
    code = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                *pytest_args], env=env)
    return [] if code == 0 else [f"tests on {backend}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "mariadb", "all"], default="all")
    args, pytest_args = parser.parse_known_args()
    failures = contracts()
    step("ruff")
    if run([sys.executable, "-m", "ruff", "check", "services", "tests", "scripts", "jobs"]) != 0:
        failures.append("ruff")
    backends = ["sqlite", "mariadb"] if args.backend == "all" else [args.backend]
    for backend in backends:
        failures += suite(backend, pytest_args)
    print()
    if failures:
        print("FAILED: " + ", ".join(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
