"""Benchmark: one reconciliation batch over a WeChat Pay bill of a million rows.

What it builds (in a temporary directory unless ``--keep``):

- the platform's side: ROWS pay orders of one channel config, inserted straight into a fresh
  mesh's gateway database (Core bulk inserts: building them through the merchant API would
  take hours and measure the gateway, not reconciliation), all dated on the bill date, with
  their merchant fee and the channel fee the platform expects (0.6 %);
- the channel's side: the day's ``ALL`` trade bill in WeChat Pay's exact format
  (channel-protocols.md §1.8: UTF-8 with a BOM, ``\\r\\n``, the 27-column header, every value
  behind a backtick, amounts in yuan, fees with 5 decimals, the 7-column summary), written by this
  script's own generator to ``<bills>/<mchid>/<date>.csv``, which the WeChat Pay simulator
  (started with ``--bills-dir``) serves verbatim through its real download API;
- injected mistakes, a few per thousand rows: amounts above and below the platform's
  (PLATFORM_SHORT/OVER_CASH_MISMATCH), a wrong fee (FEE_MISMATCH), rows the platform never saw
  (PLATFORM_MISS), orders the platform closed but the channel took (SHORT_STATUS), payments the
  channel reversed (REVOKED: OVER_STATUS), and rows left out (the platform's orders then wait in
  the carry-over pool: counted, not mistakes yet).

Then it runs the batch through the real path: ``RunBatch`` on the reconciliation service, which
resolves the config at the merchant service, streams the bill from the channel service (signed
download from the simulator, SHA-1 checked, parsed) and the day's orders from the gateway, and
matches them. It prints the wall time (with the reconciliation service's own split: both streams,
each stream alone, the join, the final commit), the CPU time the batch cost each busy process
(reconciliation, channel, gateway, the simulator) and the load average before it, rows per
second, peak RSS of the reconciliation process (and of the channel and gateway processes and of
this script), the time a bare ``csv.reader`` pass over the same file takes, measured in the same
run, their ratio (target ≤ 5), and whether the mistakes found are exactly the injected ones.
The streams run in three processes at once: on a machine busy with other work the ratio grows
with its load, which is why the load is printed.

    .venv/bin/python bench/reconciliation.py --rows 100000     # quick
    .venv/bin/python bench/reconciliation.py                   # 1,000,000 rows
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.engine import make_url

from paymesh.merchant.v1 import merchant_pb2 as mpb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.reconciliation.v1 import reconciliation_pb2_grpc
from paymesh.services.common.config import METRICS_PORTS, SERVICES, MeshConfig
from paymesh.services.common.ports import free_port

CHINA = timedelta(hours=8)
HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
          "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
          "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
          "费率备注")
SUMMARY = ("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
           "申请退款总金额")
# Injected mistakes per million rows, by kind.
PER_MILLION = {"short_cash": 1000, "over_cash": 1000, "fee": 600, "platform_miss": 500,
               "short_status": 500, "over_status": 400, "omitted": 300}
EXPECTED_TYPE = {"short_cash": "PLATFORM_SHORT_CASH_MISMATCH",
                 "over_cash": "PLATFORM_OVER_CASH_MISMATCH", "fee": "FEE_MISMATCH",
                 "platform_miss": "PLATFORM_MISS",
                 "short_status": "PLATFORM_SHORT_STATUS_MISMATCH",
                 "over_status": "PLATFORM_OVER_STATUS_MISMATCH"}


def fee_of(amount: int) -> int:
    """0.6 % half up, in fen."""
    return (amount * 6 + 500) // 1000


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fee_yuan(fen: int) -> str:
    """A fee in yuan with WeChat's 5 decimals."""
    units = fen * 1000
    return f"{units // 100000}.{units % 100000:05d}"


