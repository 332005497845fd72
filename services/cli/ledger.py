"""``paymesh ledger check``: audit the double-entry ledger (AccountService.CheckInvariants)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from google.protobuf.json_format import MessageToDict

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

TIMEOUT_SECONDS = 60  # the audit folds every transfer of the ledger


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the double-entry ledger (账户)")
    actions = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="audit the ledger; exits 1 when an invariant is broken")
    check.set_defaults(run=run_check)


async def _check() -> account_pb2.CheckInvariantsResponse:
    async with open_channel(MeshConfig.from_env().addrs["account"]) as channel:
        stub = account_pb2_grpc.AccountServiceStub(channel)
        response: account_pb2.CheckInvariantsResponse = await stub.CheckInvariants(
            account_pb2.CheckInvariantsRequest(), timeout=TIMEOUT_SECONDS)
        return response


def run_check(args: argparse.Namespace) -> None:
    """Prints the audit as JSON; a non-zero total, a balance differing from its transfers or a
    forbidden negative balance makes the exit status 1."""
    report = asyncio.run(_check())
    # Every field, so ``sound: false`` and zero totals show rather than being omitted.
    print_json(MessageToDict(report, always_print_fields_with_no_presence=True))
    if not report.sound:
        sys.exit(1)
