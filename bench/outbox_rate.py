"""Benchmark: how fast the gateway's outbox dispatcher delivers events, with slow consumers.

A fresh gateway database (a temporary SQLite file, or ``--db-url`` for a throw-away MariaDB
database, dropped afterwards) is filled with outbox events, and the dispatcher's own loop
(``start``) delivers them to two fake consumers standing for the real ones: ``ledger`` waits
``--ledger-ms`` per event (its RPCs to the account service) and ``notifications`` waits
``--notify-ms`` (reading the order, storing the record). Two phases:

- ``fresh``: ``--events`` new ``pay.succeeded`` events, every consumer succeeding;
- ``after an outage``: ``--retried`` events already failed a few times and due for a retry, whose
  ledger consumer still fails, each after ``--fail-ms`` (a deadline), ahead of ``--events`` new
  ones (the state after an account-service outage): how long the new ones wait.

It prints, per phase, the events delivered, the time, the rate, and when the first and the last
new event were done. The figures depend on the machine's load; run it on a quiet one.

    .venv/bin/python bench/outbox_rate.py --events 500
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from paymesh.services.common import db
from paymesh.services.common.db import open_engine, sessions, utc_now
from paymesh.services.gateway.models import OutboxEvent
from paymesh.services.gateway.outbox import PAY_SUCCEEDED, OutboxDispatcher, Subscription


class FakeConsumers:
    """Two consumers with fixed latencies; ``bad`` orders fail in the ledger consumer."""

    def __init__(self, ledger_s: float, notify_s: float, fail_s: float, bad: set[str]) -> None:
        self.ledger_s, self.notify_s, self.fail_s, self.bad = ledger_s, notify_s, fail_s, bad
        self.done: dict[str, float] = {}
        self.notified: set[str] = set()
        self.ledger_calls = 0
        self.everything = asyncio.Event()
        self.expected: set[str] = set()

    async def ledger(self, topic: str, order_id: str) -> None:
        self.ledger_calls += 1
        if order_id in self.bad:
            await asyncio.sleep(self.fail_s)
            raise ConnectionError("account service unavailable")
        await asyncio.sleep(self.ledger_s)
        self.done[order_id] = time.perf_counter()
        if self.expected <= self.done.keys():
            self.everything.set()

    async def notifications(self, topic: str, order_id: str) -> None:
        await asyncio.sleep(self.notify_s)
        self.notified.add(order_id)


async def phase(url: str, args: argparse.Namespace, retried: int, label: str) -> None:
    engine = open_engine(url)
    bad = {f"PBAD{i:05d}" for i in range(retried)}
    good = [f"PNEW{i:05d}" for i in range(args.events)]
    consumers = FakeConsumers(args.ledger_ms / 1000, args.notify_ms / 1000,
                              args.fail_ms / 1000, bad)
    consumers.expected = set(good)
    now = utc_now()
    async with sessions(engine).begin() as session:
        # The failing ones are older: they come first in the outbox, as after an outage.
        session.add_all([OutboxEvent(topic=PAY_SUCCEEDED, order_id=order_id, attempts=3,
                                     next_attempt_at=now - timedelta(seconds=1),
                                     created_at=now - timedelta(seconds=60))
                         for order_id in sorted(bad)])
        session.add_all([OutboxEvent(topic=PAY_SUCCEEDED, order_id=order_id, attempts=0,
                                     next_attempt_at=now, created_at=now)
                         for order_id in good])
    dispatcher = OutboxDispatcher(engine, [
        Subscription.of("notifications", [PAY_SUCCEEDED], consumers.notifications),
        Subscription.of("ledger", [PAY_SUCCEEDED], consumers.ledger)])
    started = time.perf_counter()
    dispatcher.start()
    try:
        await asyncio.wait_for(consumers.everything.wait(), args.timeout)
        finished = True
    except TimeoutError:
        finished = False
    elapsed = time.perf_counter() - started
    await dispatcher.stop()
    await engine.dispose()
    times = sorted(t - started for t in consumers.done.values())
    delivered = len(consumers.done)
    print(f"{label}: {delivered} of {len(good)} new events delivered in {elapsed:.2f} s "
          f"({delivered / elapsed:.0f} events/s)"
          + ("" if finished else f" -- stopped after the {args.timeout:.0f} s timeout"))
    if times:
        print(f"  first new event done after {times[0]:.2f} s, median {times[len(times) // 2]:.2f}"
              f" s, last {times[-1]:.2f} s; ledger calls {consumers.ledger_calls} "
              f"(of which {consumers.ledger_calls - delivered} to failing events)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--retried", type=int, default=100)
    parser.add_argument("--ledger-ms", type=float, default=20.0)
    parser.add_argument("--notify-ms", type=float, default=5.0)
    parser.add_argument("--fail-ms", type=float, default=500.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--db-url", default="",
                        help="a MariaDB server URL (mysql+aiomysql://root@127.0.0.1:3306); "
                             "throw-away databases are made on it and dropped")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the failing events' retries are logged at ERROR
    with tempfile.TemporaryDirectory() as tmp:
        for retried, label in ((0, "fresh"), (args.retried, "after an outage")):
            if args.db_url:
                url = f"{args.db_url}/outbox_bench_{secrets.token_hex(4)}"
            else:
                url = f"sqlite+aiosqlite:///{Path(tmp) / secrets.token_hex(4)}.db"
            db.migrate("gateway", url)
            try:
                await phase(url, args, retried, label)
            finally:
                db.drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
