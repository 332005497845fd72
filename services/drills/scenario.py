"""What a fault drill is made of: a scenario (its fault, hypothesis and checks), the timeline of
the fault, and the claims of its hypothesis with what was measured (drills/faults.py runs them)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from paymesh.services.drills.load import LoadOptions, LoadResult, Session, run_load
from paymesh.services.drills.target import Target
from paymesh.services.drills.workload import ClientOrder


@dataclass(frozen=True)
class Claim:
    """One number of a hypothesis and what was measured."""

    text: str
    measured: str
    holds: bool


@dataclass
class Timeline:
    """When the fault was on, in time.monotonic() (and time.time() for the endpoint)."""

    lead: float
    outage: float
    began: float = 0.0
    ended: float = 0.0
    began_wall: float = 0.0
    ended_wall: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    def within(self, order: ClientOrder) -> bool:
        """Whether the order's unified order was sent while the fault was on."""
        return self.began <= order.asked_at <= self.ended


class Scenario:
    """A fault, its hypothesis and how to check it."""

    name = ""
    rate = 4.0
    outage = 20.0
    lead = 6.0
    tail = 6.0
    summary = ""

    def refusal(self, args: argparse.Namespace) -> str:
        """Why this scenario cannot run here ("" when it can)."""
        return ""

    @contextlib.contextmanager
    def environment(self, args: argparse.Namespace) -> Iterator[dict[str, str]]:
        """Extra environment of the drill's own mesh, for the scenario's lifetime."""
        yield {}

    def hypothesis(self, outage: float, target: Target) -> str:
        raise NotImplementedError

    async def drive(self, target: Target, options: LoadOptions, timeline: Timeline
                    ) -> LoadResult:
        """The load with the fault switched on and off during it."""
        async def attack(session: Session) -> None:
            await asyncio.sleep(timeline.lead)
            timeline.began, timeline.began_wall = time.monotonic(), time.time()
            await self.fault_on(session, timeline)
            await asyncio.sleep(max(0.0, timeline.outage - (time.monotonic() - timeline.began)))
            await self.fault_off(session, timeline)
            timeline.ended, timeline.ended_wall = time.monotonic(), time.time()
        return await run_load(target, options, label=f"fault {self.name}", during=attack)

    async def fault_on(self, session: Session, timeline: Timeline) -> None:
        raise NotImplementedError

    async def fault_off(self, session: Session, timeline: Timeline) -> None:
        raise NotImplementedError

    def check(self, result: LoadResult, timeline: Timeline, target: Target) -> list[Claim]:
        raise NotImplementedError


def which(orders: list[ClientOrder]) -> str:
    """A few of the orders behind a failing claim, with what the client did to them."""
    if not orders:
        return ""
    return " (" + "; ".join(f"{o.pay_order_id}: {o.intent}, click/close {o.decision or '-'}"
                            for o in orders[:3]) + ")"
