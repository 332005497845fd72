"""Fuzzes the real edge with schemathesis from docs/openapi.json and prints a verdict table.

Starts its own mesh (``paymesh up --demo`` in a temporary data directory, on SQLite, or on
MariaDB and Redis with PAYMESH_TEST_BACKEND=mariadb as the tests do), or fuzzes a running one
from its demo.json (``./dev up --demo`` writes .paymesh/demo.json); ``--url`` points at another
edge with the same demo credentials. Each documented operation gets ``--budget`` cases; the rules
every answer must keep are in tests/fuzz/edge.py. Exits 1 when any operation breaks one (bugs
already known and listed there are shown apart and do not fail the run).

    .venv/bin/python scripts/fuzz_edge.py --budget 200
    .venv/bin/python scripts/fuzz_edge.py --budget 50 --tag merchant --seed 7
    .venv/bin/python scripts/fuzz_edge.py --demo .paymesh/demo.json --budget 500
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the rules and the mesh fixtures live beside the tests

from paymesh.services.client.merchant import MerchantCredentials  # noqa: E402
from paymesh.services.common.config import MeshConfig  # noqa: E402
from tests.conftest import BACKEND, drop_databases, mesh_env  # noqa: E402
from tests.e2e.conftest import start_mesh, stop_mesh, wait_for_demo  # noqa: E402
from tests.fuzz.edge import TAGS, OperationReport, Target, fuzz, verdict_table  # noqa: E402


def target_of(demo: dict[str, str], url: str | None) -> Target:
    return Target(url or demo["restUrl"], demo["adminToken"],
                  MerchantCredentials(demo["mchNo"], demo["appId"], demo["appSecret"]))


def run(target: Target, budget: int, seed: int, tags: list[str] | None) -> bool:
    print(f"fuzzing {target.rest_url}: {budget} cases per operation, seed {seed}", flush=True)
    began = time.monotonic()

    def progress(report: OperationReport) -> None:
        print(f"  {report.verdict:<9} {report.label} ({report.sent} cases)", flush=True)

    reports = fuzz(target, budget, seed, tags, progress)
    print()
    print(verdict_table(reports))
    for report in reports:
        if report.verdict in ("FAIL", "ERROR"):
            print(f"\n{report.label}: {report.error or ''}")
            for finding in report.findings[:5]:
                print(finding)
    print(f"\n{time.monotonic() - began:.0f} s; replay with --seed {seed}")
    return all(r.verdict not in ("FAIL", "ERROR") for r in reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=100, help="cases per operation")
    parser.add_argument("--seed", type=int, help="hypothesis seed (random by default)")
    parser.add_argument("--tag", action="append", choices=TAGS,
                        help="only these operations (repeatable); all by default")
    parser.add_argument("--demo", type=Path, help="a running mesh's demo.json")
    parser.add_argument("--url", help="the edge's URL, when not demo.json's restUrl")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    if args.demo:
        ok = run(target_of(json.loads(args.demo.read_text()), args.url), args.budget, seed,
                 args.tag)
        sys.exit(0 if ok else 1)
    with tempfile.TemporaryDirectory(prefix="paymesh-fuzz-") as tmp:
        data_dir = Path(tmp)
        env = mesh_env(data_dir)
        print(f"starting a mesh on {BACKEND} in {data_dir}", flush=True)
        process = start_mesh(data_dir, env)
        try:
            demo = wait_for_demo(data_dir, process)
            ok = run(target_of(demo, args.url), args.budget, seed, args.tag)
        finally:
            stop_mesh(process)
            if BACKEND == "mariadb":
                drop_databases(MeshConfig.from_env(env))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
