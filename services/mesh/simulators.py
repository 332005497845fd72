"""Local channel simulators for ``paymesh up --simulate-channels``.

Each simulator (WeChat Pay, Alipay, UnionPay) runs as its own process on a free loopback port,
generates its keys, and prints the channel parameters an adapter needs; the demo app is given
channel configs and passages that send its WX_*, ALI_* and UnionPay wayCodes through them, so the
real adapters can be watched end to end. Pay an order with the simulator's test control, e.g.
``curl -X POST <baseUrl>/__sim/pay -d '{"out_trade_no": "P..."}'``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# ifCode → (module, the wayCodes the demo routes through it)
SIMULATED = {
    "wxpay": ("paymesh.services.simulators.wxpay",
              ("WX_NATIVE", "WX_JSAPI", "WX_LITE", "WX_H5", "WX_APP", "WX_BAR")),
    "alipay": ("paymesh.services.simulators.alipay",
               ("ALI_QR", "ALI_OC", "ALI_BAR", "ALI_WAP", "ALI_PC", "ALI_APP", "ALI_JSAPI",
                "ALI_LITE")),
    "ysfpay": ("paymesh.services.simulators.ysfpay", ("YSF_BAR", "UP_BAR", "UP_QR")),
}
START_SECONDS = 30.0


@dataclass
class RunningSimulator:
    if_code: str
    process: subprocess.Popen[bytes]
    base_url: str
    params: dict[str, object]


def start_simulator(if_code: str, logs: Path) -> RunningSimulator:
    """Starts one simulator and waits for the line that announces it."""
    module = SIMULATED[if_code][0]
    log = logs / f"simulator-{if_code}.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", module, "--port", "0"], stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                announced = json.loads(line)
                return RunningSimulator(if_code, process, announced["baseUrl"],
                                        announced["params"])
        if process.poll() is not None:
            raise RuntimeError(f"the {if_code} simulator exited:\n{log.read_text()}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the {if_code} simulator did not start in {START_SECONDS:.0f} s")
