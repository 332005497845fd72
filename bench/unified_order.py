"""Benchmark: signed unified orders through Envoy, against a trivial RPC on the same path.

Starts its own mesh (``paymesh up --demo`` in a temporary data directory, on free ports, on the
SQLite defaults unless PAYMESH_DB_URL / PAYMESH_SHARED_STATE_URL say otherwise), or uses a running
one with ``--data-dir``. Two requests are compared:

- the ceiling: ``GET /api/ping`` (Envoy → gateway → "pong", no database, no signature);
- unified orders: ``POST /api/pay/unifiedOrder``, each signed with a new mchOrderNo (signature,
  replay check, context cache, insert, channel call, update, signed answer).

Two load models, each run for both requests in the same mesh:

- closed (``--concurrency`` workers, each sending its next request when the last one answers):
  the most each request sustains, and the ratio of the two rates;
- open (a fixed arrival rate, requests sent on schedule whether or not earlier ones have
  answered): ``--rate`` requests per second, or by default ``--rate-fraction`` (1/3) of the
  ceiling just measured. Latency counts from the scheduled send time, so a backlog shows in p99
  instead of lowering the rate that is offered.

It prints the achieved rate, p50 and p99 latency and errors of each phase, the ratios, and whether
the targets hold (unified orders at least ``--rate-fraction`` of the ceiling, with p99 under
``--p99-target`` ms at that rate). The load generator runs on the same machine and shares its
cores with the mesh.

    .venv/bin/python bench/unified_order.py --concurrency 16 --duration 15

``--sweep 30,45,60`` then runs unified orders alone at each of those rates (open model), to
find the highest rate that keeps p99 under the target. ``--cpu`` adds the CPU time each process
of the mesh (and the load generator) spent per request in each phase, read from /proc.
``--profile DIR`` records the gateway, channel and merchant processes with py-spy (``--gil``:
their Python work) during the open unified-order phase, as collapsed stacks
``DIR/<process>.txt`` for bench/profile_top.py; sampling costs CPU, so the figures of a profiled
run are not the ones to report. ``--drop-databases`` drops the MySQL databases the started mesh
created (give PAYMESH_DB_URL a throw-away name). ``--pairs N`` runs the closed-model ping and
unified-order phases N times and prints each pair's ratio and the CPU of an order in pings, with
their medians: the virtual machine's speed drifts between runs, so two versions of the code are
best compared by those medians.

A mesh started here leaves the benchmark's orders unpolled for an hour
(PAYMESH_JOBS_PAYING_AGE=3600 unless set): they all stay unpaid, and the jobs process would
otherwise start querying them at the channel after a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from paymesh.services.client.merchant import MerchantCredentials, signed_params
from paymesh.services.common import db
from paymesh.services.common.config import METRICS_PORTS, SERVICES, MeshConfig

Call = Callable[[httpx.AsyncClient], Awaitable[bool]]
# Open-model requests still waiting past this many are not sent (counted as errors): the mesh
# is far past saturation and the run would only measure the client's queue.
MAX_IN_FLIGHT = 1000
PROFILED = ("gateway", "channel", "merchant")


@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    offered: float | None = None  # requests per second scheduled (open model)

    def percentile(self, fraction: float) -> float | None:
        done = sorted(self.latencies)
        if not done:
            return None
        return done[min(len(done) - 1, int(len(done) * fraction))] * 1000

    def line(self) -> str:
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        if p50 is None or p99 is None:
            return f"{self.name:<22} no successful request; errors {self.errors}"
        offered = f"   offered {self.offered:7.1f}/s" if self.offered is not None else ""
        return (f"{self.name:<22} {self.rate:8.1f} req/s   p50 {p50:6.1f} ms   "
                f"p99 {p99:6.1f} ms   ok {len(self.latencies)}   errors {self.errors}{offered}")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


# httpx scans its whole pool on every request, so one client with many connections costs the
# load generator (and the mesh it shares the cores with) more per request than several small
# ones: connections are spread over clients of at most this many.
CONNECTIONS_PER_CLIENT = 8


class Connections:
    """``count`` connection slots over small httpx clients; a request holds one slot."""

    def __init__(self, count: int) -> None:
        sizes = [CONNECTIONS_PER_CLIENT] * (count // CONNECTIONS_PER_CLIENT)
        if count % CONNECTIONS_PER_CLIENT:
            sizes.append(count % CONNECTIONS_PER_CLIENT)
        self._clients = [httpx.AsyncClient(timeout=30, limits=httpx.Limits(
            max_connections=size, max_keepalive_connections=size)) for size in sizes]
        self._slots: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client, size in zip(self._clients, sizes, strict=True):
            for _ in range(size):
                self._slots.put_nowait(client)

    async def send(self, call: Call, began: float, stats: Stats) -> None:
        """``call`` on a free slot (waiting for one counts in its latency), timed from
        ``began``."""
        client = await self._slots.get()
        try:
            ok = await call(client)
        except httpx.HTTPError:
            ok = False
        finally:
            self._slots.put_nowait(client)
        if ok:
            stats.latencies.append(time.perf_counter() - began)
        else:
            stats.errors += 1

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()


async def drive(name: str, call: Call, concurrency: int, duration: float) -> Stats:
    """Closed model: ``concurrency`` workers back to back for ``duration`` seconds."""
    stats = Stats(name)
    connections = Connections(concurrency)
    try:
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                await connections.send(call, time.perf_counter(), stats)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats.elapsed = time.perf_counter() - began
    finally:
        await connections.close()
    return stats


async def drive_at_rate(name: str, call: Call, rate: float, duration: float,
                        connections: int) -> Stats:
    """Open model: one request every 1/``rate`` s for ``duration`` seconds, latency counted
    from each request's scheduled time; the rate reported is answers over the whole run."""
    stats = Stats(name, offered=rate)
    total = max(1, int(rate * duration))
    pending: set[asyncio.Task[None]] = set()
    pool = Connections(connections)
    try:
        began = time.perf_counter()
        for index in range(total):
            due = began + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(pending) >= MAX_IN_FLIGHT:
                stats.errors += 1
                continue
            task = asyncio.create_task(pool.send(call, due, stats))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
        stats.elapsed = time.perf_counter() - began
    finally:
        await pool.close()
    return stats


