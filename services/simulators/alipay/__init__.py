"""A local, honest Alipay OpenAPI simulator (reference §6): real signatures, real state names.

It generates an app key pair and an "Alipay" key pair per run, verifies requests exactly as the
gateway does, signs every answer over the bytes it writes, keeps a book of trades and refunds,
and delivers signed notifications until the receiver answers ``success``. It shares no code with
the adapter. Start it with ``with AlipaySimulator() as sim:`` or
``python -m paymesh.services.simulators.alipay [--port N]``.
"""

from __future__ import annotations

from paymesh.services.simulators.alipay.server import (
    APP_ID,
    SUB_MERCHANT_APP_ID,
    AlipaySimulator,
    SimulatorRefused,
)

__all__ = ["APP_ID", "SUB_MERCHANT_APP_ID", "AlipaySimulator", "SimulatorRefused"]
