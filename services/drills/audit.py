"""The audit after a drill: the client's book against the platform, the ledger and the merchant.

Every row of the table classifies items as match / mismatch / missing / duplicate; anything but
match is an anomaly and fails the drill:

- pay orders: each order the client knows of, against the gateway's record (LookupRecords):
  missing when the client got a payOrderId the gateway does not have; mismatch when the amount,
  the merchant, the fee (rate × amount, half up), the refunded total or the state is not what the
  client's view allows; duplicate when the gateway holds another order with the same mchOrderNo
  (every order of the drill's channel configs on the run's days is streamed, StreamDayRecords),
  or an order the client never asked for;
- refunds: the same for every refund the client knows of;
- pay / refund postings: every paid order has its ``pay:<id>`` posting crediting the merchant
  amount − fee and the platform the fee, every successful refund its ``refund:<id>`` posting
  debiting the merchant refund − fee share; an order not paid has no posting; two postings for
  one order are a duplicate;
- notifications: every paid or failed order and every finished refund was notified, signed, with
  its final state, and acknowledged (no record of the drill's merchant left sending or failed);
- balances: the merchant's accounts add up to what the client's view says, and the ledger
  passes ``paymesh ledger check --mch-no <the drill's merchant>`` (the ledger's own invariants,
  and the ledger against the gateway's orders). The command runs once the rest is clean (it is a
  process of its own); until then each pass asks CheckInvariants.

Orders the client never learned about (no answer, and "not found" when it asked afterwards) are
counted as absent, not as anomalies: the platform does not have them either.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.common.v1 import common_pb2
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.common.config import MeshConfig
from paymesh.services.drills.client import OK
from paymesh.services.drills.endpoint import MerchantEndpoint
from paymesh.services.drills.tenant import Tenant
from paymesh.services.drills.workload import (
    FAILED,
    PAID,
    REFUND_DONE,
    REFUND_FAILED,
    REFUND_INIT,
    REFUND_PAYING,
    REFUNDED,
    Book,
    ClientOrder,
)

KINDS = ("match", "mismatch", "missing", "duplicate")
EXAMPLES = 5
LOOKUP_BATCH = 1000
TIMEOUT = 30.0
CHINA = timedelta(hours=8)
# The memos the gateway writes: "pay order <payOrderId>", "refund <refundOrderId> of <...>".
_MEMO_SUBJECT = re.compile(r"^(?:pay order (P\w+)|refund (R\w+) of \S+)$")


@dataclass
class Row:
    """One line of the audit table."""

    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    examples: list[str] = field(default_factory=list)

    def add(self, kind: str, note: str = "") -> None:
        self.counts[kind] += 1
        if kind != "match" and len(self.examples) < EXAMPLES:
            self.examples.append(f"{kind}: {note}")

    @property
    def anomalies(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "match")


@dataclass
class AuditResult:
    """The table and the totals behind the verdict."""

    rows: list[Row]
    absent: int = 0  # orders and refunds the platform never had and the client never saw
    balance_expected: int = 0
    balance_ledger: int = 0
    ledger_sound: bool = False
    ledger_problems: list[str] = field(default_factory=list)
    notices_repeated: int = 0  # notifications the merchant got more than once (allowed)
    pay_notices_refunded: int = 0  # pay notifications made after a full refund (state 5)
    open_refunds: list[str] = field(default_factory=list)  # refunds still 0 or 1 at the end

    @property
    def anomalies(self) -> int:
        return (sum(r.anomalies for r in self.rows) + len(self.ledger_problems)
                + (self.balance_expected != self.balance_ledger) + (not self.ledger_sound))

    @property
    def clean(self) -> bool:
        return self.anomalies == 0


@dataclass(frozen=True)
class Posting:
    """What one posting did to the drill's merchant and to the platform's fee income."""

    posting_id: str
    merchant: int = 0  # signed fen: + credited to the merchant, − debited
    fee: int = 0  # signed fen to the platform's fee income
    subject: str = ""  # the pay order or refund its memo names


class Auditor:
    """Reads the platform through its internal RPCs and compares it with a drill's book."""

    def __init__(self, config: MeshConfig, tenant: Tenant, endpoint: MerchantEndpoint | None,
                 started: datetime, channel_keys: Iterable[str] = ("sandbox",),
                 env: dict[str, str] | None = None) -> None:
        self.config = config
        self.env = env  # the mesh's environment, for ``paymesh ledger check``
        self.tenant = tenant
        self.endpoint = endpoint
        self.started = started
        self.channel_keys = [f"{tenant.app_id}.{k}" for k in channel_keys]

    async def audit(self, book: Book) -> AuditResult:
        async with grpc.aio.insecure_channel(self.config.addrs["gateway"]) as gateway, \
                grpc.aio.insecure_channel(self.config.addrs["account"]) as account:
            source = gateway_pb2_grpc.ReconciliationSourceServiceStub(gateway)
            self._orders = gateway_pb2_grpc.PayOrderServiceStub(gateway)
            self._notify = gateway_pb2_grpc.NotificationServiceStub(gateway)
            self._ledger = account_pb2_grpc.AccountServiceStub(account)
            records = await self._lookup(source, book)
            streamed = await self._stream(source)
            result = AuditResult([Row("pay orders"), Row("refunds"), Row("pay postings"),
                                  Row("refund postings"), Row("notifications")])
            pays, refunds, post_pay, post_refund, notices = result.rows
            await self._pay_orders(book, records, streamed, pays, result)
            self._refunds(book, records, streamed, refunds, result)
            postings = await self._postings()
            self._pay_postings(records, postings, post_pay)
            self._refund_postings(book, records, postings, post_refund)
            result.balance_ledger = await self._balance()
            result.balance_expected = self._expected_balance(book, records)
            await self._invariants(result)
            await self._notifications(book, records, notices, result)
        if result.clean and self.env is not None:
            await self._ledger_check_command(result)
        return result

    async def _lookup(self, source: gateway_pb2_grpc.ReconciliationSourceServiceStub,
                      book: Book) -> dict[str, gateway_pb2.PlatformRecord]:
        pay_ids = [o.pay_order_id for o in book.orders.values() if o.pay_order_id]
        refund_ids = [r.refund_order_id for _, r in book.refunds() if r.refund_order_id]
        found: dict[str, gateway_pb2.PlatformRecord] = {}
        for ids, refunds in ((pay_ids, False), (refund_ids, True)):
            for start in range(0, len(ids), LOOKUP_BATCH):
                batch = ids[start:start + LOOKUP_BATCH]
                request = (gateway_pb2.LookupRecordsRequest(refund_order_ids=batch) if refunds
                           else gateway_pb2.LookupRecordsRequest(pay_order_ids=batch))
                answer = await source.LookupRecords(request, timeout=TIMEOUT)
                for record in answer.records:
                    found[record.refund_order_id or record.pay_order_id] = record
        return found

    async def _stream(self, source: gateway_pb2_grpc.ReconciliationSourceServiceStub
                      ) -> dict[str, gateway_pb2.PlatformRecord]:
        """Every record of the drill's channel configs on the run's days (UTC+8)."""
        days = []
        day = (self.started + CHINA).date()
        while day <= (datetime.now(UTC) + CHINA).date():
            days.append(day.isoformat())
            day += timedelta(days=1)
        found: dict[str, gateway_pb2.PlatformRecord] = {}
        for key in self.channel_keys:
            for bill_date in days:
                async for batch in source.StreamDayRecords(gateway_pb2.StreamDayRecordsRequest(
                        channel_config_key=key, bill_date=bill_date), timeout=TIMEOUT):
                    for record in batch.records:
                        found[record.refund_order_id or record.pay_order_id] = record
        return found

    async def _pay_orders(self, book: Book, records: dict[str, gateway_pb2.PlatformRecord],
                          streamed: dict[str, gateway_pb2.PlatformRecord], row: Row,
                          result: AuditResult) -> None:
        by_mch_order: dict[str, ClientOrder] = {o.mch_order_no: o for o in book.orders.values()}
        known = {o.pay_order_id for o in book.orders.values() if o.pay_order_id}
        duplicated: set[str] = set()
        for pay_order_id, record in streamed.items():
            if record.kind != gateway_pb2.RECORD_KIND_PAY or pay_order_id in known:
                continue
            extra = await self._orders.GetPayOrder(
                gateway_pb2.GetPayOrderRequest(pay_order_id=pay_order_id), timeout=TIMEOUT)
            twin = by_mch_order.get(extra.pay_order.mch_order_no)
            if twin is not None:
                duplicated.add(twin.mch_order_no)
                row.add("duplicate", f"{extra.pay_order.mch_order_no}: {pay_order_id} besides "
                                     f"{twin.pay_order_id or '(no id seen)'}")
            else:
                row.add("duplicate", f"{pay_order_id} ({extra.pay_order.mch_order_no}) was "
                                     "never asked for by the client")
        for order in book.orders.values():
            if order.mch_order_no in duplicated:
                continue
            if order.created != OK:
                result.absent += 1
                continue
            record = records.get(order.pay_order_id)
            if record is None:
                row.add("missing", f"{order.pay_order_id} ({order.mch_order_no})")
                continue
            problems = []
            if record.mch_no != self.tenant.mch_no:
                problems.append(f"merchant {record.mch_no}")
            if record.amount != order.amount:
                problems.append(f"amount {record.amount} ≠ {order.amount}")
            if record.fee_amount != self.tenant.fee(order.amount):
                problems.append(f"fee {record.fee_amount} ≠ {self.tenant.fee(order.amount)}")
            expected = order.expected or frozenset()
            if record.state not in expected:
                problems.append(f"state {record.state} ∉ {sorted(expected)}")
            if (all(r.expected is not None and r.state in (REFUND_DONE, REFUND_FAILED)
                    or r.outcome != OK for r in order.refunds)
                    and record.refunded_amount != order.refunded()):
                problems.append(f"refunded {record.refunded_amount} ≠ {order.refunded()}")
            row.add("mismatch" if problems else "match",
                    f"{order.pay_order_id}: {', '.join(problems)}")

    @staticmethod
    def _refunds(book: Book, records: dict[str, gateway_pb2.PlatformRecord],
                 streamed: dict[str, gateway_pb2.PlatformRecord], row: Row,
                 result: AuditResult) -> None:
        known = {r.refund_order_id for _, r in book.refunds() if r.refund_order_id}
        for refund_id, record in streamed.items():
            if record.kind == gateway_pb2.RECORD_KIND_REFUND and refund_id not in known:
                row.add("duplicate", f"refund {refund_id} of {record.pay_order_id} was never "
                                     "asked for by the client")
        for order, refund in book.refunds():
            if refund.outcome != OK:
                result.absent += refund.outcome == "absent"
                continue
            record = records.get(refund.refund_order_id)
            if record is None:
                row.add("missing", f"{refund.refund_order_id} ({refund.mch_refund_no})")
                continue
            problems = []
            if record.amount != refund.amount:
                problems.append(f"amount {record.amount} ≠ {refund.amount}")
            if record.pay_order_id != order.pay_order_id:
                problems.append(f"of {record.pay_order_id} ≠ {order.pay_order_id}")
            expected = refund.expected or frozenset()
            if record.state not in expected:
                problems.append(f"state {record.state} ∉ {sorted(expected)}")
            if record.state in (REFUND_INIT, REFUND_PAYING):
                result.open_refunds.append(f"{refund.refund_order_id} ({record.state})")
            row.add("mismatch" if problems else "match",
                    f"{refund.refund_order_id}: {', '.join(problems)}")

    async def _postings(self) -> dict[str, Posting]:
        """The drill's postings, from its merchant's accounts and the platform's fee income."""
        merchant: dict[str, int] = defaultdict(int)
        fee: dict[str, int] = defaultdict(int)
        subjects: dict[str, str] = {}
        accounts = await self._ledger.GetBalances(
            account_pb2.GetBalancesRequest(owner=self.tenant.mch_no), timeout=TIMEOUT)
        for account in accounts.accounts:
            async for entry in self._entries(account.account_id, None):
                posting = entry.transfer.posting_id
                if entry.transfer.code in ("PAY_SUCCESS", "REFUND"):
                    merchant[posting] += entry.amount
                    memo = _MEMO_SUBJECT.match(entry.transfer.memo)
                    subjects[posting] = (memo.group(1) or memo.group(2)) if memo else ""
        platform = await self._ledger.GetBalances(
            account_pb2.GetBalancesRequest(owner="platform"), timeout=TIMEOUT)
        since = Timestamp()
        since.FromDatetime(self.started - timedelta(seconds=5))
        for account in platform.accounts:
            if account.kind != account_pb2.ACCOUNT_KIND_FEE_INCOME:
                continue
            async for entry in self._entries(account.account_id, since):
                if entry.transfer.posting_id in merchant:
                    fee[entry.transfer.posting_id] += entry.amount
        return {p: Posting(p, amount, fee.get(p, 0), subjects.get(p, ""))
                for p, amount in merchant.items()}

    async def _entries(self, account_id: int, since: Timestamp | None
                       ) -> AsyncIterator[account_pb2.Entry]:
        token = ""
        while True:
            request = account_pb2.ListEntriesRequest(
                account_id=account_id, page=common_pb2.PageRequest(page_size=100,
                                                                   page_token=token))
            if since is not None:
                request.created_after.CopyFrom(since)
            answer = await self._ledger.ListEntries(request, timeout=TIMEOUT)
            for entry in answer.entries:
                yield entry
            token = answer.page.next_page_token
            if not answer.page.has_more or not token:
                return

    def _pay_postings(self, records: dict[str, gateway_pb2.PlatformRecord],
                      postings: dict[str, Posting], row: Row) -> None:
        per_order = _per_subject(postings, "pay:")
        for pay_order_id, record in records.items():
            if record.kind != gateway_pb2.RECORD_KIND_PAY:
                continue
            paid = record.state in (PAID, REFUNDED)
            found = postings.get(f"pay:{pay_order_id}")
            if len(per_order.get(pay_order_id, [])) > 1:
                row.add("duplicate", f"{pay_order_id}: {per_order[pay_order_id]}")
            elif not paid:
                if found is not None:
                    row.add("mismatch", f"{pay_order_id} in state {record.state} has a posting")
            elif found is None:
                row.add("missing", f"pay:{pay_order_id}")
            elif (found.merchant, found.fee) != (record.amount - self.tenant.fee(record.amount),
                                                 self.tenant.fee(record.amount)):
                row.add("mismatch", f"pay:{pay_order_id} moved {found.merchant}+{found.fee}, "
                                    f"not {record.amount} − fee {self.tenant.fee(record.amount)}")
            else:
                row.add("match")

    def _refund_postings(self, book: Book, records: dict[str, gateway_pb2.PlatformRecord],
                         postings: dict[str, Posting], row: Row) -> None:
        per_refund = _per_subject(postings, "refund:")
        for order, refund in book.refunds():
            record = records.get(refund.refund_order_id)
            if refund.outcome != OK or record is None:
                continue
            found = postings.get(f"refund:{refund.refund_order_id}")
            if len(per_refund.get(refund.refund_order_id, [])) > 1:
                row.add("duplicate", f"{refund.refund_order_id}: "
                                     f"{per_refund[refund.refund_order_id]}")
            elif record.state != REFUND_DONE:
                if found is not None:
                    row.add("mismatch", f"refund {refund.refund_order_id} in state "
                                        f"{record.state} has a posting")
                continue
            share = self.tenant.refund_fee_share(order.amount, 0, refund.amount)
            if found is None:
                row.add("missing", f"refund:{refund.refund_order_id}")
            elif (found.merchant, found.fee) != (-(refund.amount - share), -share):
                row.add("mismatch", f"refund:{refund.refund_order_id} moved "
                                    f"{found.merchant}{found.fee:+d}, not −{refund.amount} "
                                    f"+ fee share {share}")
            else:
                row.add("match")

    async def _balance(self) -> int:
        accounts = await self._ledger.GetBalances(
            account_pb2.GetBalancesRequest(owner=self.tenant.mch_no), timeout=TIMEOUT)
        return sum(a.balance for a in accounts.accounts)

    def _expected_balance(self, book: Book, records: dict[str, gateway_pb2.PlatformRecord]
                          ) -> int:
        """What the merchant holds by the client's view: paid orders net of fee, less refunds
        net of their fee share. An order whose payment the client cannot know (the click had
        no answer) counts as the platform says."""
        total = 0
        for order in book.orders.values():
            expected = order.expected
            if expected is None:
                continue
            paid = expected <= {PAID, REFUNDED}
            if not paid and not expected.isdisjoint({PAID, REFUNDED}):
                record = records.get(order.pay_order_id)
                paid = record is not None and record.state in (PAID, REFUNDED)
            if not paid:
                continue
            total += order.amount - self.tenant.fee(order.amount)
            for refund in order.refunds:
                state = refund.state
                if refund.expected is not None and len(refund.expected) > 1:
                    record = records.get(refund.refund_order_id)
                    state = record.state if record is not None else None
                if refund.outcome == OK and state == REFUND_DONE:
                    total -= refund.amount - self.tenant.refund_fee_share(order.amount, 0,
                                                                          refund.amount)
        return total

    async def _invariants(self, result: AuditResult) -> None:
        report = await self._ledger.CheckInvariants(account_pb2.CheckInvariantsRequest(),
                                                    timeout=60)
        result.ledger_sound = report.sound
        result.ledger_problems = [
            f"account {d.account_id}: stored {d.stored_balance}, transfers "
            f"{d.transfers_balance}{', negative' if d.disallowed_negative else ''}"
            for d in report.discrepancies]
        result.ledger_problems += [f"{t.currency} total {t.total}" for t in report.totals
                                   if t.total]

    async def _ledger_check_command(self, result: AuditResult) -> None:
        """``paymesh ledger check --mch-no``, as an operator runs it."""
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "paymesh.services.cli", "ledger", "check", "--mch-no",
            self.tenant.mch_no, env=self.env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        out, err = await process.communicate()
        try:
            report = json.loads(out)
        except ValueError:
            report = {}
        result.ledger_sound = process.returncode == 0 and report.get("sound") is True
        if result.ledger_sound:
            return
        faults = report.get("orders", {}).get("faults", {}) if isinstance(report, dict) else {}
        result.ledger_problems.extend(
            f"paymesh ledger check: {name} ×{fault.get('count')}: "
            f"{json.dumps(fault.get('examples', [])[:2], ensure_ascii=False)[:300]}"
            for name, fault in faults.items() if isinstance(fault, dict) and fault.get("count"))
        if not result.ledger_problems:
            result.ledger_problems.append(
                f"paymesh ledger check exited {process.returncode}: "
                f"{(err or out).decode(errors='replace').strip()[-300:]}")

    async def _notifications(self, book: Book, records: dict[str, gateway_pb2.PlatformRecord],
                             row: Row, result: AuditResult) -> None:
        open_records = await self._open_notifications()
        for order in book.orders.values():
            record = records.get(order.pay_order_id)
            if record is None or record.state not in (PAID, REFUNDED, FAILED):
                continue
            # The record's fields are frozen when it is made, from the order as it is then: a
            # refund that finished first shows as state 5 (REFUNDED) in the pay notification.
            states = {record.state} | ({PAID} if record.state == REFUNDED else set())
            self._notified(row, result, "pay", order.pay_order_id, states, open_records)
            for refund in order.refunds:
                refund_record = records.get(refund.refund_order_id)
                if refund_record is not None and refund_record.state in (REFUND_DONE,
                                                                         REFUND_FAILED):
                    self._notified(row, result, "refund", refund.refund_order_id,
                                   {refund_record.state}, open_records)

    def _notified(self, row: Row, result: AuditResult, kind: str, order_id: str,
                  states: set[int], open_records: dict[str, str]) -> None:
        notices = self.endpoint.notices(kind, order_id) if self.endpoint else []
        if order_id in open_records:
            row.add("missing", f"{kind} {order_id}: record {open_records[order_id]}")
        elif not notices:
            row.add("missing", f"{kind} {order_id}: the merchant got nothing")
        elif not all(n.signed for n in notices):
            row.add("mismatch", f"{kind} {order_id}: a notification's signature is wrong")
        elif not any(n.state in states for n in notices):
            row.add("mismatch", f"{kind} {order_id}: states {[n.state for n in notices]}, "
                                f"not {sorted(states)}")
        else:
            result.notices_repeated += len(notices) > 1
            result.pay_notices_refunded += kind == "pay" and all(
                n.state == REFUNDED for n in notices)
            row.add("match")

    async def _open_notifications(self) -> dict[str, str]:
        """The drill merchant's records still sending or failed for good: order id → state."""
        found: dict[str, str] = {}
        for state in (gateway_pb2.NOTIFY_STATE_SENDING, gateway_pb2.NOTIFY_STATE_FAILED):
            token = ""
            while True:
                answer = await self._notify.ListNotifications(
                    gateway_pb2.ListNotificationsRequest(
                        state=state, page=common_pb2.PageRequest(page_size=100,
                                                                 page_token=token)),
                    timeout=TIMEOUT)
                for record in answer.notifications:
                    if record.mch_no == self.tenant.mch_no:
                        found[record.order_id] = gateway_pb2.NotifyState.Name(state)
                token = answer.page.next_page_token
                if not answer.page.has_more or not token:
                    break
        return found


def _per_subject(postings: dict[str, Posting], prefix: str) -> dict[str, list[str]]:
    """Posting ids by the order or refund they are about (by id, or failing that by memo)."""
    found: dict[str, list[str]] = defaultdict(list)
    for posting in postings.values():
        if posting.posting_id.startswith(prefix):
            found[posting.posting_id[len(prefix):]].append(posting.posting_id)
        elif posting.subject and posting.subject[0] == ("P" if prefix == "pay:" else "R"):
            found[posting.subject].append(posting.posting_id)
    return found