def ping(rest_url: str) -> Call:
    async def call(client: httpx.AsyncClient) -> bool:
        answer = await client.get(f"{rest_url}/api/ping")
        return answer.status_code == 200 and answer.json().get("message") == "pong"
    return call


def unified_order(rest_url: str, creds: MerchantCredentials) -> Call:
    prefix = f"B{secrets.token_hex(3)}"
    counter = iter(range(10**9))

    async def call(client: httpx.AsyncClient) -> bool:
        body = signed_params(creds, {
            "mchOrderNo": f"{prefix}{next(counter)}", "wayCode": "WX_NATIVE", "amount": 100,
            "currency": "cny", "subject": "bench", "body": "benchmark order"})
        answer = await client.post(f"{rest_url}/api/pay/unifiedOrder", json=body)
        return answer.status_code == 200 and answer.json().get("code") == 0
    return call


def _free_port(taken: set[int]) -> int:
    """A port nobody listens on now, not already handed out to this mesh."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            taken.add(port)
            return port


def mesh_env(data_dir: Path) -> dict[str, str]:
    """The environment of a mesh of its own: free ports wherever the caller set none, and no
    polling of the benchmark's unpaid orders during the run."""
    env = dict(os.environ, PAYMESH_DATA_DIR=str(data_dir))
    ports = {"PAYMESH_HTTP_PORT": "", "PAYMESH_ENVOY_ADMIN_PORT": "",
             **{f"PAYMESH_{s.upper()}_ADDR": "127.0.0.1:" for s in SERVICES},
             **{f"PAYMESH_{p.upper()}_METRICS_PORT": "" for p in METRICS_PORTS},
             "PAYMESH_TRACESTORE_ADDR": "127.0.0.1:"}
    taken: set[int] = set()
    for name, prefix in ports.items():
        env.setdefault(name, f"{prefix}{_free_port(taken)}")
    # Every benchmark order stays unpaid; the jobs process would start polling the oldest of
    # them at the channel a minute in, loading the later phases only. Put that off.
    env.setdefault("PAYMESH_JOBS_PAYING_AGE", "3600")
    return env


def start_mesh(env: dict[str, str], data_dir: Path) -> subprocess.Popen[bytes]:
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.cli", "up", "--demo"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "demo merchant" in (data_dir / "up.log").read_text():
            return process
        if process.poll() is not None:
            sys.exit("paymesh up failed:\n" + (data_dir / "up.log").read_text())
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    sys.exit("paymesh up did not come up in 120 s")


