"""Database servers a drill may restart: throw-away ones of its own, or the operator's by command.

Restarting the MariaDB or Redis that other meshes (or other people's tests) use would hurt them,
so by default the restart drills start a private ``mariadbd`` (a fresh data directory from
``mariadb-install-db``) or ``redis-server`` on a free loopback port, point their own mesh at it,
and restart that. ``--restart-command`` restarts the environment's server instead (for example
``service mariadb restart`` on a machine that is the drill's alone).
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from paymesh.services.common.ports import free_port

READY_SECONDS = 60.0
STOP_SECONDS = 30.0


class ServerError(RuntimeError):
    """A private server could not be set up or started."""


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the server exited with code {process.returncode}: "
                              + log.read_text(errors="replace")[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerError(f"nothing listened on port {port} after {READY_SECONDS:.0f} s")


class PrivateServer:
    """One server process on a free port, which can be stopped and started again."""

    name = "server"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.log = directory / f"{self.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.argv(), stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_port(self.port, self.process, self.log)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), SIGKILL after STOP_SECONDS."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def restart(self, pause: float = 0.0) -> tuple[float, float]:
        """Stops the server, waits ``pause`` seconds and starts it again; (seconds until it
        had stopped, until it listened again)."""
        began = time.monotonic()
        self.stop()
        stopped = time.monotonic()
        time.sleep(pause)
        self.start()
        return stopped - began, time.monotonic() - began


class PrivateMariaDB(PrivateServer):
    """A throw-away ``mariadbd`` with root and no password on 127.0.0.1."""

    name = "mariadb"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        for binary in ("mariadbd", "mariadb-install-db"):
            if shutil.which(binary) is None:
                raise ServerError(f"{binary} is not installed")
        self.data = directory / "mariadb-data"
        install = subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root",
             "--auth-root-authentication-method=normal", "--skip-test-db"],
            capture_output=True, text=True, timeout=120)
        if install.returncode != 0:
            raise ServerError(f"mariadb-install-db failed: {install.stderr[-2000:]}")

    def argv(self) -> list[str]:
        return ["mariadbd", "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
                "--bind-address=127.0.0.1", f"--socket={self.directory / 'mariadb.sock'}",
                "--user=root", "--skip-name-resolve", "--skip-log-bin",
                "--innodb-buffer-pool-size=64M", f"--pid-file={self.directory / 'mariadb.pid'}",
                "--max-connections=500"]

    @property
    def url_template(self) -> str:
        return f"mysql+aiomysql://root@127.0.0.1:{self.port}/paymesh_{{service}}"


class PrivateRedis(PrivateServer):
    """A throw-away ``redis-server`` without persistence on 127.0.0.1."""

    name = "redis"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        if shutil.which("redis-server") is None:
            raise ServerError("redis-server is not installed")

    def argv(self) -> list[str]:
        return ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory)]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def restart_by_command(command: str) -> tuple[float, float]:
    """Runs the operator's restart command; (0, seconds it took)."""
    began = time.monotonic()
    done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ServerError(f"{command!r} failed with code {done.returncode}: "
                          f"{(done.stderr or done.stdout)[-1000:]}")
    return 0.0, time.monotonic() - began
