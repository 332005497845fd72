"""``paymesh drill fault --scenario NAME``: the load while one part of the world misbehaves.

Every scenario runs the load for ``lead`` seconds, turns its fault on for ``outage`` seconds,
turns it off, keeps the load going for ``tail`` seconds, waits for quiescence and audits; then it
checks its hypothesis, whose numbers are printed with what was measured. docs/reliability.md
lists them.

- ``channel-timeout``, ``channel-5xx``, ``channel-slow``: the drill's WX_NATIVE orders go to a
  WeChat Pay simulator of its own, behind a fault-injecting proxy (drills/proxy.py); the payer
  pays them with the simulator's control, which then calls the gateway back, signed.
- ``merchant-down``: the merchant's notification endpoint refuses connections.
- ``mariadb-restart``, ``redis-restart``: the database server, or Redis, is shut down and started
  again (``--allow-db-restart``): a throw-away server of the drill's own unless
  ``--restart-command`` names how to restart the environment's.
"""

from __future__ import annotations

import argparse
import asyncio

import grpc

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.drills.channel_faults import ChannelFault
from paymesh.services.drills.load import LoadOptions, LoadResult
from paymesh.services.drills.outages import MerchantDown, ServerRestart
from paymesh.services.drills.report import (
    Print,
    anomalies,
    audit_table,
    header,
    load_figures,
    verdict,
)
from paymesh.services.drills.scenario import Scenario, Timeline
from paymesh.services.drills.target import Target

SCENARIOS: dict[str, Scenario] = {
    "channel-timeout": ChannelFault("channel-timeout", "timeout", 20.0,
                                    "the channel holds its answers past the deadline"),
    "channel-5xx": ChannelFault("channel-5xx", "http500", 20.0,
                                "the channel answers HTTP 500 without acting"),
    "channel-slow": ChannelFault("channel-slow", "slow", 20.0,
                                 "the channel answers 2 s late"),
    "merchant-down": MerchantDown(),
    "mariadb-restart": ServerRestart("mariadb-restart", "mariadb", 15.0, None),
    "redis-restart": ServerRestart("redis-restart", "redis", 10.0, 0.05),
}


def run(scenario: Scenario, target: Target, options: LoadOptions, args: argparse.Namespace,
        emit: Print) -> bool:
    """The drill: load, fault, audit, hypothesis; prints everything, returns the verdict."""
    rate = args.rate or scenario.rate
    outage = scenario.outage if args.outage is None else args.outage
    timeline = Timeline(scenario.lead, outage)
    options.stages = [(rate, scenario.lead + outage + scenario.tail)]
    header(emit, f"fault {scenario.name}", target, f"{rate:g} journeys/s, fault from "
                                                   f"{scenario.lead:g} s for {outage:g} s")
    emit(f"hypothesis: {scenario.hypothesis(outage, target)}")
    result = asyncio.run(_drive(scenario, target, options, timeline))
    load_figures(emit, result)
    emit("hypothesis, claim by claim")
    claims = scenario.check(result, timeline, target)
    for claim in claims:
        emit(f"  [{'holds' if claim.holds else 'FAILS'}] {claim.text}: {claim.measured}")
    audit_table(emit, result)
    reasons = [f"{c.text}: {c.measured}" for c in claims if not c.holds]
    count = anomalies(result)
    if count:
        reasons.append(f"{count} anomal{'y' if count == 1 else 'ies'} in the audit")
    passed = result.passed and not reasons
    verdict(emit, passed, reasons)
    return passed


async def _drive(scenario: Scenario, target: Target, options: LoadOptions,
                 timeline: Timeline) -> LoadResult:
    result = await scenario.drive(target, options, timeline)
    await _platform_states(target, result)
    return result


async def _platform_states(target: Target, result: LoadResult) -> None:
    """The gateway's final state of every order and refund of the book, for the claims."""
    ids = [o.pay_order_id for o in result.audit_book if o.pay_order_id]
    refund_ids = [r.refund_order_id for o in result.audit_book for r in o.refunds
                  if r.refund_order_id]
    async with grpc.aio.insecure_channel(target.config.addrs["gateway"]) as channel:
        stub = gateway_pb2_grpc.ReconciliationSourceServiceStub(channel)
        for start in range(0, max(len(ids), len(refund_ids)), 1000):
            answer = await stub.LookupRecords(gateway_pb2.LookupRecordsRequest(
                pay_order_ids=ids[start:start + 1000],
                refund_order_ids=refund_ids[start:start + 1000]), timeout=30)
            for record in answer.records:
                result.platform_states[record.refund_order_id or record.pay_order_id] = \
                    record.state
