"""Money events from the gateway to the ledger: an outbox consumer posting to AccountService.

It runs behind the outbox, so a payment's answer never waits for the ledger (a refund's waits
for its hold, which refund_holds posts before the channel is asked). Postings follow
the chart of accounts (money-and-reconciliation §4.5), one posting per business event with an id
derived from it, so a redelivered event moves money once:

- ``pay.succeeded`` (posting ``pay:<payOrderId>``): channel clearing → merchant pending :
  amount − fee; channel clearing → platform fee income : fee (a zero transfer is left out);
  the fee is the one snapshotted on the order, never recomputed;
- ``refund.succeeded`` (posting ``refund:<refundOrderId>``) of a refund whose money was held
  (``refund-hold:<refundOrderId>``, see refund_holds): merchant frozen → channel clearing : the
  held amount; fee income → channel clearing : the rest of the refund, its fee share;
- ``refund.succeeded`` of a refund with no hold (made before holds existed): merchant pending →
  channel clearing : refund − fee share; fee income → channel clearing : fee share. The share
  follows the order's refund fee rule: RETURN_PRO_RATA gives ``fees.refund_fee_shares`` (shares
  summing to the fee over a full refund), KEEP gives 0, so the whole refund comes from the
  merchant. When pending cannot cover it (already settled) the whole amount comes from the
  merchant's AVAILABLE account instead. Either way the payment's posting is made (or replayed)
  first, so the order of delivery does not matter;
- ``refund.failed`` (a failed or closed refund) and ``refund.abandoned`` (a refund undone before
  the channel was asked): ``refund-release:<refundOrderId>`` moves every held amount from frozen
  back to the account it came from, on the hold's value date; nothing when nothing was held;
- ``pay.failed``: nothing moved, nothing to post.

Every transfer carries a value date, the business day (China Standard Time, UTC+8, as the
channels' bills count days) the money belongs to: the pay order's success day for the payment's
posting, the refund's own success day for the refund's, the day the refund was asked for its
hold (a release keeps the hold's). Settlement (T+N) counts from it.

Accounts are opened on demand (OpenAccount is idempotent) in the order's currency. Owners: the
merchant's mchNo; ``channel:<channel_config_key>`` for channel clearing, one per channel config
(the account the money went through: "<app_id or isv_no>.<if_code>", snapshotted on the order),
or ``channel:<ifCode>`` for orders made before the key was recorded; ``platform`` for fee income.

A refusal by the ledger (any ErrorInfo reason: INSUFFICIENT_FUNDS, CURRENCY_MISMATCH, ...) is
final for that posting id, so retrying is useless: it is logged at ERROR as a failed ledger event
and the event counts as delivered. Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL)
raise, and the outbox retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.services.common.errors import reason_of
from paymesh.services.gateway.fees import KEEP, refund_fee_shares
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.outbox import (
    PAY_FAILED,
    PAY_SUCCEEDED,
    REFUND_FAILED,
    REFUND_SUCCEEDED,
)
from paymesh.services.gateway.refund_repository import REFUND_ABANDONED, RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository
from paymesh.services.gateway.routing import BILL_ZONE

log = logging.getLogger(__name__)
PLATFORM_OWNER = "platform"
TOPICS = (PAY_SUCCEEDED, REFUND_SUCCEEDED, PAY_FAILED, REFUND_FAILED, REFUND_ABANDONED)
# The outbox name of this consumer: its deliveries are recorded under it (outbox_delivery).
LEDGER_CONSUMER = "ledger"
HOLD_PREFIX = "refund-hold:"
RELEASE_PREFIX = "refund-release:"
TIMEOUT_SECONDS = 10.0
_TRANSIENT_REASONS = frozenset({None, "INTERNAL"})
PENDING = account_pb2.ACCOUNT_KIND_PENDING
AVAILABLE = account_pb2.ACCOUNT_KIND_AVAILABLE
CLEARING = account_pb2.ACCOUNT_KIND_CHANNEL_CLEARING
FEE_INCOME = account_pb2.ACCOUNT_KIND_FEE_INCOME
FROZEN = account_pb2.ACCOUNT_KIND_FROZEN


def channel_owner(key: str) -> str:
    """Owner of a channel-clearing account: ``key`` is a channel config key (an ifCode for
    orders older than the keys)."""
    return f"channel:{key}"


def clearing_owner(order: PayOrder) -> str:
    """The clearing account an order's money went through: its channel config's, else its
    channel interface's (orders made before the config key was snapshotted)."""
    return channel_owner(order.channel_config_key or order.if_code)


def value_date(moment: datetime | None) -> str:
    """The business day of ``moment`` in China Standard Time, "YYYY-MM-DD"; empty when
    unknown, which the ledger takes as the day it records the posting."""
    if moment is None:
        return ""
    return (moment.astimezone(UTC) + BILL_ZONE).strftime("%Y-%m-%d")


