"""``paymesh drill crash --short`` on the current backend: every process of a real mesh is
``kill -9``'d under load, the supervisor brings it back, and the audit stays clean.

This is the CI crash drill (about 90 s): it runs the command exactly as an operator does and
reads its printed verdict, victims table and audit table.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from paymesh.services.drills.target import PROCESSES
from tests.conftest import BACKEND, MARIADB_URL, REDIS_URL, require_server

pytestmark = pytest.mark.e2e


def backend_env() -> dict[str, str]:
    """The drill's environment: the backend under test, nothing of this shell's mesh."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMESH_")}
    if BACKEND == "mariadb":
        require_server("MariaDB", "127.0.0.1", 3306)
        require_server("Redis", "127.0.0.1", 6379)
        env["PAYMESH_DB_URL"] = f"{MARIADB_URL}/pmt_{secrets.token_hex(3)}_{{service}}"
        env["PAYMESH_SHARED_STATE_URL"] = REDIS_URL
    return env


def test_every_process_killed_under_load_comes_back_and_nothing_is_lost() -> None:
    done = subprocess.run([sys.executable, "-m", "paymesh.services.cli", "drill", "crash",
                           "--short", "--quiesce", "75"],
                          env=backend_env(), capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "verdict: PASS" in output, output
    backend = "sqlite" if BACKEND == "sqlite" else "mariadb+redis"
    assert f"backend {backend}," in output, output
    # Every process was killed and a new one, with a new pid, was healthy again.
    for name in PROCESSES:
        match = re.search(rf"^  {name}\s+(\d+)\s+(\d+)\s+([\d.]+) s\s", output, re.MULTILINE)
        assert match, f"no recovery line for {name}:\n{output}"
        old, new = int(match.group(1)), int(match.group(2))
        assert old != new and float(match.group(3)) <= 30, output
    # The client really saw the outages (and retried through them)...
    assert re.search(r"^  gateway\s+\d+\s+\d+\s+[\d.]+ s\s+\d+\s+[1-9]", output, re.MULTILINE), \
        output
    # ...and the audit matched every order, payment posting and notification.
    rows = dict(re.findall(r"^  (pay orders|refunds|pay postings|refund postings|"
                           r"notifications)\s+(\d+\s+\d+\s+\d+\s+\d+)$", output, re.MULTILINE))
    assert set(rows) == {"pay orders", "refunds", "pay postings", "refund postings",
                         "notifications"}, output
    for name, counts in rows.items():
        match_count, *anomalies = map(int, counts.split())
        assert anomalies == [0, 0, 0], f"{name}: {counts}\n{output}"
        assert match_count > 0 or name == "refunds", output
    assert "ledger check: sound" in output
    assert re.search(r"merchant balance: client's view (\d+) fen, ledger \1 fen: equal", output)
