"""Free loopback ports for meshes started on one machine (tests, drills, benchmarks)."""

from __future__ import annotations

import secrets
import socket

# Below the kernel's ephemeral range (32768-60999 by default), so no outgoing connection of any
# process takes the port between the moment it is chosen and the moment a server binds it.
PORT_RANGE = range(20_000, 32_000)


def free_port(taken: set[int] | None = None) -> int:
    """A loopback port nothing listens on now, not in ``taken`` (which it is added to)."""
    taken = set() if taken is None else taken
    while True:
        port = secrets.choice(PORT_RANGE)
        if port in taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
