"""``python -m paymesh.services.simulators.wxpay [--port N] [--time-scale S] [--isv]
[--fee-rate R] [--bills-dir DIR]``.

Prints one JSON line, ``{"base_url": ..., "params": {...}}``, then serves until interrupted.
``--bills-dir``: pre-made trade bills ``DIR/<mchid>/<YYYY-MM-DD>.csv``, served verbatim (the
mchid is printed in the params).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading

from paymesh.services.simulators.wxpay.simulator import WxpaySimulator


def main() -> None:
    """Runs the simulator in the foreground."""
    parser = argparse.ArgumentParser(description="WeChat Pay APIv3 simulator (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="multiplier of the callback retry schedule (0.01: 15 s → 0.15 s)")
    parser.add_argument("--isv", action="store_true", help="print service-provider params")
    parser.add_argument("--mode", choices=("both", "publickey", "certificate"), default="both",
                        help="which WeChat keys the printed params hold")
    parser.add_argument("--fee-rate", default="0.006",
                        help="the merchant's fee rate in its bills (0.006 = 0.6 %%)")
    parser.add_argument("--bills-dir", default=None,
                        help="pre-made bills DIR/<mchid>/<YYYY-MM-DD>.csv, served verbatim")
    args = parser.parse_args()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with WxpaySimulator(port=args.port, time_scale=args.time_scale, fee_rate=args.fee_rate,
                        bills_dir=args.bills_dir) as sim:
        print(json.dumps({"baseUrl": sim.base_url,
                          "params": sim.adapter_params(isv=args.isv, mode=args.mode)}),
              flush=True)
        try:
            stopped.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
