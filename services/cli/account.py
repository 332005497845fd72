"""``paymesh ledger ...``: the operator's commands on the account service (账户), besides check.

    paymesh ledger balances MCH_NO                       every account of a merchant
    paymesh ledger entries ACCOUNT_ID [--code C] [--from D] [--to D] [--after T] [--before T]
                                      [--limit N] [--cursor TOKEN]
    paymesh ledger statement MCH_NO DATE [--currency CNY]    daily statement (UTC+8 day)
    paymesh ledger status ACCOUNT_ID MODE                freeze mode: active, stop-in, ...
    paymesh ledger freeze|unfreeze MCH_NO AMOUNT --id ID hold or release available funds
    paymesh ledger withdraw request MCH_NO AMOUNT --id ID
    paymesh ledger withdraw approve|reject|paid|failed WITHDRAWAL_ID
    paymesh ledger withdraw list [--owner MCH_NO] [--state S] | get WITHDRAWAL_ID
    paymesh ledger adjust --id ID --debit ACCOUNT_ID --credit ACCOUNT_ID --amount FEN --reason R
    paymesh ledger terms get MCH_NO | set MCH_NO DAYS    settlement terms (T+N)
    paymesh ledger settle [--today D] [--reconciled-through D] [--hold MCH_NO] [--only MCH_NO]

They call AccountService directly at ``PAYMESH_ACCOUNT_ADDR`` (an internal call, so no admin
token) and print the answer as JSON with every field, zeros included. Amounts are fen; days are
YYYY-MM-DD in China Standard Time. ``--operator`` defaults to ``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeAlias

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from paymesh.account.v1 import account_pb2 as pb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

Stub: TypeAlias = account_pb2_grpc.AccountServiceStub
Call = Callable[[Stub], Awaitable[Message]]
TIMEOUT_SECONDS = 30.0
SETTLE_TIMEOUT_SECONDS = 300.0  # a run walks every merchant's due days
CHINA = timezone(timedelta(hours=8))  # settlement days are China Standard Time days
MODES = {"active": pb.ACCOUNT_STATUS_ACTIVE, "stop-in": pb.ACCOUNT_STATUS_STOP_IN,
         "stop-out": pb.ACCOUNT_STATUS_STOP_OUT, "frozen": pb.ACCOUNT_STATUS_FROZEN,
         "cancelled": pb.ACCOUNT_STATUS_CANCELLED}
STATES = {"requested": pb.WITHDRAWAL_STATE_REQUESTED, "approved": pb.WITHDRAWAL_STATE_APPROVED,
          "rejected": pb.WITHDRAWAL_STATE_REJECTED, "paid": pb.WITHDRAWAL_STATE_PAID,
          "failed": pb.WITHDRAWAL_STATE_FAILED}
_STEPS = {"approve": ("ApproveWithdrawal", pb.ApproveWithdrawalRequest),
          "reject": ("RejectWithdrawal", pb.RejectWithdrawalRequest),
          "paid": ("MarkWithdrawalPaid", pb.MarkWithdrawalPaidRequest),
          "failed": ("MarkWithdrawalFailed", pb.MarkWithdrawalFailedRequest)}


def default_operator() -> str:
    """Who acts when ``--operator`` is not given: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


async def _call(call: Call) -> Message:
    async with open_channel(MeshConfig.from_env().addrs["account"]) as channel:
        return await call(Stub(channel))


def _leaf(group: Any, name: str, help_text: str,
          make: Callable[[argparse.Namespace], Call]) -> argparse.ArgumentParser:
    """A command that builds one call from its arguments, makes it, and prints the answer."""

    def run(args: argparse.Namespace) -> None:
        answer = asyncio.run(_call(make(args)))
        print_json(MessageToDict(answer, always_print_fields_with_no_presence=True))

    parser: argparse.ArgumentParser = group.add_parser(name, help=help_text)
    parser.set_defaults(run=run)
    return parser


def _audited(parser: argparse.ArgumentParser, *, note: bool = True) -> argparse.ArgumentParser:
    parser.add_argument("--operator", default=default_operator(),
                        help="who acts, for the audit trail (default: cli:<login name>)")
    if note:
        parser.add_argument("--note", default="", help="why, for the audit trail")
    return parser


def _day(value: str) -> str:
    if not value:  # argparse passes string defaults through the type too
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day YYYY-MM-DD: {value!r}") from None


def _instant(value: str) -> Timestamp:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give the time zone, e.g. +08:00 or Z: {value!r}")
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _page(args: argparse.Namespace) -> common_pb2.PageRequest:
    return common_pb2.PageRequest(page_size=args.limit, page_token=args.cursor)