class CpuMeter:
    """CPU seconds each mesh process (and this load generator) spent, from /proc, per phase."""

    def __init__(self, data_dir: Path) -> None:
        try:
            pids = json.loads((data_dir / "mesh.json").read_text())["pids"]
        except (OSError, ValueError, KeyError):
            pids = {}
        self._pids: dict[str, int] = {**pids, "load generator": os.getpid()}
        self._tick = os.sysconf("SC_CLK_TCK")
        self._totals: dict[str, float] = {}

    def last_total(self, stats: Stats) -> float | None:
        """CPU seconds per request of every process together in the phase of ``stats``."""
        return self._totals.get(stats.name)

    def sample(self) -> dict[str, float]:
        seconds = {}
        for name, pid in self._pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            seconds[name] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
        return seconds

    def per_request(self, before: dict[str, float], after: dict[str, float],
                    stats: Stats) -> str:
        done = len(stats.latencies) + stats.errors
        if not done or not before:
            return ""
        spent = {n: after[n] - before[n] for n in after if n in before}
        self._totals[stats.name] = sum(spent.values()) / done
        parts = [f"{n} {1000 * s / done:.2f}" for n, s in
                 sorted(spent.items(), key=lambda item: -item[1]) if s > 0]
        return (f"{'':<22} CPU ms per request: total {1000 * sum(spent.values()) / done:.2f} = "
                + ", ".join(parts))


