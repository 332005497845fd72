"""The ledger consumer: a final refusal is recorded and delivered, a transient failure retried."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from paymesh.account.v1 import account_pb2
from paymesh.services.gateway.ledger_events import LedgerEvents


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


class Order:
    pay_order_id, mch_no, if_code, currency, amount, fee_amount = ("P1", "M1", "sandbox", "cny",
                                                                   1234, 7)


class Orders:
    async def get(self, pay_order_id: str) -> Any:
        return Order() if pay_order_id == "P1" else None


class Ledger:
    """Opens accounts; Post answers with the error given."""

    def __init__(self, error: grpc.aio.AioRpcError | None) -> None:
        self.error = error
        self.posted: list[account_pb2.PostRequest] = []
        self._ids: dict[tuple[str, int], int] = {}

    async def OpenAccount(self, request: account_pb2.OpenAccountRequest, **_: Any
                          ) -> account_pb2.OpenAccountResponse:
        key = (request.owner, request.kind)
        account_id = self._ids.setdefault(key, len(self._ids) + 1)
        return account_pb2.OpenAccountResponse(account=account_pb2.Account(
            account_id=account_id, owner=request.owner, currency=request.currency,
            kind=request.kind))

    async def Post(self, request: account_pb2.PostRequest, **_: Any
                   ) -> account_pb2.PostResponse:
        self.posted.append(request)
        if self.error is not None:
            raise self.error
        return account_pb2.PostResponse()


def consumer(ledger: Ledger) -> LedgerEvents:
    return LedgerEvents(ledger, Orders(), None)  # type: ignore[arg-type]


async def test_a_payment_posts_net_and_fee_from_the_channel_clearing() -> None:
    ledger = Ledger(None)
    await consumer(ledger).on_event("pay.succeeded", "P1")
    [posted] = ledger.posted
    assert posted.posting_id == "pay:P1"
    ids = ledger._ids
    clearing, pending, fee = (ids[("channel:sandbox", account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING)],
                              ids[("M1", account_pb2.ACCOUNT_KIND_PENDING)],
                              ids[("platform", account_pb2.ACCOUNT_KIND_FEE_INCOME)])
    assert [(t.debit_account_id, t.credit_account_id, t.amount) for t in posted.transfers] == [
        (clearing, pending, 1227), (clearing, fee, 7)]


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
