"""``python -m paymesh.services.simulators.alipay [--port N] [--time-scale X] [--isv]
[--fee-rate R] [--bill-delay S]``.

Prints one JSON line — the base URL, the gateway URL and the channel params an adapter needs
(with the keys generated for this run) — then serves until interrupted.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from paymesh.services.simulators.alipay.bills import DEFAULT_FEE_RATE, DEFAULT_READY_DELAY
from paymesh.services.simulators.alipay.server import DEFAULT_TIME_SCALE, AlipaySimulator


def main() -> None:
    """Runs the simulator in the foreground."""
    parser = argparse.ArgumentParser(description="Alipay OpenAPI simulator (loopback only)")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--time-scale", type=float, default=DEFAULT_TIME_SCALE,
                        help="multiplier of Alipay's notification retry pauses")
    parser.add_argument("--isv", action="store_true",
                        help="print ISV params (with sub.appAuthToken)")
    parser.add_argument("--fee-rate", default=DEFAULT_FEE_RATE,
                        help="the account's fee rate in the bills (0.006 = 0.6 %%)")
    parser.add_argument("--bill-delay", type=float, default=DEFAULT_READY_DELAY,
                        help="seconds after a day ends until its bill can be downloaded")
    args = parser.parse_args()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with AlipaySimulator(port=args.port, time_scale=args.time_scale, fee_rate=args.fee_rate,
                         bill_delay=args.bill_delay) as sim:
        print(json.dumps({"baseUrl": sim.base_url, "gatewayUrl": sim.gateway_url,
                          "ifCode": "alipay", "params": sim.adapter_params(isv=args.isv)}),
              flush=True)
        try:
            done.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
