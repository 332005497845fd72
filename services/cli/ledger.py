"""``paymesh ledger``: the double-entry ledger. ``check`` audits it; the operator's other commands
(balances, entries, statements, freezes, withdrawals, adjustments, settlement) are in account.py.

``paymesh ledger check [--mch-no MCH_NO]`` first asks the account service for its own invariants
(CheckInvariants: every currency's balances sum to zero, every balance is the fold of its
transfers, none is negative unless allowed), then holds the ledger against the gateway's orders
(StreamPaidOrders, GetPostings and ListPostingIds, all in batches, so memory holds one batch):

- every paid order has its ``pay:`` posting — unless the ledger consumer has yet to deliver its
  event, which is counted as in flight, not as a fault;
- what the payment and its reconciliation corrections (``recon:<correctionId>``) put in the
  merchant's accounts is amount − fee, and in fee income the fee (nothing left for a payment
  that reconciliation reversed);
- every succeeded refund has its ``refund:`` posting (in flight likewise), moving exactly the
  refund, and the refund postings of one order together never pass its amount;
- every ``pay:`` posting has a paid order, unless ``recon:`` postings naming the order took it
  all back;
- every refund hold (``refund-hold:``) is used by its refund's posting, released
  (``refund-release:``), or belongs to a refund still open or whose end is still being delivered.

``--mch-no`` keeps the order checks to one merchant (postings are attributed by the merchant's
accounts they touch); the ledger's own invariants are always the whole ledger's. The JSON has
CheckInvariants' fields, an ``orders`` section with counts and the first examples of each fault,
and ``sound`` for everything; the exit status is 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.json_format import MessageToDict

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.cli import account
from paymesh.services.cli.output import print_json
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig

TIMEOUT_SECONDS = 60  # the audit folds every transfer of the ledger
STREAM_TIMEOUT_SECONDS = 3600  # the gateway streams every paid order
EXAMPLES = 10
MAX_IDS = 1000
MAX_ORPHANS = 10_000
FAULTS = ("paidOrdersWithoutPosting", "payPostingsMismatched", "refundsWithoutPosting",
          "refundPostingsMismatched", "ordersOverRefunded", "payPostingsWithoutOrder",
          "refundHoldsLeftOpen")
A = account_pb2
MERCHANT_KINDS = frozenset({A.ACCOUNT_KIND_PENDING, A.ACCOUNT_KIND_AVAILABLE,
                            A.ACCOUNT_KIND_FROZEN, A.ACCOUNT_KIND_RESERVE})
REFUND_SUCCESS, OPEN_REFUND = 2, (0, 1)
_RECON_ORDER = re.compile(r" of (\S+)$")  # "reconciliation <id>: <type> of <payOrderId>"
Ledger = account_pb2_grpc.AccountServiceStub
Gateway = gateway_pb2_grpc.PayOrderServiceStub
Postings = dict[str, account_pb2.LedgerPosting]


def register(commands: Any) -> None:
    ledger = commands.add_parser("ledger", help="the double-entry ledger (账户)")
    actions = ledger.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check", help="audit the ledger, and the ledger against the gateway's orders; exits 1 "
                      "when anything is wrong")
    check.add_argument("--mch-no", default="", help="check only this merchant's orders")
    check.set_defaults(run=run_check)
    account.register(actions)


@dataclass
class Findings:
    """What the audit of the orders counted, and the first examples of each fault."""

    mch_no: str
    paid_orders: int = 0
    succeeded_refunds: int = 0
    pay_postings: int = 0
    refund_holds: int = 0
    in_flight: dict[str, int] = field(default_factory=lambda: {
        "payments": 0, "refunds": 0, "refundHolds": 0})
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULTS, 0))
    examples: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in FAULTS})

    def fault(self, name: str, example: dict[str, Any]) -> None:
        self.counts[name] += 1
        if len(self.examples[name]) < EXAMPLES:
            self.examples[name].append(example)

    @property
    def sound(self) -> bool:
        return not any(self.counts.values())

    def report(self) -> dict[str, Any]:
        return {"mchNo": self.mch_no, "sound": self.sound, "paidOrders": self.paid_orders,
                "succeededRefunds": self.succeeded_refunds, "payPostings": self.pay_postings,
                "refundHolds": self.refund_holds, "inFlight": self.in_flight,
                "faults": {name: {"count": self.counts[name], "examples": self.examples[name]}
                           for name in FAULTS}}


async def postings_of(ledger: Ledger, ids: Iterable[str]) -> Postings:
    """The postings recorded under ``ids`` that moved money, by id."""
    wanted, found = list(dict.fromkeys(ids)), {}
    for start in range(0, len(wanted), MAX_IDS):
        answer = await ledger.GetPostings(A.GetPostingsRequest(
            posting_ids=wanted[start:start + MAX_IDS]), timeout=TIMEOUT_SECONDS)
        found.update({p.posting_id: p for p in answer.postings
                      if p.status == A.POSTING_STATUS_POSTED})
    return found


def nets(posting: account_pb2.LedgerPosting, mch_no: str | None) -> tuple[int, int]:
    """What a posting put in the merchant's accounts (of ``mch_no``; of any merchant when
    None) and in fee income, in fen: credits minus debits."""
    merchant = fee = 0
    for t in posting.transfers:
        for side, sign in ((t.credit_account, 1), (t.debit_account, -1)):
            if side.kind in MERCHANT_KINDS and mch_no in (None, side.owner):
                merchant += sign * t.transfer.amount
            elif side.kind == A.ACCOUNT_KIND_FEE_INCOME:
                fee += sign * t.transfer.amount
    return merchant, fee


def merchants_of(posting: account_pb2.LedgerPosting) -> set[str]:
    return {side.owner for t in posting.transfers for side in (t.debit_account, t.credit_account)
            if side.kind in MERCHANT_KINDS}


async def audit_orders(gateway: Gateway, ledger: Ledger, found: Findings) -> set[str]:
    """The forward checks over every paid order; returns the refunds whose hold may be open."""
    open_refunds: set[str] = set()
    stream = gateway.StreamPaidOrders(gateway_pb2.StreamPaidOrdersRequest(mch_no=found.mch_no),
                                      timeout=STREAM_TIMEOUT_SECONDS)
    async for batch in stream:
        ids = [f"pay:{o.pay_order_id}" for o in batch.orders]
        ids += [f"recon:{c}" for o in batch.orders for c in o.correction_ids]
        ids += [f"refund:{r.refund_order_id}" for o in batch.orders for r in o.refunds
                if r.state == REFUND_SUCCESS]
        postings = await postings_of(ledger, ids)
        for order in batch.orders:
            check_order(order, postings, found, open_refunds)
    return open_refunds


def check_order(order: gateway_pb2.PaidOrder, postings: Postings, found: Findings,
                open_refunds: set[str]) -> None:
    """The forward checks of one paid order (see the module docs)."""
    found.paid_orders += 1
    pay, order_id = postings.get(f"pay:{order.pay_order_id}"), order.pay_order_id
    if pay is None and order.ledger_pending:
        found.in_flight["payments"] += 1
    elif pay is None:
        found.fault("paidOrdersWithoutPosting", {"payOrderId": order_id, "mchNo": order.mch_no,
                                                 "amount": order.amount})
    else:
        merchant, fee = nets(pay, order.mch_no)
        for correction_id in order.correction_ids:
            if (recon := postings.get(f"recon:{correction_id}")) is not None:
                m, f = nets(recon, order.mch_no)
                merchant, fee = merchant + m, fee + f
        expected = (0, 0) if order.reversed else (order.amount - order.fee_amount,
                                                  order.fee_amount)
        if (merchant, fee) != expected:
            found.fault("payPostingsMismatched", {
                "payOrderId": order_id, "mchNo": order.mch_no, "reversed": order.reversed,
                "expectedNet": expected[0], "postedNet": merchant, "expectedFee": expected[1],
                "postedFee": fee})
    refunded = 0
    for refund in order.refunds:
        if refund.state in OPEN_REFUND or refund.ledger_pending:
            open_refunds.add(refund.refund_order_id)
        if refund.state != REFUND_SUCCESS:
            continue
        found.succeeded_refunds += 1
        posting = postings.get(f"refund:{refund.refund_order_id}")
        example = {"refundOrderId": refund.refund_order_id, "payOrderId": order_id,
                   "mchNo": order.mch_no, "refundAmount": refund.refund_amount}
        if posting is None:
            if refund.ledger_pending:
                found.in_flight["refunds"] += 1
            else:
                found.fault("refundsWithoutPosting", example)
            continue
        moved = sum(t.transfer.amount for t in posting.transfers)
        refunded += moved
        if moved != refund.refund_amount:
            found.fault("refundPostingsMismatched", {**example, "posted": moved})
    if refunded > order.amount:
        found.fault("ordersOverRefunded", {"payOrderId": order_id, "mchNo": order.mch_no,
                                           "amount": order.amount, "refundPostings": refunded})


async def audit_pay_postings(gateway: Gateway, ledger: Ledger, found: Findings) -> None:
    """Every ``pay:`` posting has a paid order, or recon postings took it back."""
    orphans: Postings = {}
    token = ""
    while True:
        page = await ledger.ListPostingIds(A.ListPostingIdsRequest(
            prefix="pay:", page_size=MAX_IDS, page_token=token), timeout=TIMEOUT_SECONDS)
        ids = [posting_id.removeprefix("pay:") for posting_id in page.posting_ids]
        paid: set[str] = set()
        if ids:
            async for batch in gateway.StreamPaidOrders(gateway_pb2.StreamPaidOrdersRequest(
                    pay_order_ids=ids), timeout=TIMEOUT_SECONDS):
                paid.update(o.pay_order_id for o in batch.orders)
        found.pay_postings += len(ids)
        missing = [f"pay:{i}" for i in ids if i not in paid]
        for posting_id, posting in (await postings_of(ledger, missing)).items():
            if found.mch_no and found.mch_no not in merchants_of(posting):
                continue
            if len(orphans) < MAX_ORPHANS:
                orphans[posting_id.removeprefix("pay:")] = posting
            else:
                found.fault("payPostingsWithoutOrder", {"postingId": posting_id})
        if not page.has_more:
            break
        token = page.next_page_token
    taken_back = await recon_nets(ledger, set(orphans))
    for pay_order_id, posting in orphans.items():
        merchant, fee = nets(posting, None)
        back = taken_back.get(pay_order_id, (0, 0))
        if (merchant + back[0], fee + back[1]) != (0, 0):
            found.fault("payPostingsWithoutOrder", {
                "postingId": posting.posting_id, "mchNo": ",".join(sorted(merchants_of(posting))),
                "net": merchant, "fee": fee})


async def recon_nets(ledger: Ledger, pay_order_ids: set[str]) -> dict[str, tuple[int, int]]:
    """What the ``recon:`` postings naming each of these orders moved (merchant, fee)."""
    totals: dict[str, tuple[int, int]] = {}
    token = ""
    while pay_order_ids:
        page = await ledger.ListPostingIds(A.ListPostingIdsRequest(
            prefix="recon:", page_size=MAX_IDS, page_token=token), timeout=TIMEOUT_SECONDS)
        for posting in (await postings_of(ledger, page.posting_ids)).values():
            named = _RECON_ORDER.search(posting.transfers[0].transfer.memo) \
                if posting.transfers else None
            if named and named.group(1) in pay_order_ids:
                merchant, fee = nets(posting, None)
                seen = totals.get(named.group(1), (0, 0))
                totals[named.group(1)] = (seen[0] + merchant, seen[1] + fee)
        if not page.has_more:
            break
        token = page.next_page_token
    return totals


async def open_holds(ledger: Ledger, found: Findings) -> dict[str, int]:
    """Refund holds neither used by a refund posting nor released, by refund id: amount."""
    candidates: dict[str, int] = {}
    token = ""
    while True:
        page = await ledger.ListPostingIds(A.ListPostingIdsRequest(
            prefix="refund-hold:", page_size=MAX_IDS // 2, page_token=token),
            timeout=TIMEOUT_SECONDS)
        holds = await postings_of(ledger, page.posting_ids)
        refund_ids = [p.removeprefix("refund-hold:") for p in holds
                      if not found.mch_no or found.mch_no in merchants_of(holds[p])]
        found.refund_holds += len(refund_ids)
        candidates.update({r: sum(t.transfer.amount for t in holds[f"refund-hold:{r}"].transfers)
                           for r in await _unended(ledger, refund_ids)})
        if not page.has_more:
            return candidates
        token = page.next_page_token


async def _unended(ledger: Ledger, refund_ids: list[str]) -> list[str]:
    """Those refunds with neither a ``refund:`` nor a ``refund-release:`` posting."""
    ended = await postings_of(ledger, [f"{kind}:{r}" for r in refund_ids
                                       for kind in ("refund", "refund-release")])
    return [r for r in refund_ids
            if f"refund:{r}" not in ended and f"refund-release:{r}" not in ended]


async def audit(mch_no: str = "") -> tuple[account_pb2.CheckInvariantsResponse, Findings]:
    """CheckInvariants, then the ledger against the gateway's orders."""
    config = MeshConfig.from_env()
    found = Findings(mch_no)
    async with open_channel(config.addrs["account"]) as account_channel, \
            open_channel(config.addrs["gateway"]) as gateway_channel:
        ledger, gateway = Ledger(account_channel), Gateway(gateway_channel)
        invariants: account_pb2.CheckInvariantsResponse = await ledger.CheckInvariants(
            A.CheckInvariantsRequest(), timeout=TIMEOUT_SECONDS)
        # Holds first: a refund open now is open, or ended and delivered, when the orders pass.
        candidates = await open_holds(ledger, found)
        open_refunds = await audit_orders(gateway, ledger, found)
        await audit_pay_postings(gateway, ledger, found)
        still = set(await _unended(ledger, [r for r in candidates if r not in open_refunds]))
        for refund_id, amount in candidates.items():
            if refund_id in open_refunds:
                found.in_flight["refundHolds"] += 1
            elif refund_id in still:
                found.fault("refundHoldsLeftOpen", {"refundOrderId": refund_id, "held": amount})
    return invariants, found


def run_check(args: argparse.Namespace) -> None:
    """Prints the audit as JSON; anything wrong makes the exit status 1."""
    try:
        invariants, found = asyncio.run(audit(args.mch_no))
    except grpc.aio.AioRpcError as error:
        sys.exit(f"paymesh: ledger check: {error.code().name}: {error.details()}")
    # Every field, so ``sound: false`` and zero totals show rather than being omitted.
    report = MessageToDict(invariants, always_print_fields_with_no_presence=True)
    report["invariantsSound"] = invariants.sound
    report["orders"] = found.report()
    report["sound"] = invariants.sound and found.sound
    print_json(report)
    if not report["sound"]:
        sys.exit(1)