class Profiler:
    """py-spy recording the mesh's Python services while one phase runs."""

    def __init__(self, out_dir: Path | None, data_dir: Path) -> None:
        self._out = out_dir
        self._data_dir = data_dir
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, duration: float) -> None:
        if self._out is None:
            return
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        pids = json.loads((self._data_dir / "mesh.json").read_text())["pids"]
        self._out.mkdir(parents=True, exist_ok=True)
        for name in PROFILED:
            self._running.append(subprocess.Popen(
                [spy, "record", "--pid", str(pids[name]), "--duration", str(int(duration) + 2),
                 "--rate", "100", "--gil", "--full-filenames", "--nonblocking",
                 "--format", "raw",
                 "--output", str(self._out / f"{name}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(1.0)  # let the recorders attach before the phase begins

    def stop(self) -> None:
        for process in self._running:
            process.wait(60)
        self._running.clear()


def _pairs_summary(pairs: list[tuple[Stats, Stats, float | None, float | None]]) -> str:
    """Each closed-model pair's ratio, and the CPU of an order in pings (the machine's speed
    drifts between runs; within a pair it is the same), with their medians."""
    ratios = [o.rate / c.rate for c, o, _, _ in pairs if c.rate]
    costs = [o_cpu / c_cpu for _, _, c_cpu, o_cpu in pairs if c_cpu and o_cpu]
    lines = [f"{len(pairs)} closed-model pairs, ping then unified orders:"]
    for number, (c, o, c_cpu, o_cpu) in enumerate(pairs, 1):
        cost = f", an order costs {o_cpu / c_cpu:.2f} pings of CPU" if c_cpu and o_cpu else ""
        lines.append(f"  #{number}: {c.rate:7.1f} pings/s, {o.rate:7.1f} orders/s, "
                     f"ratio {o.rate / c.rate:.3f}{cost}")
    lines.append(f"  median ratio {statistics.median(ratios):.3f}" + (
        f", median cost {statistics.median(costs):.2f} pings" if costs else ""))
    return "\n".join(lines)


def _verdict(ceiling: Stats, paced: Stats, rate: float, p99_target: float) -> str:
    p99 = paced.percentile(0.99)
    kept_up = paced.rate >= 0.95 * rate and paced.errors == 0
    fast = p99 is not None and p99 < p99_target
    return (f"at {rate:.1f}/s ({rate / ceiling.rate:.2f} of the ceiling): unified orders "
            f"{'kept' if kept_up else 'did NOT keep'} up with "
            f"{paced.errors} errors, p99 {p99 if p99 is not None else float('nan'):.1f} ms "
            f"{'<' if fast else '>='} {p99_target:.0f} ms: target "
            f"{'met' if kept_up and fast else 'NOT met'}")


async def measure(demo: dict[str, str], args: argparse.Namespace, data_dir: Path,
                  profiler: Profiler) -> None:
    creds = MerchantCredentials(demo["mchNo"], demo["appId"], demo["appSecret"])
    rest = demo["restUrl"]
    conc, duration = args.concurrency, args.duration
    meter = CpuMeter(data_dir)
    cpu: dict[str, str] = {}

    async def phase(phase: Awaitable[Stats]) -> Stats:
        before = meter.sample()
        stats = await phase
        cpu[stats.name] = meter.per_request(before, meter.sample(), stats)
        return stats

    await drive("warm-up", unified_order(rest, creds), conc, min(3.0, duration))
    ceiling = await phase(drive("ping (ceiling)", ping(rest), conc, duration))
    orders = await phase(drive("unified order", unified_order(rest, creds), conc, duration))
    pairs = [(ceiling, orders, meter.last_total(ceiling), meter.last_total(orders))]
    for number in range(2, args.pairs + 1):
        again = await phase(drive(f"ping #{number}", ping(rest), conc, duration))
        more = await phase(drive(f"unified order #{number}", unified_order(rest, creds), conc,
                                 duration))
        pairs.append((again, more, meter.last_total(again), meter.last_total(more)))
    rate = args.rate or ceiling.rate * args.rate_fraction
    paced_ping = await phase(drive_at_rate("ping at rate", ping(rest), rate, duration,
                                           args.connections))
    profiler.start(duration)
    try:
        paced = await phase(drive_at_rate("unified order at rate", unified_order(rest, creds),
                                          rate, duration, args.connections))
    finally:
        profiler.stop()
    swept = [await phase(drive_at_rate(f"unified order at {r:g}/s", unified_order(rest, creds),
                                       r, duration, args.connections)) for r in args.sweep]
    backend = os.environ.get("PAYMESH_DB_URL", "sqlite").split(":", 1)[0]
    print(f"{os.cpu_count()} cores, backend {backend}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after the run")
    print(f"closed model: concurrency {conc}, {duration:.0f} s each")
    def show(stats: Stats) -> None:
        print(stats.line())
        if args.cpu and cpu[stats.name]:
            print(cpu[stats.name])

    for stats in (ceiling, orders):
        show(stats)
    if ceiling.rate:
        print(f"{'ratio':<22} {orders.rate / ceiling.rate:8.2f} of the ceiling")
    if len(pairs) > 1:
        print(_pairs_summary(pairs))
    print(f"open model: {rate:.1f} requests/s offered, {duration:.0f} s each")
    for stats in (paced_ping, paced):
        show(stats)
    if ceiling.rate:
        print(_verdict(ceiling, paced, rate, args.p99_target))
    if swept:
        print(f"open model, unified orders only: {duration:.0f} s at each rate")
    for stats in swept:
        show(stats)


def _rates(text: str) -> list[float]:
    return [float(r) for r in text.split(",") if r.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per phase")
    parser.add_argument("--rate", type=float, help="open-model requests per second "
                        "(default: --rate-fraction of the measured ceiling)")
    parser.add_argument("--rate-fraction", type=float, default=1 / 3)
    parser.add_argument("--sweep", type=_rates, default=[], metavar="R1,R2,...",
                        help="then unified orders alone at each of these rates (open model), "
                        "to find the highest one that keeps p99 under the target")
    parser.add_argument("--connections", type=int, default=64,
                        help="open-model connection pool (requests beyond it wait, and the "
                        "wait counts in their latency)")
    parser.add_argument("--pairs", type=int, default=1,
                        help="closed-model ping and unified-order phases this many times, "
                        "with the median ratio (for comparing code: the machine's speed drifts)")
    parser.add_argument("--p99-target", type=float, default=50.0, help="ms")
    parser.add_argument("--data-dir", help="use the mesh already running on this data dir")
    parser.add_argument("--profile", type=Path, help="py-spy output directory")
    parser.add_argument("--cpu", action="store_true",
                        help="print the CPU time per request of every process of the mesh")
    parser.add_argument("--drop-databases", action="store_true",
                        help="drop the MySQL databases of the started mesh afterwards")
    args = parser.parse_args()
    if args.data_dir:
        data_dir = Path(args.data_dir)
        demo = json.loads((data_dir / "demo.json").read_text())
        asyncio.run(measure(demo, args, data_dir, Profiler(args.profile, data_dir)))
        return
    with tempfile.TemporaryDirectory(prefix="paymesh-bench-") as tmp:
        data_dir = Path(tmp)
        env = mesh_env(data_dir)
        process = start_mesh(env, data_dir)
        try:
            demo = json.loads((data_dir / "demo.json").read_text())
            asyncio.run(measure(demo, args, data_dir, Profiler(args.profile, data_dir)))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)
            if args.drop_databases:
                for url in MeshConfig.from_env(env).db_urls.values():
                    if not db.is_sqlite(url):
                        db.drop_database(url)


if __name__ == "__main__":
    main()
