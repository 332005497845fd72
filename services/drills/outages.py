"""Outages around the mesh: the merchant's notification endpoint down for a long stretch, and
MariaDB or Redis restarted under load (drills/servers.py)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from paymesh.services.drills.load import LoadResult, Session
from paymesh.services.drills.report import error_window
from paymesh.services.drills.scenario import Claim, Scenario, Timeline
from paymesh.services.drills.servers import (
    PrivateMariaDB,
    PrivateRedis,
    PrivateServer,
    ServerError,
    restart_by_command,
)
from paymesh.services.drills.target import Target
from paymesh.services.drills.workload import FAILED, PAID, REFUNDED
from paymesh.services.gateway.notifications import SCHEDULE_SECONDS


class MerchantDown(Scenario):
    """The merchant's notification endpoint refuses connections for a long stretch."""

    name = "merchant-down"
    outage = 30.0
    summary = "the merchant's endpoint is down, then back"

    def bound(self, outage: float, scale: float) -> float:
        """The longest a notification due during the outage may wait once the endpoint is
        back: the longest retry gap (scaled) that starts within the outage, plus 5 s."""
        gaps, start = [], 0.0
        for gap in SCHEDULE_SECONDS:
            if start < outage:
                gaps.append(gap * scale)
            start += gap * scale
        return max(gaps, default=0.0) + 5.0

    def hypothesis(self, outage: float, target: Target) -> str:
        scale = target.config.notify_schedule_scale
        return (f"while the merchant's endpoint refuses connections for {outage:g} s, payments "
                "carry on (0 client errors), no notification fails for good, and every one due "
                f"meanwhile is acknowledged within {self.bound(outage, scale):g} s after the "
                f"endpoint is back (the retry schedule ×{scale:g}: the longest gap starting "
                "within the outage, plus 5 s); the audit is clean")

    async def fault_on(self, session: Session, timeline: Timeline) -> None:
        session.endpoint.down()

    async def fault_off(self, session: Session, timeline: Timeline) -> None:
        session.endpoint.up()
        timeline.notes["endpoint"] = session.endpoint

    def check(self, result: LoadResult, timeline: Timeline, target: Target) -> list[Claim]:
        endpoint = timeline.notes["endpoint"]
        waits, due = [], 0
        for order in result.audit_book:
            items = [("pay", order.pay_order_id, order.settled_at)]
            items += [("refund", r.refund_order_id, r.settled_at) for r in order.refunds]
            for kind, order_id, settled in items:
                if settled is None or not timeline.began_wall <= settled <= timeline.ended_wall:
                    continue
                notices = endpoint.notices(kind, order_id)
                if not notices and result.platform_states.get(order_id) not in (
                        PAID, REFUNDED, FAILED, 2, 3):
                    continue  # nothing to notify (a closed or open order)
                due += 1
                if notices:
                    waits.append(min(n.at for n in notices) - timeline.ended_wall)
        bound = self.bound(timeline.outage, target.config.notify_schedule_scale)
        worst = max(waits, default=0.0)
        tried, failed, _, _ = error_window(result.stats.attempts, timeline.began,
                                           timeline.ended)
        return [
            Claim("notifications fell due during the outage", f"{due}", due > 0),
            Claim(f"each acknowledged within {bound:g} s after the endpoint is back",
                  f"{len(waits)} of {due} received, the last {worst:.1f} s after",
                  len(waits) == due and worst <= bound),
            Claim("payments carry on: 0 client errors during the outage",
                  f"{failed} failed attempts of {tried}", failed == 0)]


