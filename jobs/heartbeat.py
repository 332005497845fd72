"""The jobs process's heartbeat file: how ``paymesh up`` knows the process is up.

Kept apart from the scheduler so the supervisor reads it without importing APScheduler.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

HEARTBEAT_FILE = "jobs.heartbeat"


class Heartbeat:
    """The jobs process's sign of life in the data directory."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def beat(self) -> None:
        """Writes pid and time, atomically (a reader never sees half a file)."""
        partial = self._path.with_suffix(".partial")
        partial.write_text(json.dumps({"pid": os.getpid(), "time": time.time()}))
        partial.replace(self._path)

    def remove(self) -> None:
        """Removes the file if it is still this process's own."""
        beat = read_heartbeat(self._path.parent)
        if beat is not None and beat.get("pid") == os.getpid():
            self._path.unlink(missing_ok=True)


def read_heartbeat(data_dir: Path) -> dict[str, float] | None:
    """The last heartbeat written in ``data_dir``, or None when there is none (yet)."""
    try:
        beat: dict[str, float] = json.loads((data_dir / HEARTBEAT_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return None
    return beat