class Day:
    """The orders of the bill date and the mistakes planted in them."""

    def __init__(self, rows: int, bill_date: str, seed: int) -> None:
        self.rows = rows
        self.bill_date = bill_date
        rng = random.Random(seed)
        self.amounts = [rng.randint(100, 500_000) for _ in range(rows)]
        start = datetime.fromisoformat(bill_date).replace(tzinfo=UTC) - CHINA
        self.times = sorted(start + timedelta(seconds=rng.randrange(60, 86_340))
                            for _ in range(rows))
        self.prefix = f"P{secrets.randbelow(10**6):06d}"
        counts = {kind: max(1, per * rows // 1_000_000) for kind, per in PER_MILLION.items()}
        chosen = rng.sample(range(rows), sum(v for k, v in counts.items()
                                             if k != "platform_miss"))
        self.planted: dict[int, str] = {}
        for kind, count in counts.items():
            if kind != "platform_miss":
                for _ in range(count):
                    self.planted[chosen.pop()] = kind
        self.strangers = [f"PX{self.prefix[1:]}{i:08d}" for i in range(counts["platform_miss"])]
        self.counts = counts

    def order_id(self, i: int) -> str:
        return f"{self.prefix}{i:010d}"

    def expected(self) -> set[tuple[str, str]]:
        found = {(EXPECTED_TYPE[kind], self.order_id(i)) for i, kind in self.planted.items()
                 if kind != "omitted"}
        return found | {("PLATFORM_MISS", s) for s in self.strangers}


def write_bill(day: Day, path: Path, mch_id: str, app_id: str) -> int:
    """The WeChat Pay ALL bill of the day; returns its number of detail rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = pay_total = fee_units = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("\ufeff" + HEADER + "\r\n")
        write = out.write
        for i in range(day.rows + len(day.strangers)):
            if i < day.rows:
                kind = day.planted.get(i)
                if kind == "omitted":
                    continue
                order_id, amount, moment = day.order_id(i), day.amounts[i], day.times[i]
            else:
                kind, order_id = "stranger", day.strangers[i - day.rows]
                amount, moment = 1234, day.times[-1]
            fee = fee_of(amount)
            state = "SUCCESS"
            if kind == "short_cash":
                amount += 100
                fee = fee_of(amount)
            elif kind == "over_cash":
                amount -= 50
                fee = fee_of(amount)
            elif kind == "fee":
                fee += 1
            elif kind == "over_status":
                state, fee = "REVOKED", 0
            stamp = (moment + CHINA).strftime("%Y-%m-%d %H:%M:%S")
            write(f"`{stamp},`{app_id},`{mch_id},`0,`,`42{order_id[1:]},`{order_id},"
                  f"`oBench{i % 997},`NATIVE,`{state},`OTHERS,`CNY,`{yuan(amount)},`0.00,`0,`0,"
                  f"`0.00,`0.00,`,`,`bench,`,`{fee_yuan(fee)},`0.60%,`{yuan(amount)},`0.00,`\r\n")
            count += 1
            pay_total += amount
            fee_units += fee * 1000
        write(SUMMARY + "\r\n")
        write(f"`{count},`{yuan(pay_total)},`0.00,`0.00,"
              f"`{fee_units // 100000}.{fee_units % 100000:05d},`{yuan(pay_total)},`0.00\r\n")
    return count


def insert_orders(day: Day, gateway_url: str, app_id: str, mch_no: str, key: str) -> None:
    """The platform's pay orders of the day, straight into the gateway's pay_order table."""
    url = make_url(gateway_url)
    driver = "sqlite" if url.get_backend_name() == "sqlite" else "mysql+pymysql"
    engine = create_engine(url.set(drivername=driver))
    table = Table("pay_order", MetaData(), autoload_with=engine)
    columns = {c.name for c in table.columns}
    chunk: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for i in range(day.rows):
            amount, moment = day.amounts[i], day.times[i].replace(tzinfo=None)
            closed = day.planted.get(i) == "short_status"
            row = {
                "pay_order_id": day.order_id(i), "mch_no": mch_no, "app_id": app_id,
                "mch_order_no": f"B{i}", "if_code": "wxpay", "way_code": "WX_NATIVE",
                "amount": amount, "currency": "cny", "state": 6 if closed else 2,
                "subject": "bench", "body": "bench", "division_mode": 0,
                "expire_at": moment + timedelta(hours=2), "fee_rate": "0.006",
                "fee_amount": fee_of(amount), "fee_fixed": 0, "fee_floor": 0, "fee_cap": 0,
                "fee_rounding": 1, "refund_fee_rule": 1, "channel_cost_rate": "0.006",
                "channel_fee_amount": fee_of(amount), "channel_config_key": key,
                "channel_order_no": None if closed else f"42{day.order_id(i)[1:]}",
                "late_success": False, "refunded_amount": 0, "refund_reserved": 0,
                "refund_times": 0, "success_at": None if closed else moment,
                "created_at": moment - timedelta(seconds=30), "updated_at": moment}
            chunk.append({k: v for k, v in row.items() if k in columns})
            if len(chunk) == 20_000:
                conn.execute(table.insert(), chunk)
                chunk = []
        if chunk:
            conn.execute(table.insert(), chunk)
    engine.dispose()


def bare_parse(path: Path) -> tuple[float, int]:
    """Seconds for a plain csv.reader pass over the file, and the rows it saw."""
    began = time.perf_counter()
    rows = 0
    with path.open(encoding="utf-8-sig", newline="") as source:
        for _ in csv.reader(source):
            rows += 1
    return time.perf_counter() - began, rows


def peak_rss_mib(pid: int) -> float:
    """A process's peak resident set (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phases(log: Path, batch_id: str) -> str:
    """The reconciliation service's own timing of the batch (streams, join, commit)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        if batch_id in line and "streams" in line:
            message = json.loads(line)["message"]
            return message[message.index("streams"):]
    return "(not logged)"


def mesh_env(data_dir: Path) -> dict[str, str]:
    env = {"PAYMESH_DATA_DIR": str(data_dir), "PAYMESH_HTTP_PORT": str(free_port()),
           "PAYMESH_ENVOY_ADMIN_PORT": str(free_port()),
           "PAYMESH_TRACESTORE_ADDR": f"127.0.0.1:{free_port()}",
           "PAYMESH_JOBS_RECONCILE_AT": "23:59"}
    env.update({f"PAYMESH_{s.upper()}_ADDR": f"127.0.0.1:{free_port()}" for s in SERVICES})
    env.update({f"PAYMESH_{p.upper()}_METRICS_PORT": "0" for p in METRICS_PORTS})
    return env


def start_mesh(data_dir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.cli", "up", "--demo"],
                               env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "demo merchant" in (data_dir / "up.log").read_text():
            return process
        if process.poll() is not None:
            sys.exit("paymesh up failed:\n" + (data_dir / "up.log").read_text())
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    sys.exit("paymesh up did not come up in 120 s")


def start_simulator(bills: Path, log: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "paymesh.services.simulators.wxpay",
                                    "--port", "0", "--bills-dir", str(bills)], stdout=out,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("{"):
                return process, json.loads(line)
        time.sleep(0.1)
    process.kill()
    sys.exit("the WeChat Pay simulator did not start:\n" + log.read_text())


async def all_mistakes(stub: Any, batch_id: str) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    token = ""
    while True:
        page = await stub.ListMistakes(pb.ListMistakesRequest(
            batch_id=batch_id, page={"page_size": 100, "page_token": token}), timeout=60)
        found |= {(pb.MistakeType.Name(m.type).removeprefix("MISTAKE_TYPE_"),
                   m.refund_order_id or m.pay_order_id) for m in page.mistakes}
        if not page.page.has_more:
            return found
        token = page.page.next_page_token


async def run(args: argparse.Namespace, folder: Path) -> bool:
    data_dir, bills = folder / "mesh", folder / "bills"
    data_dir.mkdir()
    env = mesh_env(data_dir)
    simulator, announced = start_simulator(bills, folder / "simulator.log")
    mesh = start_mesh(data_dir, env)
    try:
        config = MeshConfig.from_env(env)
        demo = json.loads((data_dir / "demo.json").read_text())
        params = announced["params"]
        bill_date = (datetime.now(UTC) + CHINA - timedelta(days=2)).date().isoformat()
        async with grpc.aio.insecure_channel(config.addrs["merchant"]) as channel:
            await merchant_pb2_grpc.MerchantServiceStub(channel).PutChannelConfig(
                mpb.PutChannelConfigRequest(app_id=demo["appId"], if_code="wxpay",
                                            params_json=json.dumps(params)))
        key = f"{demo['appId']}.wxpay"
        print(f"building {args.rows:,} orders of {bill_date} and their bill ...", flush=True)
        began = time.perf_counter()
        day = Day(args.rows, bill_date, args.seed)
        bill = bills / str(params["mchId"]) / f"{bill_date}.csv"
        bill_rows = write_bill(day, bill, str(params["mchId"]), str(params["appId"]))
        insert_orders(day, config.db_urls["gateway"], demo["appId"], demo["mchNo"], key)
        size = bill.stat().st_size
        print(f"  built in {time.perf_counter() - began:.1f} s: bill {bill_rows:,} rows, "
              f"{size / 2**20:.0f} MiB; injected {sum(day.counts.values()):,} "
              f"({', '.join(f'{k} {v}' for k, v in day.counts.items())})", flush=True)

        bare, parsed = bare_parse(bill)
        pids = json.loads((data_dir / "mesh.json").read_text())["pids"]
        async with grpc.aio.insecure_channel(
                config.addrs["reconciliation"],
                options=[("grpc.max_receive_message_length", 64 << 20)]) as channel:
            stub = reconciliation_pb2_grpc.ReconciliationServiceStub(channel)
            busy = {name: pids[name] for name in ("reconciliation", "channel", "gateway")}
            busy["simulator"] = simulator.pid
            cpu = {name: cpu_seconds(pid) for name, pid in busy.items()}
            load = os.getloadavg()[0]
            began = time.perf_counter()
            answer = await stub.RunBatch(pb.RunBatchRequest(
                channel_config_key=key, bill_date=bill_date), timeout=3600)
            wall = time.perf_counter() - began
            cpu = {name: cpu_seconds(pid) - cpu[name] for name, pid in busy.items()}
            batch = answer.batch
            found = await all_mistakes(stub, batch.batch_id)
        bare_again, _ = bare_parse(bill)
        bare = min(bare, bare_again)
        expected = day.expected()
        exact = found == expected and batch.pool_added == day.counts["omitted"]
        print(f"batch {batch.batch_id}: {pb.BatchState.Name(batch.state)} "
              f"{batch.error_reason} {batch.error_message}".rstrip())
        print(f"  bill rows {batch.bill_row_count:,}, platform records "
              f"{batch.platform_record_count:,}, matched {batch.matched_count:,}, mistakes "
              f"{batch.mistake_count:,}, pooled {batch.pool_added:,}")
        timing = phases(data_dir / "logs" / "reconciliation.log", batch.batch_id)
        print(f"wall time           {wall:8.2f} s  ({timing})")
        print(f"CPU time            {sum(cpu.values()):8.2f} s  ("
              + ", ".join(f"{name} {seconds:.2f}" for name, seconds in cpu.items())
              + f"); {os.cpu_count()} cores, load average {load:.2f} before the batch")
        print(f"rows per second     {batch.bill_row_count / wall:11,.0f}")
        print(f"bare csv.reader     {bare:8.2f} s  ({parsed:,} lines, same file, same run)")
        print(f"ratio               {wall / bare:8.2f} × the bare parse (target ≤ 5)")
        for name in ("reconciliation", "channel", "gateway"):
            print(f"peak RSS {name:<14} {peak_rss_mib(pids[name]):7.0f} MiB"
                  + ("  (target < 1024)" if name == "reconciliation" else ""))
        print(f"peak RSS benchmark      "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.0f} MiB")
        print(f"mistakes found = injected: {'yes' if exact else 'NO'} "
              f"({len(found):,} found, {len(expected):,} injected"
              + ("" if exact else f"; missing {sorted(expected - found)[:5]}, unexpected "
                 f"{sorted(found - expected)[:5]}") + ")")
        return exact and batch.state == pb.BATCH_STATE_SUCCESS
    finally:
        mesh.send_signal(signal.SIGTERM)
        mesh.wait(60)
        simulator.terminate()
        simulator.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="orders of the day")
    parser.add_argument("--seed", type=int, default=7, help="random seed of amounts and mistakes")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="paymesh-recon-bench-"))
    try:
        ok = asyncio.run(run(args, folder))
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
