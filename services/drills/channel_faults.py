"""Channel faults: the drill's WX_NATIVE orders go to a WeChat Pay simulator of its own behind a
fault-injecting proxy (drills/proxy.py) that times out, answers 5xx, or answers slowly; the payer
pays them with the simulator's control, which then calls the gateway back, signed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from paymesh.services.drills.client import OK, DrillClient
from paymesh.services.drills.load import LoadOptions, LoadResult, Session, run_load
from paymesh.services.drills.proxy import FaultProxy
from paymesh.services.drills.report import error_window
from paymesh.services.drills.scenario import Claim, Scenario, Timeline, which
from paymesh.services.drills.target import Target
from paymesh.services.drills.tenant import WAY_CODES, Tenant, route_through
from paymesh.services.drills.workload import (
    CLOSED,
    FAILED,
    PAID,
    REFUNDED,
    ClientOrder,
    pay_on_sandbox_page,
)
from paymesh.services.mesh.simulators import RunningSimulator, start_simulator

CHANNEL_DEADLINE = 10.0  # the gateway's deadline on channel.Pay (gateway/channel_calls.py)
SIMULATED_WAY = "WX_NATIVE"


class ChannelFault(Scenario):
    """The WeChat Pay channel times out, answers 5xx, or answers slowly."""

    rate = 3.0
    lead = 8.0
    tail = 8.0

    def __init__(self, name: str, fault: str, outage: float, summary: str) -> None:
        self.name, self.fault, self.outage, self.summary = name, fault, outage, summary
        self.delay = 2.0
        self.hold = CHANNEL_DEADLINE + 5.0

    def hypothesis(self, outage: float, target: Target) -> str:
        if self.fault == "timeout":
            return (f"while the channel holds every answer past the gateway's "
                    f"{CHANNEL_DEADLINE:g} s deadline for {outage:g} s, every unified order is "
                    f"answered within {CHANNEL_DEADLINE + 4:g} s, no order is failed because of "
                    "it (its outcome is unknown: it stays paying), every order the payer paid "
                    "ends paid with its ledger credit, and the audit is clean")
        if self.fault == "http500":
            return (f"while the channel answers HTTP 500 without acting for {outage:g} s, the "
                    "gateway answers every unified order (0 client errors: the order stays "
                    "paying, its outcome unknown), none of those orders ever ends paid, each "
                    "ends failed or closed once the sweep's query hears the channel never had "
                    "it, and the audit is clean")
        return (f"while every channel answer comes {self.delay:g} s late for {outage:g} s, "
                "no call fails or is left unknown, the unified order's p99 stays within "
                f"{self.delay + 3:g} s, and the audit is clean")

    @contextlib.contextmanager
    def environment(self, args: argparse.Namespace) -> Iterator[dict[str, str]]:
        with tempfile.TemporaryDirectory(prefix="paymesh-drill-sim-") as logs:
            self.simulator: RunningSimulator = start_simulator("wxpay", Path(logs))
            self.proxy = FaultProxy(self.simulator.base_url, hold=self.hold, delay=self.delay)
            try:
                yield {}
            finally:
                self.proxy.close()
                self.simulator.process.terminate()
                try:
                    self.simulator.process.wait(10)
                except Exception:  # noqa: BLE001 - a stuck simulator is killed, whatever it was
                    self.simulator.process.kill()

    async def drive(self, target: Target, options: LoadOptions, timeline: Timeline
                    ) -> LoadResult:
        params = dict(self.simulator.params, apiBase=self.proxy.url)
        async with httpx.AsyncClient(timeout=10) as http:  # refunds succeed at once
            await http.post(self.simulator.base_url + "/__sim/refund-mode",
                            json={"outcome": "SUCCESS"})
        options.way_codes = (SIMULATED_WAY,) * 3 + ("ALI_QR",)
        sandbox = tuple(w for w in WAY_CODES if w != SIMULATED_WAY)

        async def prepare(tenant: Tenant) -> None:
            await route_through(target.config, tenant, "wxpay", params, (SIMULATED_WAY,))

        async def payer(client: DrillClient, order: ClientOrder, result: str) -> str:
            if order.way_code != SIMULATED_WAY:
                return await pay_on_sandbox_page(client, order, result)
            control = "/__sim/pay" if result == "success" else "/__sim/fail"
            answer = await client.post_json("simulator pay", self.simulator.base_url + control,
                                            {"out_trade_no": order.pay_order_id})
            return answer.outcome

        async def attack(session: Session) -> None:
            await asyncio.sleep(timeline.lead)
            timeline.began, timeline.began_wall = time.monotonic(), time.time()
            self.proxy.set_fault(self.fault)
            await asyncio.sleep(timeline.outage)
            self.proxy.set_fault("none")
            timeline.ended, timeline.ended_wall = time.monotonic(), time.time()

        return await run_load(target, options, label=f"fault {self.name}", during=attack,
                              payer=payer, prepare=prepare, channel_keys=("sandbox", "wxpay"),
                              sandbox_way_codes=sandbox)

    def check(self, result: LoadResult, timeline: Timeline, target: Target) -> list[Claim]:
        wx = [o for o in result.audit_book if o.way_code == SIMULATED_WAY]
        sent = [o for o in wx if timeline.within(o)]
        # Orders whose channel call was bent: answered without pay data (the outcome unknown).
        bent = [o for o in wx if o.created == OK and not o.pay_data]
        states = result.platform_states
        touched = self.proxy.touched[self.fault]
        claims = [Claim("the fault reached the channel's traffic",
                        f"{touched} channel requests bent, {len(sent)} orders sent meanwhile, "
                        f"{len(bent)} answered without pay data",
                        touched > 0 and bool(sent))]
        latencies = sorted(o.answered_at - o.asked_at for o in sent if o.created == OK)
        worst = latencies[-1] if latencies else 0.0
        unanswered = sum(o.created != OK for o in sent)
        if self.fault == "timeout":
            # Orders nobody failed or closed (a close whose answer was lost reaches the
            # channel, which closes the order; the sweep then records it as failed, 3).
            failed = [o for o in bent if o.intent in ("pay", "open")
                      and states.get(o.pay_order_id) == FAILED]
            unpaid = [o for o in bent if o.intent == "pay" and o.decision == OK
                      and states.get(o.pay_order_id) not in (PAID, REFUNDED)]
            claims += [
                Claim(f"every unified order answered within {CHANNEL_DEADLINE + 4:g} s",
                      f"slowest {worst:.1f} s, {unanswered} unanswered",
                      worst <= CHANNEL_DEADLINE + 4 and unanswered == 0 and bool(bent)),
                Claim("no timed-out order that nobody failed or closed ends failed",
                      f"{len(failed)} failed{which(failed)}", not failed),
                Claim("every timed-out order the payer paid ends paid",
                      f"{len(unpaid)} not paid{which(unpaid)}", not unpaid)]
        elif self.fault == "http500":
            paid = [o for o in bent if states.get(o.pay_order_id) in (PAID, REFUNDED)]
            unsettled = [o for o in bent if states.get(o.pay_order_id) not in (FAILED, CLOSED)]
            claims += [
                Claim("0 client errors on unified orders during the outage",
                      f"{unanswered} without a definite answer", unanswered == 0),
                Claim("no order the channel never had ends paid",
                      f"{len(paid)} paid{which(paid)}", not paid and bool(bent)),
                Claim("each ends failed or closed after the outage (the sweep's query)",
                      f"{len(bent) - len(unsettled)} of {len(bent)}{which(unsettled)}",
                      not unsettled)]
        else:
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] \
                if latencies else 0.0
            tried, failed_attempts, _, _ = error_window(result.stats.attempts, timeline.began,
                                                        timeline.ended + self.delay + 2)
            claims += [
                Claim("no call fails or is left unknown",
                      f"{failed_attempts} failed attempts of {tried}, {len(bent)} orders "
                      "without pay data", failed_attempts == 0 and not bent),
                Claim(f"unified order p99 within {self.delay + 3:g} s during the outage",
                      f"p99 {p99:.2f} s over {len(latencies)} orders",
                      bool(latencies) and p99 <= self.delay + 3)]
        return claims
