"""``paymesh recon ...``: reconciliation (对账) batches and their mistakes, as JSON.

    paymesh recon run CONFIG_KEY DATE [--force]     run (or return) the batch of a config and day
    paymesh recon batches [--config KEY] [--state S] [--from DATE] [--to DATE]
    paymesh recon batch BATCH_ID                    one batch
    paymesh recon summary BATCH_ID                  counts and sums per mistake type, totals
    paymesh recon mistakes [--batch ID] [--open] [--type T] [--merchant MCH_NO]
    paymesh recon handle MISTAKE_ID channel|platform --operator NAME [--remark TEXT]
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.reconciliation.v1 import reconciliation_pb2_grpc
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

RUN_TIMEOUT_SECONDS = 3600  # a batch of a big day takes a while; the run goes on regardless
TIMEOUT_SECONDS = 60
STATES = ("RUNNING", "SUCCESS", "FAIL", "ERROR", "NOBILL")
TYPES = ("BANK_MISS", "PLATFORM_MISS", "PLATFORM_SHORT_STATUS_MISMATCH",
         "PLATFORM_OVER_STATUS_MISMATCH", "PLATFORM_SHORT_CASH_MISMATCH",
         "PLATFORM_OVER_CASH_MISMATCH", "FEE_MISMATCH")
DECISIONS = {"channel": pb.DECISION_CHANNEL_AUTHORITATIVE,
             "platform": pb.DECISION_PLATFORM_AUTHORITATIVE}
M = TypeVar("M", bound=Message)


def register(commands: Any) -> None:
    recon = commands.add_parser("recon", help="reconciliation (对账): batches and mistakes")
    actions = recon.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run the batch of a channel config and bill date")
    run.add_argument("config_key", help="channel config key, <app_id or isv_no>.<if_code>")
    run.add_argument("bill_date", help="bill date YYYY-MM-DD (UTC+8)")
    run.add_argument("--force", action="store_true", help="run again even if it finished")
    run.set_defaults(run=run_batch)
    batches = actions.add_parser("batches", help="batches, newest bill date first")
    batches.add_argument("--config", default="", help="only this channel config")
    batches.add_argument("--state", choices=STATES, help="only batches in this state")
    batches.add_argument("--from", dest="date_from", default="", help="bill dates from")
    batches.add_argument("--to", dest="date_to", default="", help="bill dates up to")
    batches.add_argument("--page-size", type=int, default=0)
    batches.add_argument("--page-token", default="")
    batches.set_defaults(run=run_batches)
    batch = actions.add_parser("batch", help="one batch")
    batch.add_argument("batch_id")
    batch.set_defaults(run=run_get)
    summary = actions.add_parser("summary", help="a batch's counts and sums per mistake type")
    summary.add_argument("batch_id")
    summary.set_defaults(run=run_summary)
    mistakes = actions.add_parser("mistakes", help="mistakes, oldest first")
    mistakes.add_argument("--batch", default="", help="only this batch's")
    mistakes.add_argument("--open", action="store_true", help="only those not handled yet")
    mistakes.add_argument("--type", choices=TYPES, help="only this type")
    mistakes.add_argument("--merchant", default="", help="only this merchant's (mchNo)")
    mistakes.add_argument("--page-size", type=int, default=0)
    mistakes.add_argument("--page-token", default="")
    mistakes.set_defaults(run=run_mistakes)
    handle = actions.add_parser("handle", help="resolve a mistake with a decision")
    handle.add_argument("mistake_id")
    handle.add_argument("decision", choices=sorted(DECISIONS),
                        help="channel: the channel is right, correct the platform; "
                             "platform: the platform is right, close it")
    handle.add_argument("--operator", required=True, help="who decides")
    handle.add_argument("--remark", default="", help="why")
    handle.set_defaults(run=run_handle)


def _call(method: Callable[[reconciliation_pb2_grpc.ReconciliationServiceStub], Awaitable[M]]
          ) -> M:
    async def call() -> M:
        async with open_channel(MeshConfig.from_env().addrs["reconciliation"]) as channel:
            return await method(reconciliation_pb2_grpc.ReconciliationServiceStub(channel))

    return asyncio.run(call())


def _print(message: Message) -> None:
    # Every field, so zero counts and empty reasons show rather than being omitted.
    print_json(MessageToDict(message, always_print_fields_with_no_presence=True))


def run_batch(args: argparse.Namespace) -> None:
    request = pb.RunBatchRequest(channel_config_key=args.config_key, bill_date=args.bill_date,
                                 force=args.force)
    _print(_call(lambda stub: stub.RunBatch(request, timeout=RUN_TIMEOUT_SECONDS)))


def run_batches(args: argparse.Namespace) -> None:
    request = pb.ListBatchesRequest(
        channel_config_key=args.config, bill_date_from=args.date_from, bill_date_to=args.date_to,
        state=pb.BatchState.Value(f"BATCH_STATE_{args.state}") if args.state else 0,
        page={"page_size": args.page_size, "page_token": args.page_token})
    _print(_call(lambda stub: stub.ListBatches(request, timeout=TIMEOUT_SECONDS)))


def run_get(args: argparse.Namespace) -> None:
    request = pb.GetBatchRequest(batch_id=args.batch_id)
    _print(_call(lambda stub: stub.GetBatch(request, timeout=TIMEOUT_SECONDS)))


def run_summary(args: argparse.Namespace) -> None:
    request = pb.GetBatchSummaryRequest(batch_id=args.batch_id)
    _print(_call(lambda stub: stub.GetBatchSummary(request, timeout=TIMEOUT_SECONDS)))


def run_mistakes(args: argparse.Namespace) -> None:
    request = pb.ListMistakesRequest(
        batch_id=args.batch, open_only=args.open, mch_no=args.merchant,
        type=pb.MistakeType.Value(f"MISTAKE_TYPE_{args.type}") if args.type else 0,
        page={"page_size": args.page_size, "page_token": args.page_token})
    _print(_call(lambda stub: stub.ListMistakes(request, timeout=TIMEOUT_SECONDS)))


def run_handle(args: argparse.Namespace) -> None:
    request = pb.HandleMistakeRequest(mistake_id=args.mistake_id,
                                      decision=DECISIONS[args.decision],
                                      operator=args.operator, remark=args.remark)
    _print(_call(lambda stub: stub.HandleMistake(request, timeout=TIMEOUT_SECONDS)))
