"""The ledger consumer: postings per channel config with value dates, the refund fee rule, and
a final refusal recorded and delivered while a transient failure is retried."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from paymesh.account.v1 import account_pb2
from paymesh.services.gateway.fees import KEEP, RETURN_PRO_RATA
from paymesh.services.gateway.ledger_events import LedgerEvents, value_date


def rpc_error(code: grpc.StatusCode, reason: str | None) -> grpc.aio.AioRpcError:
    trailing: tuple[tuple[str, bytes], ...] = ()
    if reason is not None:
        status = status_pb2.Status(code=code.value[0], message=reason)
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="paymesh"))
        status.details.append(detail)
        trailing = (("grpc-status-details-bin", status.SerializeToString()),)
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(*trailing),
                                details=reason or "down")


# 17:30 UTC on 1 March is already 2 March in China Standard Time.
PAID_AT = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
REFUNDED_AT = datetime(2026, 3, 4, 15, 59, 59, tzinfo=UTC)  # 23:59:59 on 4 March, UTC+8
KEY = "0123456789abcdef01234567.sandbox"


@dataclass
class Order:
    pay_order_id: str = "P1"
    mch_no: str = "M1"
    if_code: str = "sandbox"
    currency: str = "cny"
    amount: int = 1234
    fee_amount: int = 7
    channel_config_key: str | None = KEY
    refund_fee_rule: int = RETURN_PRO_RATA
    success_at: datetime | None = PAID_AT


@dataclass
class Refund:
    refund_order_id: str
    refund_amount: int
    pay_order_id: str = "P1"
    success_at: datetime | None = REFUNDED_AT


class Orders:
    def __init__(self, order: Order | None = None) -> None:
        self.order = order or Order()

    async def get(self, pay_order_id: str) -> Any:
        return self.order if pay_order_id == self.order.pay_order_id else None


@dataclass
class Refunds:
    """Succeeded refunds of P1, in the order they succeeded."""

    succeeded: list[Refund] = field(default_factory=list)

    async def get(self, refund_order_id: str) -> Refund | None:
        return next((r for r in self.succeeded if r.refund_order_id == refund_order_id), None)

    async def succeeded_in_order(self, pay_order_id: str) -> list[Refund]:
        return [r for r in self.succeeded if r.pay_order_id == pay_order_id]


class Ledger:
    """Opens accounts; Post answers with the error given; GetPostings knows the holds given."""

    def __init__(self, error: grpc.aio.AioRpcError | None,
                 holds: dict[str, list[tuple[int, int, int, str]]] | None = None) -> None:
        self.error = error
        self.posted: list[account_pb2.PostRequest] = []
        self._ids: dict[tuple[str, int], int] = {}
        self.holds = holds or {}  # posting id → (source, frozen, amount, value date) transfers

    async def GetPostings(self, request: account_pb2.GetPostingsRequest, **_: Any
                          ) -> account_pb2.GetPostingsResponse:
        return account_pb2.GetPostingsResponse(postings=[
            account_pb2.LedgerPosting(
                posting_id=posting_id, status=account_pb2.POSTING_STATUS_POSTED,
                transfers=[account_pb2.PostingTransfer(transfer=account_pb2.Transfer(
                    posting_id=posting_id, debit_account_id=source, credit_account_id=frozen,
                    amount=amount, code="REFUND_HOLD", value_date=day))
                    for source, frozen, amount, day in self.holds[posting_id]])
            for posting_id in request.posting_ids if posting_id in self.holds])

    async def OpenAccount(self, request: account_pb2.OpenAccountRequest, **_: Any
                          ) -> account_pb2.OpenAccountResponse:
        key = (request.owner, request.kind)
        account_id = self._ids.setdefault(key, len(self._ids) + 1)
        return account_pb2.OpenAccountResponse(account=account_pb2.Account(
            account_id=account_id, owner=request.owner, currency=request.currency,
            kind=request.kind, balance=10**9))  # pending always covers the refunds here

    async def Post(self, request: account_pb2.PostRequest, **_: Any
                   ) -> account_pb2.PostResponse:
        self.posted.append(request)
        if self.error is not None:
            raise self.error
        return account_pb2.PostResponse()


def consumer(ledger: Ledger, order: Order | None = None,
             refunds: Refunds | None = None) -> LedgerEvents:
    return LedgerEvents(ledger, Orders(order), refunds)  # type: ignore[arg-type]


def account(ledger: Ledger, owner: str, kind: int) -> int:
    return ledger._ids[(owner, kind)]


CLEARING, PENDING, FEE = (account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING,
                          account_pb2.ACCOUNT_KIND_PENDING, account_pb2.ACCOUNT_KIND_FEE_INCOME)


async def test_a_payment_posts_net_and_fee_from_its_channel_configs_clearing() -> None:
    ledger = Ledger(None)
    await consumer(ledger).on_event("pay.succeeded", "P1")
    [posted] = ledger.posted
    assert posted.posting_id == "pay:P1"
    clearing, pending, fee = (account(ledger, f"channel:{KEY}", CLEARING),
                              account(ledger, "M1", PENDING), account(ledger, "platform", FEE))
    assert [(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.value_date)
            for t in posted.transfers] == [
        (clearing, pending, 1227, "PAY_SUCCESS", "2026-03-02"),
        (clearing, fee, 7, "PAY_FEE", "2026-03-02")]
    assert ("channel:sandbox", CLEARING) not in ledger._ids


async def test_an_order_from_before_the_config_keys_clears_through_its_channel() -> None:
    ledger = Ledger(None)
    await consumer(ledger, Order(channel_config_key=None)).on_event("pay.succeeded", "P1")
    [posted] = ledger.posted
    clearing = account(ledger, "channel:sandbox", CLEARING)
    assert {t.debit_account_id for t in posted.transfers} == {clearing}


@pytest.mark.parametrize(("moment", "day"), [
    (datetime(2026, 3, 1, 15, 59, 59, 999999, tzinfo=UTC), "2026-03-01"),
    (datetime(2026, 3, 1, 16, 0, tzinfo=UTC), "2026-03-02"),
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2027-01-01"),
    (None, "")])
def test_value_dates_are_china_standard_time_days(moment: datetime | None, day: str) -> None:
    assert value_date(moment) == day


async def test_refunds_return_fee_shares_pro_rata_valued_on_their_own_day() -> None:
    ledger = Ledger(None)
    refunds = Refunds([Refund("R1", 600), Refund("R2", 634, success_at=PAID_AT)])
    events = consumer(ledger, refunds=refunds)
    await events.on_event("refund.succeeded", "R1")
    await events.on_event("refund.succeeded", "R2")
    posted = {p.posting_id: p for p in ledger.posted}
    clearing, pending, fee = (account(ledger, f"channel:{KEY}", CLEARING),
                              account(ledger, "M1", PENDING), account(ledger, "platform", FEE))
    assert [(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.value_date)
            for t in posted["refund:R1"].transfers] == [
        (pending, clearing, 597, "REFUND", "2026-03-04"),
        (fee, clearing, 3, "REFUND_FEE", "2026-03-04")]  # 7 × 600 / 1234 = 3.40 → 3
    assert [(t.amount, t.code, t.value_date) for t in posted["refund:R2"].transfers] == [
        (630, "REFUND", "2026-03-02"), (4, "REFUND_FEE", "2026-03-02")]  # the 4 left


async def test_an_order_that_keeps_its_fee_takes_the_whole_refund_from_the_merchant() -> None:
    ledger = Ledger(None)
    refunds = Refunds([Refund("R1", 600), Refund("R2", 634)])
    events = consumer(ledger, Order(refund_fee_rule=KEEP), refunds)
    await events.on_event("refund.succeeded", "R1")
    await events.on_event("refund.succeeded", "R2")
    posted = {p.posting_id: p for p in ledger.posted}
    pending, clearing = account(ledger, "M1", PENDING), account(ledger, f"channel:{KEY}", CLEARING)
    for refund in ("refund:R1", "refund:R2"):
        assert [t.code for t in posted[refund].transfers] == ["REFUND"]
        assert posted[refund].transfers[0].debit_account_id == pending
        assert posted[refund].transfers[0].credit_account_id == clearing
    assert [posted[r].transfers[0].amount for r in ("refund:R1", "refund:R2")] == [600, 634]


async def test_failed_outcomes_post_nothing() -> None:
    ledger = Ledger(None)
    await consumer(ledger).on_event("pay.failed", "P1")
    await consumer(ledger).on_event("refund.failed", "R1")
    assert ledger.posted == []


async def test_a_refusal_is_logged_as_a_failed_ledger_event_and_not_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    ledger = Ledger(rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_FUNDS"))
    with caplog.at_level(logging.ERROR):
        await consumer(ledger).on_event("pay.succeeded", "P1")  # returns: delivered
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
    assert "INSUFFICIENT_FUNDS" in caplog.text and "pay.succeeded P1" in caplog.text


@pytest.mark.parametrize(("code", "reason"), [
    (grpc.StatusCode.UNAVAILABLE, None), (grpc.StatusCode.DEADLINE_EXCEEDED, None),
    (grpc.StatusCode.INTERNAL, "INTERNAL")])
async def test_a_transient_failure_raises_so_the_outbox_retries(
        code: grpc.StatusCode, reason: str | None) -> None:
    with pytest.raises(grpc.aio.AioRpcError):
        await consumer(Ledger(rpc_error(code, reason))).on_event("pay.succeeded", "P1")


async def test_a_held_refund_is_paid_from_frozen_and_the_fee_share_from_fee_income() -> None:
    ledger = Ledger(None, {"refund-hold:R1": [(41, 43, 500, "2026-03-03"),
                                              (42, 43, 97, "2026-03-03")]})
    events = consumer(ledger, refunds=Refunds([Refund("R1", 600)]))
    await events.on_event("refund.succeeded", "R1")
    posted = {p.posting_id: p for p in ledger.posted}
    clearing, fee = account(ledger, f"channel:{KEY}", CLEARING), account(ledger, "platform", FEE)
    # Whatever the hold took from pending and available, the refund leaves FROZEN at once.
    assert [(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.value_date)
            for t in posted["refund:R1"].transfers] == [
        (43, clearing, 597, "REFUND", "2026-03-04"), (fee, clearing, 3, "REFUND_FEE",
                                                      "2026-03-04")]
    assert ("M1", PENDING) in ledger._ids  # opened for the payment's posting only
    assert "pay:P1" in posted


@pytest.mark.parametrize("topic", ["refund.failed", "refund.abandoned"])
async def test_a_refund_that_ends_unpaid_gives_each_held_amount_back_where_it_came_from(
        topic: str) -> None:
    ledger = Ledger(None, {"refund-hold:R1": [(41, 43, 500, "2026-03-03"),
                                              (42, 43, 97, "2026-03-03")]})
    await consumer(ledger).on_event(topic, "R1")
    [posted] = ledger.posted
    assert posted.posting_id == "refund-release:R1"
    assert [(t.debit_account_id, t.credit_account_id, t.amount, t.code, t.value_date)
            for t in posted.transfers] == [(43, 41, 500, "REFUND_RELEASE", "2026-03-03"),
                                           (43, 42, 97, "REFUND_RELEASE", "2026-03-03")]


async def test_a_refund_that_ends_unpaid_without_a_hold_posts_nothing() -> None:
    ledger = Ledger(None)
    for topic in ("refund.failed", "refund.abandoned"):
        await consumer(ledger).on_event(topic, "R1")
    assert ledger.posted == []