def _paged(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--limit", type=int, default=0, help="page size, 1..100 (default 20)")
    parser.add_argument("--cursor", default="", help="nextPageToken of the previous page")


def register(actions: Any) -> None:
    """Adds the account commands to the ``paymesh ledger`` group."""
    _reads(actions)
    _controls(actions)
    _withdrawals(actions)
    _settlement(actions)


def _reads(actions: Any) -> None:
    p = _leaf(actions, "balances", "every account of a merchant with its balance",
              lambda a: lambda s: s.GetBalances(pb.GetBalancesRequest(owner=a.owner),
                                                timeout=TIMEOUT_SECONDS))
    p.add_argument("owner", metavar="MCH_NO")
    p = _leaf(actions, "entries", "an account's entries, newest first",
              lambda a: lambda s: s.ListEntries(pb.ListEntriesRequest(
                  account_id=a.account_id, page=_page(a), code=a.code,
                  value_date_from=a.value_from, value_date_to=a.value_to,
                  created_after=a.after, created_before=a.before), timeout=TIMEOUT_SECONDS))
    p.add_argument("account_id", metavar="ACCOUNT_ID", type=int)
    p.add_argument("--code", default="", help="only this transfer code, e.g. SETTLEMENT")
    p.add_argument("--from", dest="value_from", type=_day, default="",
                   help="only value dates on or after this day")
    p.add_argument("--to", dest="value_to", type=_day, default="",
                   help="only value dates on or before this day")
    p.add_argument("--after", type=_instant, default=None,
                   help="only recorded at or after this time (ISO 8601 with zone)")
    p.add_argument("--before", type=_instant, default=None,
                   help="only recorded before this time (ISO 8601 with zone)")
    _paged(p)
    p = _leaf(actions, "statement", "a merchant's statement of one day (UTC+8)",
              lambda a: lambda s: s.GetDailyStatement(pb.GetDailyStatementRequest(
                  owner=a.owner, currency=a.currency, date=a.date), timeout=TIMEOUT_SECONDS))
    p.add_argument("owner", metavar="MCH_NO")
    p.add_argument("date", metavar="DATE", type=_day)
    p.add_argument("--currency", default="", help="only this currency, e.g. CNY (default: all)")


def _controls(actions: Any) -> None:
    p = _audited(_leaf(actions, "status", "set an account's freeze mode",
                       lambda a: lambda s: s.SetAccountStatus(pb.SetAccountStatusRequest(
                           account_id=a.account_id, status=MODES[a.mode], operator=a.operator,
                           note=a.note), timeout=TIMEOUT_SECONDS)))
    p.add_argument("account_id", metavar="ACCOUNT_ID", type=int)
    p.add_argument("mode", choices=list(MODES))
    for name, rpc, request, help_text in (
            ("freeze", "FreezeAmount", pb.FreezeAmountRequest,
             "hold part of a merchant's available funds (AVAILABLE → FROZEN)"),
            ("unfreeze", "UnfreezeAmount", pb.UnfreezeAmountRequest,
             "release held funds (FROZEN → AVAILABLE)")):
        p = _audited(_leaf(actions, name, help_text, _hold(rpc, request, name)))
        p.add_argument("owner", metavar="MCH_NO")
        p.add_argument("amount", metavar="AMOUNT", type=int, help="fen")
        p.add_argument("--id", required=True, help="idempotency id: the same id moves once")
        p.add_argument("--currency", default="CNY")
    p = _leaf(actions, "adjust", "an operator's adjustment (调账): one ADJUSTMENT transfer",
              lambda a: lambda s: s.Adjust(pb.AdjustRequest(
                  adjustment_id=a.id, debit_account_id=a.debit, credit_account_id=a.credit,
                  amount=a.amount, reason=a.reason, operator=a.operator),
                  timeout=TIMEOUT_SECONDS))
    _audited(p, note=False)
    p.add_argument("--id", required=True, help="idempotency id: the same id moves once")
    p.add_argument("--debit", type=int, required=True, metavar="ACCOUNT_ID")
    p.add_argument("--credit", type=int, required=True, metavar="ACCOUNT_ID")
    p.add_argument("--amount", type=int, required=True, help="fen")
    p.add_argument("--reason", required=True)


def _hold(rpc: str, request: Any, name: str) -> Callable[[argparse.Namespace], Call]:
    def make(a: argparse.Namespace) -> Call:
        fields = {f"{name}_id": a.id, "owner": a.owner, "currency": a.currency,
                  "amount": a.amount, "operator": a.operator, "note": a.note}
        return lambda s: getattr(s, rpc)(request(**fields), timeout=TIMEOUT_SECONDS)

    return make


def _withdrawals(actions: Any) -> None:
    group = actions.add_parser("withdraw", help="withdrawals (提现)").add_subparsers(
        dest="step", required=True, metavar="STEP")
    p = _audited(_leaf(group, "request", "ask to withdraw (AVAILABLE → FROZEN)",
                       lambda a: lambda s: s.RequestWithdrawal(pb.RequestWithdrawalRequest(
                           withdrawal_id=a.id, owner=a.owner, currency=a.currency,
                           amount=a.amount, operator=a.operator, note=a.note),
                           timeout=TIMEOUT_SECONDS)))
    p.add_argument("owner", metavar="MCH_NO")
    p.add_argument("amount", metavar="AMOUNT", type=int, help="fen")
    p.add_argument("--id", required=True, help="the withdrawal id (idempotency id)")
    p.add_argument("--currency", default="CNY")
    for step, (rpc, request) in _STEPS.items():
        p = _audited(_leaf(group, step, f"{rpc} (a step of the withdrawal)",
                           _step(rpc, request)))
        p.add_argument("withdrawal_id", metavar="WITHDRAWAL_ID")
    p = _leaf(group, "list", "withdrawals, newest first",
              lambda a: lambda s: s.ListWithdrawals(pb.ListWithdrawalsRequest(
                  owner=a.owner, state=STATES[a.state] if a.state else 0, page=_page(a)),
                  timeout=TIMEOUT_SECONDS))
    p.add_argument("--owner", default="", metavar="MCH_NO")
    p.add_argument("--state", choices=list(STATES))
    _paged(p)
    p = _leaf(group, "get", "one withdrawal with its steps",
              lambda a: lambda s: s.GetWithdrawal(pb.GetWithdrawalRequest(
                  withdrawal_id=a.withdrawal_id), timeout=TIMEOUT_SECONDS))
    p.add_argument("withdrawal_id", metavar="WITHDRAWAL_ID")


def _step(rpc: str, request: Any) -> Callable[[argparse.Namespace], Call]:
    def make(a: argparse.Namespace) -> Call:
        message = request(withdrawal_id=a.withdrawal_id, operator=a.operator, note=a.note)
        return lambda s: getattr(s, rpc)(message, timeout=TIMEOUT_SECONDS)

    return make


def _settlement(actions: Any) -> None:
    group = actions.add_parser("terms", help="settlement terms (T+N)").add_subparsers(
        dest="step", required=True, metavar="STEP")
    p = _leaf(group, "get", "a merchant's terms (or the default)",
              lambda a: lambda s: s.GetSettlementTerms(pb.GetSettlementTermsRequest(
                  owner=a.owner), timeout=TIMEOUT_SECONDS))
    p.add_argument("owner", metavar="MCH_NO")
    p = _audited(_leaf(group, "set", "set a merchant's N of T+N (0..30)",
                       lambda a: lambda s: s.SetSettlementTerms(pb.SetSettlementTermsRequest(
                           owner=a.owner, settle_days=a.days, operator=a.operator,
                           note=a.note), timeout=TIMEOUT_SECONDS)))
    p.add_argument("owner", metavar="MCH_NO")
    p.add_argument("days", metavar="DAYS", type=int)
    p = _leaf(actions, "settle", "run settlement now: due, reconciled days → available",
              lambda a: lambda s: s.SettleDue(pb.SettleDueRequest(
                  today=a.today, reconciled_through=a.reconciled_through or _yesterday(a.today),
                  held_owners=a.hold, owners=a.only), timeout=SETTLE_TIMEOUT_SECONDS))
    p.add_argument("--today", type=_day, default="",
                   help="the settlement day (default: today in UTC+8)")
    p.add_argument("--reconciled-through", type=_day, default="",
                   help="last reconciled day (default: the day before --today, as the settle "
                        "job assumes until reconciliation gates it)")
    p.add_argument("--hold", action="append", default=[], metavar="MCH_NO",
                   help="hold this merchant's settlement (repeatable)")
    p.add_argument("--only", action="append", default=[], metavar="MCH_NO",
                   help="settle only this merchant (repeatable)")


def _yesterday(today: str) -> str:
    """The day before ``today`` ("" = the current day in China Standard Time)."""
    day = date.fromisoformat(today) if today else datetime.now(CHINA).date()
    return (day - timedelta(days=1)).isoformat()
