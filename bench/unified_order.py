"""Benchmark: signed unified orders through Envoy, against a trivial RPC on the same path.

Starts its own mesh (``paymesh up --demo`` in a temporary data directory, on the SQLite defaults
unless PAYMESH_DB_URL / PAYMESH_SHARED_STATE_URL say otherwise), or uses a running one with
``--data-dir``. For the same concurrency and duration it measures

- the ceiling: ``GET /api/ping`` (Envoy → gateway → "pong", no database, no signature);
- unified orders: ``POST /api/pay/unifiedOrder``, each signed with a new mchOrderNo (signature,
  replay check, context cache, insert, channel call, update, signed answer);

and prints requests per second, p50 and p99 latency, errors, and the ratio of the two rates.
The load generator runs on the same machine and shares its cores with the mesh.

    .venv/bin/python bench/unified_order.py --concurrency 16 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from paymesh.services.client.merchant import MerchantCredentials, signed_params


@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    def line(self) -> str:
        done = sorted(self.latencies)
        if not done:
            return f"{self.name:<14} no successful request; errors {self.errors}"
        p50 = done[len(done) // 2] * 1000
        p99 = done[min(len(done) - 1, int(len(done) * 0.99))] * 1000
        return (f"{self.name:<14} {self.rate:8.1f} req/s   p50 {p50:6.1f} ms   "
                f"p99 {p99:6.1f} ms   ok {len(done)}   errors {self.errors}")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def drive(name: str, call: Callable[[httpx.AsyncClient], Awaitable[bool]],
                concurrency: int, duration: float) -> Stats:
    stats = Stats(name)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                began = time.perf_counter()
                try:
                    ok = await call(client)
                except httpx.HTTPError:
                    ok = False
                if ok:
                    stats.latencies.append(time.perf_counter() - began)
                else:
                    stats.errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats.elapsed = time.perf_counter() - began
    return stats


def ping(rest_url: str) -> Callable[[httpx.AsyncClient], Awaitable[bool]]:
    async def call(client: httpx.AsyncClient) -> bool:
        answer = await client.get(f"{rest_url}/api/ping")
        return answer.status_code == 200 and answer.json().get("message") == "pong"
    return call


def unified_order(rest_url: str, creds: MerchantCredentials
                  ) -> Callable[[httpx.AsyncClient], Awaitable[bool]]:
    prefix = f"B{secrets.token_hex(3)}"
    counter = iter(range(10**9))

    async def call(client: httpx.AsyncClient) -> bool:
        body = signed_params(creds, {
            "mchOrderNo": f"{prefix}{next(counter)}", "wayCode": "WX_NATIVE", "amount": 100,
            "currency": "cny", "subject": "bench", "body": "benchmark order"})
        answer = await client.post(f"{rest_url}/api/pay/unifiedOrder", json=body)
        return answer.status_code == 200 and answer.json().get("code") == 0
    return call


def start_mesh(data_dir: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PAYMESH_DATA_DIR=str(data_dir))
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.cli", "up", "--demo"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if "demo merchant" in (data_dir / "up.log").read_text():
            return process
        if process.poll() is not None:
            sys.exit("paymesh up failed:\n" + (data_dir / "up.log").read_text())
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    sys.exit("paymesh up did not come up in 90 s")


async def measure(demo: dict[str, str], concurrency: int, duration: float) -> None:
    creds = MerchantCredentials(demo["mchNo"], demo["appId"], demo["appSecret"])
    rest = demo["restUrl"]
    await drive("warm-up", unified_order(rest, creds), concurrency, min(3.0, duration))
    ceiling = await drive("ping (ceiling)", ping(rest), concurrency, duration)
    orders = await drive("unified order", unified_order(rest, creds), concurrency, duration)
    print(f"concurrency {concurrency}, {duration:.0f} s each, on {os.cpu_count()} cores")
    print(ceiling.line())
    print(orders.line())
    if ceiling.rate:
        print(f"ratio          {orders.rate / ceiling.rate:8.2f} of the ceiling")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--data-dir", help="use the mesh already running on this data dir")
    args = parser.parse_args()
    if args.data_dir:
        demo = json.loads((Path(args.data_dir) / "demo.json").read_text())
        asyncio.run(measure(demo, args.concurrency, args.duration))
        return
    with tempfile.TemporaryDirectory(prefix="paymesh-bench-") as tmp:
        process = start_mesh(Path(tmp))
        try:
            demo = json.loads((Path(tmp) / "demo.json").read_text())
            asyncio.run(measure(demo, args.concurrency, args.duration))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


if __name__ == "__main__":
    main()
