"""Money events from the gateway to the ledger: an outbox consumer posting to AccountService.

It runs behind the outbox, so the merchant's answer never waits for the ledger. Postings follow
the chart of accounts (money-and-reconciliation §4.5), one posting per business event with an id
derived from it, so a redelivered event moves money once:

- ``pay.succeeded`` (posting ``pay:<payOrderId>``): channel clearing → merchant pending :
  amount − fee; channel clearing → platform fee income : fee (a zero transfer is left out);
- ``refund.succeeded`` (posting ``refund:<refundOrderId>``): merchant pending → channel clearing
  : refund − fee share; fee income → channel clearing : fee share (``fees.refund_fee_shares``).
  When pending cannot cover it (already settled) the whole amount comes from the merchant's
  AVAILABLE account instead; settlement is not built yet, so pending normally suffices;
  The payment's posting is made (or replayed) first, so the order of delivery does not matter;
- ``pay.failed`` / ``refund.failed``: nothing moved, nothing to post.

Accounts are opened on demand (OpenAccount is idempotent) in the order's currency. Owners: the
merchant's mchNo; ``channel:<ifCode>`` for channel clearing (one per channel *interface*: one per
channel config, as the proto intends, needs the config's id on the order, which it does not
carry yet); ``platform`` for fee income.

A refusal by the ledger (any ErrorInfo reason: INSUFFICIENT_FUNDS, CURRENCY_MISMATCH, ...) is
final for that posting id, so retrying is useless: it is logged at ERROR as a failed ledger event
and the event counts as delivered. Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL)
raise, and the outbox retries.
"""

from __future__ import annotations

import logging

import grpc

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.services.common.errors import reason_of
from paymesh.services.gateway.fees import refund_fee_shares
from paymesh.services.gateway.outbox import PAY_SUCCEEDED, REFUND_SUCCEEDED
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository

log = logging.getLogger(__name__)
PLATFORM_OWNER = "platform"
TOPICS = (PAY_SUCCEEDED, REFUND_SUCCEEDED, "pay.failed", "refund.failed")
TIMEOUT_SECONDS = 10.0
_TRANSIENT_REASONS = frozenset({None, "INTERNAL"})
PENDING = account_pb2.ACCOUNT_KIND_PENDING
AVAILABLE = account_pb2.ACCOUNT_KIND_AVAILABLE
CLEARING = account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING
FEE_INCOME = account_pb2.ACCOUNT_KIND_FEE_INCOME


def channel_owner(if_code: str) -> str:
    """Owner of the channel-clearing account of a channel interface."""
    return f"channel:{if_code}"