class ServerRestart(Scenario):
    """MariaDB or Redis is shut down and started again under load."""

    rate = 4.0
    outage = 5.0  # seconds the server stays down (a --restart-command takes what it takes)
    lead = 8.0
    tail = 12.0

    def __init__(self, name: str, kind: str, recovery: float, error_rate: float | None) -> None:
        self.name, self.kind, self.recovery = name, kind, recovery
        self.error_rate = error_rate  # bound on failed attempts while it is down, if any
        self.summary = f"{kind} restarted under load"
        self.server: PrivateServer | None = None
        self.command: str | None = None

    def refusal(self, args: argparse.Namespace) -> str:
        if not args.allow_db_restart:
            return (f"restarts the {self.kind} server; run it with --allow-db-restart (a "
                    "throw-away server of the drill's own, or --restart-command)")
        if getattr(args, "data_dir", None) and not args.restart_command:
            return ("a running mesh's server can only be restarted with --restart-command")
        variable = "PAYMESH_DB_URL" if self.kind == "mariadb" else "PAYMESH_SHARED_STATE_URL"
        wanted = "mysql" if self.kind == "mariadb" else "redis"
        if args.restart_command and not os.environ.get(variable, "").startswith(wanted):
            return (f"--restart-command restarts the environment's {self.kind}, but {variable} "
                    "does not name one")
        return ""

    @contextlib.contextmanager
    def environment(self, args: argparse.Namespace) -> Iterator[dict[str, str]]:
        if args.restart_command:
            self.command = args.restart_command
            yield {}
            return
        with tempfile.TemporaryDirectory(prefix=f"paymesh-drill-{self.kind}-") as directory:
            try:
                server: PrivateServer = (PrivateMariaDB(Path(directory)) if self.kind ==
                                         "mariadb" else PrivateRedis(Path(directory)))
                server.start()
            except ServerError as error:
                raise SystemExit(f"paymesh drill fault {self.name}: SKIPPED: cannot start a "
                                 f"throw-away {self.kind}: {error}") from None
            self.server = server
            try:
                if isinstance(server, PrivateMariaDB):
                    yield {"PAYMESH_DB_URL": server.url_template}
                else:
                    assert isinstance(server, PrivateRedis)
                    yield {"PAYMESH_SHARED_STATE_URL": server.url}
            finally:
                server.stop()

    def hypothesis(self, outage: float, target: Target) -> str:
        how = (f"`{self.command}`" if self.command else
               f"the drill's own {self.kind} shut down cleanly, down {outage:g} s, started "
               "again")
        during = ("" if self.error_rate is None else
                  f"fewer than {self.error_rate:.0%} of the calls fail while it is down, ")
        return (f"{self.kind} restarted under load ({how}): {during}requests fail only while "
                f"it is away and for at most {self.recovery:g} s after it listens again (the "
                "pools reconnect by themselves); no order is lost, duplicated or paid without "
                "its ledger credit, and the audit is clean")

    async def fault_on(self, session: Session, timeline: Timeline) -> None:
        loop = asyncio.get_running_loop()
        if self.command is not None:
            stopped, back = await loop.run_in_executor(None, restart_by_command, self.command)
        else:
            assert self.server is not None
            stopped, back = await loop.run_in_executor(None, self.server.restart,
                                                        timeline.outage)
        timeline.notes.update(stopped=stopped, back=back)

    async def fault_off(self, session: Session, timeline: Timeline) -> None:
        return

    def check(self, result: LoadResult, timeline: Timeline, target: Target) -> list[Claim]:
        back_at = timeline.ended
        attempts = result.stats.attempts
        late = [a.at - back_at for a in attempts if not a.ok and a.at > back_at]
        tried, failed, first, last = error_window(attempts, timeline.began, back_at)
        rate = failed / tried if tried else 0.0
        before = [a for a in attempts if not a.ok and a.at < timeline.began]
        worst = max(late, default=0.0)
        claims = [
            Claim("the server was restarted",
                  f"down after {timeline.notes.get('stopped', 0):.1f} s, listening again "
                  f"{timeline.notes.get('back', 0):.1f} s after the restart began; "
                  f"{failed} of {tried} attempts failed meanwhile ({rate:.0%})", tried > 0),
            Claim("no failure before the restart", f"{len(before)}", not before),
            Claim(f"failures stop within {self.recovery:g} s after it listens again",
                  f"the last one {worst:.1f} s after" if late else "none after",
                  worst <= self.recovery)]
        if self.error_rate is not None:
            claims.append(Claim(f"fewer than {self.error_rate:.0%} of the calls fail while it "
                                "is down", f"{rate:.0%}", rate < self.error_rate))
        return claims
