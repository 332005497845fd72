"""The event loop every long-running process of the mesh runs on.

uvloop where it is installed (Linux and macOS): a unified order spends about a fifth of the
gateway's Python time in the event loop itself (gRPC's callbacks, wake-ups from SQLite's
thread), and uvloop does that work in C. ``PAYMESH_EVENT_LOOP=asyncio`` keeps the standard loop.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_kind() -> str:
    """``uvloop`` or ``asyncio``: the loop ``run`` uses in this process."""
    if os.environ.get("PAYMESH_EVENT_LOOP", "uvloop").strip().lower() == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the process's loop."""
    if loop_kind() == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