class LedgerEventFailed(Exception):
    """The ledger refused an event for good; the reason is its ErrorInfo reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


@dataclass(frozen=True)
class HeldPart:
    """One transfer of a refund hold: ``amount`` fen moved from a merchant account into its
    FROZEN account, valued on ``value_date``."""

    source_account_id: int
    frozen_account_id: int
    amount: int
    value_date: str


async def find_hold(ledger: account_pb2_grpc.AccountServiceStub, refund_order_id: str
                    ) -> list[HeldPart]:
    """The transfers of the refund's hold as the ledger recorded it; empty when there is none
    (never asked, or refused). A transient failure raises, a refusal is LedgerEventFailed."""
    try:
        found = await ledger.GetPostings(account_pb2.GetPostingsRequest(
            posting_ids=[HOLD_PREFIX + refund_order_id]), timeout=TIMEOUT_SECONDS)
    except grpc.aio.AioRpcError as error:
        raise _refusal_or_transient(error) from error
    return [HeldPart(t.transfer.debit_account_id, t.transfer.credit_account_id,
                     t.transfer.amount, t.transfer.value_date)
            for posting in found.postings
            if posting.status == account_pb2.POSTING_STATUS_POSTED
            for t in posting.transfers]


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
                await self.post_payment(order_id)
            elif topic == REFUND_SUCCEEDED:
                await self._refund_succeeded(order_id)
            elif topic in (REFUND_FAILED, REFUND_ABANDONED):
                await self._release(order_id)
        except LedgerEventFailed as failure:
            log.error("ledger event FAILED for good: %s %s refused by the ledger (%s); "
                      "needs an operator", topic, order_id, failure)

    async def post_payment(self, pay_order_id: str) -> None:
        """Posts (or replays) ``pay:<payOrderId>``; LedgerEventFailed when the ledger refuses."""
        order = await self._orders.get(pay_order_id)
        if order is None:
            raise LedgerEventFailed("ORDER_NOT_FOUND", f"no pay order {pay_order_id}")
        currency = order.currency.upper()
        clearing = await self._open(clearing_owner(order), currency, CLEARING)
        pending = await self._open(order.mch_no, currency, PENDING)
        fee_income = await self._open(PLATFORM_OWNER, currency, FEE_INCOME)
        memo, day = f"pay order {pay_order_id}", value_date(order.success_at)
        await self._post(f"pay:{pay_order_id}", [
            _transfer(clearing.account_id, pending.account_id, order.amount - order.fee_amount,
                      "PAY_SUCCESS", memo, day),
            _transfer(clearing.account_id, fee_income.account_id, order.fee_amount, "PAY_FEE",
                      memo, day)])

    async def _refund_succeeded(self, refund_order_id: str) -> None:
        refund = await self._refunds.get(refund_order_id)
        order = None if refund is None else await self._orders.get(refund.pay_order_id)
        if refund is None or order is None:
            raise LedgerEventFailed("ORDER_NOT_FOUND", f"no refund {refund_order_id} or its order")
        # The payment's posting first (a replay when it is in already): a refund delivered
        # while the payment's event still waits for a retry must not find pending empty.
        await self.post_payment(order.pay_order_id)
        succeeded = await self._refunds.succeeded_in_order(order.pay_order_id)
        ids = [r.refund_order_id for r in succeeded]
        if refund_order_id not in ids:
            raise LedgerEventFailed("REFUND_NOT_SUCCEEDED", f"refund {refund_order_id} has not "
                                    "succeeded")
        currency = order.currency.upper()
        clearing = await self._open(clearing_owner(order), currency, CLEARING)
        fee_income = await self._open(PLATFORM_OWNER, currency, FEE_INCOME)
        memo = f"refund {refund_order_id} of {order.pay_order_id}"
        day = value_date(refund.success_at)
        held = await find_hold(self._ledger, refund_order_id)
        if held:  # the merchant's share waits in FROZEN; the fee share is the rest
            amount = sum(part.amount for part in held)
            if amount > refund.refund_amount:
                raise LedgerEventFailed("HOLD_EXCEEDS_REFUND", f"refund {refund_order_id} of "
                                        f"{refund.refund_amount} fen holds {amount}")
            await self._post(f"refund:{refund_order_id}", [
                _transfer(held[0].frozen_account_id, clearing.account_id, amount, "REFUND",
                          memo, day),
                _transfer(fee_income.account_id, clearing.account_id,
                          refund.refund_amount - amount, "REFUND_FEE", memo, day)])
            return
        upto = succeeded[:ids.index(refund_order_id) + 1]
        share = 0 if order.refund_fee_rule == KEEP else refund_fee_shares(
            order.fee_amount, order.amount, [r.refund_amount for r in upto])[-1]
        source = await self._open(order.mch_no, currency, PENDING)
        net = refund.refund_amount - share
        if source.balance < net:  # settled already: the merchant's available funds pay it
            source = await self._open(order.mch_no, currency, AVAILABLE)
        await self._post(f"refund:{refund_order_id}", [
            _transfer(source.account_id, clearing.account_id, net, "REFUND", memo, day),
            _transfer(fee_income.account_id, clearing.account_id, share, "REFUND_FEE", memo,
                      day)])

    async def _release(self, refund_order_id: str) -> None:
        """Gives a failed, closed or abandoned refund's held money back where it came from."""
        held = await find_hold(self._ledger, refund_order_id)
        if not held:
            return
        memo = f"release of refund {refund_order_id}"
        await self._post(RELEASE_PREFIX + refund_order_id, [
            _transfer(part.frozen_account_id, part.source_account_id, part.amount,
                      "REFUND_RELEASE", memo, part.value_date)
            for part in held])

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


def _transfer(debit_account_id: int, credit_account_id: int, amount: int, code: str, memo: str,
              day: str) -> account_pb2.TransferRequest | None:
    """One transfer valued on ``day``, or None for a zero amount (the ledger refuses empty
    transfers)."""
    if amount == 0:
        return None
    return account_pb2.TransferRequest(debit_account_id=debit_account_id,
                                       credit_account_id=credit_account_id, amount=amount,
                                       code=code, memo=memo, value_date=day)


def _refusal_or_transient(error: grpc.aio.AioRpcError) -> Exception:
    """A final refusal (LedgerEventFailed) or the error itself, to be retried by the outbox."""
    reason = reason_of(error)
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
            or reason in _TRANSIENT_REASONS:
        return error
    assert reason is not None
    return LedgerEventFailed(reason, error.details() or "")
