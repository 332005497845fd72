"""``paymesh drill crash``: the load while each process of the mesh is ``kill -9``'d in turn.

Hypothesis: a process killed with SIGKILL under load (merchant, gateway, channel, account,
reconciliation, jobs, Envoy) is started again by ``paymesh up``'s supervisor and answers its
health check within RECOVERY_BOUND seconds; the client sees errors only while it is down (and
retries them with the same merchant numbers); afterwards the audit is clean: no order lost or
duplicated, no payment without its ledger credit, every due notification delivered, and
``paymesh ledger check`` sound.

The drill reads each victim's pid from ``mesh.json``, kills it, and waits until ``mesh.json``
names a new pid that is healthy (gRPC health for services, ``/ready`` for Envoy, the heartbeat
for jobs); the load keeps its arrival rate throughout.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

from paymesh.services.drills.load import LoadOptions, Session, run_load
from paymesh.services.drills.report import (
    Print,
    anomalies,
    audit_table,
    error_window,
    header,
    load_figures,
    verdict,
)
from paymesh.services.drills.target import Target

RATE, PER_VICTIM = 10.0, 15.0
SHORT_RATE, SHORT_PER_VICTIM = 4.0, 3.0


@dataclass(frozen=True)
class CrashPlan:
    """Who is killed, and the load around it."""

    victims: tuple[str, ...]
    rate: float
    per_victim: float  # seconds of load from one kill to the next
    recover: float  # seconds a victim may take to be back

    @classmethod
    def of(cls, victims: list[str], *, short: bool, rate: float | None,
           per_victim: float | None, recover: float) -> CrashPlan:
        return cls(tuple(victims), rate or (SHORT_RATE if short else RATE),
                   per_victim or (SHORT_PER_VICTIM if short else PER_VICTIM), recover)

    @property
    def lead(self) -> float:
        """Load before the first kill."""
        return self.per_victim / 2

    @property
    def stages(self) -> list[tuple[float, float]]:
        return [(self.rate, self.lead + self.per_victim * (len(self.victims) + 0.5))]


@dataclass
class Kill:
    """One victim: when it died, when it was back."""

    name: str
    old_pid: int
    killed_at: float  # time.monotonic()
    new_pid: int = 0
    back_at: float | None = None

    @property
    def recovery(self) -> float | None:
        return None if self.back_at is None else self.back_at - self.killed_at


async def kill_and_wait(target: Target, name: str, bound: float) -> Kill:
    """SIGKILLs ``name`` and waits until a new process of it is healthy (at most ``bound``)."""
    old = target.pids().get(name, 0)
    if not old:
        return Kill(name, 0, time.monotonic())
    os.kill(old, signal.SIGKILL)
    kill = Kill(name, old, time.monotonic())
    while time.monotonic() - kill.killed_at < bound:
        pid = target.pids().get(name, 0)
        if pid and pid != old and await target.healthy(name):
            kill.new_pid, kill.back_at = pid, time.monotonic()
            break
        await asyncio.sleep(0.1)
    return kill


def run(target: Target, plan: CrashPlan, options: LoadOptions, emit: Print) -> bool:
    """The drill: load, kills, audit; prints everything and returns the verdict."""
    header(emit, "crash", target, f"{plan.rate:g} journeys/s, {plan.per_victim:g} s per "
                                  f"victim: {', '.join(plan.victims)}")
    emit(f"hypothesis: every process killed with SIGKILL is back and healthy within "
         f"{plan.recover:g} s; the audit is clean (no order lost or duplicated, every payment "
         "credited once, every due notification delivered) and the ledger check is sound")
    kills: list[Kill] = []

    async def attack(session: Session) -> None:
        await asyncio.sleep(plan.lead)
        for name in plan.victims:
            kill = await kill_and_wait(target, name, plan.recover)
            kills.append(kill)
            rest = plan.per_victim - (time.monotonic() - kill.killed_at)
            if rest > 0:
                await asyncio.sleep(rest)

    options.stages = plan.stages
    result = asyncio.run(run_load(target, options, label="crash", during=attack))
    load_figures(emit, result)
    emit("victims (errors: failed attempts of all operations from the kill until 2 s after "
         "it was back, or the next kill)")
    emit(f"  {'process':<16}{'pid':>8}{'new pid':>9}{'back after':>12}{'attempts':>10}"
         f"{'failed':>8}  failures from .. to (s after the kill)")
    reasons = []
    for index, kill in enumerate(kills):
        end = (kill.back_at or kill.killed_at + plan.recover) + 2.0
        if index + 1 < len(kills):  # the next victim's errors are its own
            end = min(end, kills[index + 1].killed_at)
        tried, failed, first, last = error_window(result.stats.attempts, kill.killed_at, end)
        span = ("-" if first is None or last is None
                else f"{first - kill.killed_at:.1f} .. {last - kill.killed_at:.1f}")
        back = "NOT BACK" if kill.recovery is None else f"{kill.recovery:.1f} s"
        emit(f"  {kill.name:<16}{kill.old_pid:>8}{kill.new_pid or '-':>9}{back:>12}"
             f"{tried:>10}{failed:>8}  {span}")
        if not kill.old_pid:
            reasons.append(f"{kill.name} has no pid in mesh.json")
        elif kill.recovery is None:
            reasons.append(f"{kill.name} not back within {plan.recover:g} s")
    audit_table(emit, result)
    count = anomalies(result)
    if count:
        reasons.append(f"{count} anomal{'y' if count == 1 else 'ies'} in the audit")
    passed = result.passed and not reasons
    verdict(emit, passed, reasons)
    return passed
