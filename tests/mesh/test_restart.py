"""The supervisor of ``paymesh up`` starts a crashed child again, with backoff, and gives up on a
child that keeps crashing. Real processes, killed with SIGKILL; no mesh."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paymesh.services.common.config import MeshConfig
from paymesh.services.mesh import supervisor
from paymesh.services.mesh.supervisor import Child, Mesh, prepare_data_dir
from tests.conftest import mesh_env

# Writes its pid to a file named by its argument, then waits to be killed.
SLEEPER = ("import os, sys, time\n"
           "open(sys.argv[1], 'a').write(f'{os.getpid()}\\n')\n"
           "time.sleep(120)\n")


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    env = mesh_env(tmp_path)
    prepare_data_dir(tmp_path)
    running = Mesh(MeshConfig.from_env(env))
    yield running
    running.stop()


def supervise_until(mesh: Mesh, done: object, timeout: float = 10.0) -> Child | None:
    """Calls supervise() as ``paymesh up`` does until ``done()`` holds; the child it gave up on."""
    deadline = time.monotonic() + timeout
    while True:
        gave_up = mesh.supervise()
        if gave_up is not None or done():  # type: ignore[operator]
            return gave_up
        assert time.monotonic() < deadline, "the supervisor did not act in time"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_child_runs_again_with_the_same_command(mesh: Mesh, tmp_path: Path) -> None:
    pids = tmp_path / "pids.txt"
    mesh._spawn("sleeper", [sys.executable, "-c", SLEEPER, str(pids)])
    [child] = mesh.children
    mesh.write_description()
    first = child.process.pid
    supervise_until(mesh, lambda: pids.exists() and pids.read_text().count("\n") == 1)
    os.kill(first, signal.SIGKILL)

    assert supervise_until(mesh, lambda: child.process.pid != first) is None
    second = child.process.pid
    assert child.restarts == 1 and child.crashes == 1
    assert alive(second)
    # The new process runs the same command line: it appends its own pid to the same file.
    supervise_until(mesh, lambda: pids.read_text().split() == [str(first), str(second)])
    # mesh.json names the new pid, so tools find the process that runs now.
    assert json.loads((tmp_path / "mesh.json").read_text())["pids"]["sleeper"] == second
    mesh.stop()
    assert not alive(second)


def test_backoff_doubles_then_the_supervisor_gives_up(mesh: Mesh, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_FIRST_DELAY", 0.2)
    monkeypatch.setattr(supervisor, "RESTART_LIMIT", 3)
    starts = tmp_path / "starts.txt"
    crasher = ("import sys, time\n"
               "open(sys.argv[1], 'a').write(f'{time.monotonic()}\\n')\n"
               "sys.exit(3)\n")
    mesh._spawn("crasher", [sys.executable, "-c", crasher, str(starts)])
    [child] = mesh.children

    gave_up = supervise_until(mesh, lambda: False, timeout=30)

    assert gave_up is child
    assert child.process.returncode == 3
    assert child.restarts == 3  # the first run and three restarts, then no more
    times = [float(line) for line in starts.read_text().split()]
    assert len(times) == 4
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    # 0.2, 0.4, 0.8 s of backoff (plus the interpreter's start-up in every gap)
    for gap, delay in zip(gaps, (0.2, 0.4, 0.8), strict=True):
        assert gap >= delay
    assert gaps[2] - gaps[0] >= 0.5


def test_a_child_that_stayed_up_starts_the_backoff_again(mesh: Mesh, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor, "RESTART_STABLE_SECONDS", 0.5)
    monkeypatch.setattr(supervisor, "RESTART_FIRST_DELAY", 0.3)
    mesh._spawn("sleeper", [sys.executable, "-c", SLEEPER, str(tmp_path / "pids.txt")])
    [child] = mesh.children
    child.crashes = supervisor.RESTART_LIMIT  # one more quick crash would be the last
    time.sleep(0.6)  # but it has now stayed up longer than RESTART_STABLE_SECONDS
    os.kill(child.process.pid, signal.SIGKILL)
    child.process.wait()

    assert mesh.supervise() is None
    assert child.crashes == 1
    assert child.restart_at is not None
    assert child.restart_at - time.monotonic() == pytest.approx(0.3, abs=0.1)


def test_a_channel_simulator_is_never_restarted(mesh: Mesh, tmp_path: Path) -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(0)"])
    process.wait()
    simulator = Child("wxpay simulator", process, tmp_path / "sim.log")  # no argv
    mesh.children.append(simulator)

    assert mesh.supervise() is simulator
    assert simulator.process is process