class LedgerEventFailed(Exception):
    """The ledger refused an event for good; the reason is its ErrorInfo reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class LedgerEvents:
    """Outbox consumer turning successful payments and refunds into ledger postings."""

    def __init__(self, ledger: account_pb2_grpc.AccountServiceStub, orders: PayOrderRepository,
                 refunds: RefundRepository) -> None:
        self._ledger = ledger
        self._orders = orders
        self._refunds = refunds

    async def on_event(self, topic: str, order_id: str) -> None:
        """Outbox consumer: posts the event's money movement once; see the module docs."""
        try:
            if topic == PAY_SUCCEEDED:
                await self._pay_succeeded(order_id)
            elif topic == REFUND_SUCCEEDED:
                await self._refund_succeeded(order_id)
        except LedgerEventFailed as failure:
            log.error("ledger event FAILED for good: %s %s refused by the ledger (%s); "
                      "needs an operator", topic, order_id, failure)

    async def _pay_succeeded(self, pay_order_id: str) -> None:
        order = await self._orders.get(pay_order_id)
        if order is None:
            raise LedgerEventFailed("ORDER_NOT_FOUND", f"no pay order {pay_order_id}")
        currency = order.currency.upper()
        clearing = await self._open(channel_owner(order.if_code), currency, CLEARING)
        pending = await self._open(order.mch_no, currency, PENDING)
        fee_income = await self._open(PLATFORM_OWNER, currency, FEE_INCOME)
        memo = f"pay order {pay_order_id}"
        await self._post(f"pay:{pay_order_id}", [
            _transfer(clearing, pending, order.amount - order.fee_amount, "PAY_SUCCESS", memo),
            _transfer(clearing, fee_income, order.fee_amount, "PAY_FEE", memo)])

    async def _refund_succeeded(self, refund_order_id: str) -> None:
        refund = await self._refunds.get(refund_order_id)
        order = None if refund is None else await self._orders.get(refund.pay_order_id)
        if refund is None or order is None:
            raise LedgerEventFailed("ORDER_NOT_FOUND", f"no refund {refund_order_id} or its order")
        # The payment's posting first (a replay when it is in already): a refund delivered
        # while the payment's event still waits for a retry must not find pending empty.
        await self._pay_succeeded(order.pay_order_id)
        succeeded = await self._refunds.succeeded_in_order(order.pay_order_id)
        ids = [r.refund_order_id for r in succeeded]
        if refund_order_id not in ids:
            raise LedgerEventFailed("REFUND_NOT_SUCCEEDED", f"refund {refund_order_id} has not "
                                    "succeeded")
        upto = succeeded[:ids.index(refund_order_id) + 1]
        share = refund_fee_shares(order.fee_amount, order.amount,
                                  [r.refund_amount for r in upto])[-1]
        currency = order.currency.upper()
        clearing = await self._open(channel_owner(order.if_code), currency, CLEARING)
        fee_income = await self._open(PLATFORM_OWNER, currency, FEE_INCOME)
        source = await self._open(order.mch_no, currency, PENDING)
        net = refund.refund_amount - share
        if source.balance < net:  # settled already: the merchant's available funds pay it
            source = await self._open(order.mch_no, currency, AVAILABLE)
        memo = f"refund {refund_order_id} of {order.pay_order_id}"
        await self._post(f"refund:{refund_order_id}", [
            _transfer(source, clearing, net, "REFUND", memo),
            _transfer(fee_income, clearing, share, "REFUND_FEE", memo)])

    async def _open(self, owner: str, currency: str, kind: int) -> account_pb2.Account:
        """The account of (owner, currency, kind), opened if need be, with its balance."""
        try:
            opened = await self._ledger.OpenAccount(account_pb2.OpenAccountRequest(
                owner=owner, currency=currency, kind=kind), timeout=TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            raise _refusal_or_transient(error) from error
        return opened.account

    async def _post(self, posting_id: str,
                    transfers: list[account_pb2.TransferRequest | None]) -> None:
        request = account_pb2.PostRequest(posting_id=posting_id,
                                          transfers=[t for t in transfers if t is not None])
        try:
            await self._ledger.Post(request, timeout=TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            if reason_of(error) == "POSTING_ID_REUSED" and posting_id.startswith("refund:"):
                # An earlier attempt was recorded and then pending ran low, so this one chose
                # AVAILABLE: the refund is in the ledger already.
                log.info("ledger posting %s was recorded by an earlier attempt", posting_id)
                return
            raise _refusal_or_transient(error) from error


def _transfer(debit: account_pb2.Account, credit: account_pb2.Account, amount: int, code: str,
              memo: str) -> account_pb2.TransferRequest | None:
    """One transfer, or None for a zero amount (the ledger refuses empty transfers)."""
    if amount == 0:
        return None
    return account_pb2.TransferRequest(debit_account_id=debit.account_id,
                                       credit_account_id=credit.account_id, amount=amount,
                                       code=code, memo=memo)


def _refusal_or_transient(error: grpc.aio.AioRpcError) -> Exception:
    """A final refusal (LedgerEventFailed) or the error itself, to be retried by the outbox."""
    reason = reason_of(error)
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
            or reason in _TRANSIENT_REASONS:
        return error
    assert reason is not None
    return LedgerEventFailed(reason, error.details() or "")
