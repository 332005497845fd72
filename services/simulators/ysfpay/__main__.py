"""``python -m paymesh.services.simulators.ysfpay``: one JSON line with the base URL and params."""

from __future__ import annotations

import argparse
import json
import signal
import threading

from paymesh.services.simulators.ysfpay.bills import DEFAULT_FEE_RATE, DEFAULT_READY_DELAY
from paymesh.services.simulators.ysfpay.simulator import YsfpaySimulator


def main() -> None:
    """Starts the simulator, prints its base URL and adapter params, serves until stopped."""
    parser = argparse.ArgumentParser(description="UnionPay ACP 5.1.0 gateway simulator")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="factor on notification retry delays (0.001: minutes → ms)")
    parser.add_argument("--fee-rate", default=DEFAULT_FEE_RATE,
                        help="the merchant's fee rate in the reconciliation files (0.006)")
    parser.add_argument("--bill-delay", type=float, default=DEFAULT_READY_DELAY,
                        help="seconds after a day ends until its file can be downloaded")
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with YsfpaySimulator(args.port, time_scale=args.time_scale, fee_rate=args.fee_rate,
                         bill_delay=args.bill_delay) as sim:
        print(json.dumps({"baseUrl": sim.base_url, "params": sim.adapter_params()}), flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
