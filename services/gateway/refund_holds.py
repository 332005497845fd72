"""Refund holds (退款冻结): a refund's money set aside in the ledger before the channel is asked.

A refund is not a payment: the merchant must have the money, and a ledger that learns of a
refund only after the channel paid it out can find nothing left to take (funds settled and
withdrawn, or a fee the order keeps). So when the gateway accepts a refund — its amount reserved
on the pay order and the refund stored — and before it calls the channel, it posts
``refund-hold:<refundOrderId>`` (code REFUND_HOLD): the refund's net, that is the refund less
the fee share it will return (``fees.refund_fee_shares`` over the order's earlier successful
refunds and this one, exactly as the ledger consumer computes it; under KEEP the whole refund),
from the merchant's PENDING account first and its AVAILABLE account for what pending lacks, into
its FROZEN account: one transfer per source, valued on the day the refund was asked (UTC+8). The
payment's own posting is made (or replayed) first, so a refund asked right after the payment
finds its money. The merchant's answer waits for this call: a refund may depend on the ledger.

How a hold ends is in ledger_events: the refund's success moves the held amount from FROZEN to
the channel's clearing account (``refund:<id>``); its failure, closure or abandonment moves each
held amount back where it came from (``refund-release:<id>``). Both read the hold back from the
ledger by its id, so nothing about it is stored in the gateway and a crash at any point heals:
a refund held but never sent to the channel stays INIT until the merchant's retry with the same
mchRefundNo, or the refund sweep after a minute, resumes it (the hold is then replayed, and the
channel is asked under the same refund id); a refund that ends failed or closed has its
``refund.failed`` event release the hold.

``HoldRefused``: the ledger refused the hold (INSUFFICIENT_FUNDS, an account's freeze mode...),
recorded for good under its id. ``LedgerUnavailable``: the ledger could not be reached or did not
answer in time; the hold may have been recorded all the same (only the answer was lost), which is
why the caller undoes the refund with a ``refund.abandoned`` event that releases whatever was held.
Two concurrent holds of one merchant are serialised by the ledger's account locks, so together
they can never take more than the merchant has; one that read the balances before the other
posted may be refused although the two sources together would have covered it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import grpc

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.services.common.errors import reason_of
from paymesh.services.gateway.fees import KEEP, refund_fee_shares
from paymesh.services.gateway.ledger_events import (
    AVAILABLE,
    FROZEN,
    HOLD_PREFIX,
    PENDING,
    TIMEOUT_SECONDS,
    LedgerEventFailed,
    LedgerEvents,
    find_hold,
    value_date,
)
from paymesh.services.gateway.models import PayOrder, RefundOrder

log = logging.getLogger(__name__)
REFUND_HOLD = "REFUND_HOLD"
_UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)


class HoldRefused(Exception):
    """The ledger refused the hold; ``reason`` is its ErrorInfo reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason


class LedgerUnavailable(Exception):
    """The ledger could not be asked, or did not answer: whether it holds is unknown."""


def hold_amount(order: PayOrder, refund_amount: int, earlier: Sequence[int]) -> int:
    """What a refund of ``refund_amount`` takes from the merchant, in fen: the refund less the
    fee share it returns, after the order's ``earlier`` successful refunds (in the order they
    succeeded); the whole refund when the order keeps its fee."""
    if order.refund_fee_rule == KEEP:
        return refund_amount
    return refund_amount - refund_fee_shares(order.fee_amount, order.amount,
                                             [*earlier, refund_amount])[-1]


class RefundHolds:
    """Posts a refund's hold in the ledger; see the module docs."""

    def __init__(self, ledger: account_pb2_grpc.AccountServiceStub, events: LedgerEvents
                 ) -> None:
        self._ledger = ledger
        self._events = events

    async def hold(self, order: PayOrder, refund: RefundOrder, earlier: Sequence[int]) -> int:
        """Holds the refund's net and returns it (0: nothing to hold); raises HoldRefused or
        LedgerUnavailable."""
        amount = hold_amount(order, refund.refund_amount, earlier)
        if amount == 0:  # the fee share is the whole refund: nothing of the merchant's moves
            return 0
        posting_id = HOLD_PREFIX + refund.refund_order_id
        try:
            try:
                await self._events.post_payment(order.pay_order_id)
            except LedgerEventFailed as failure:  # logged by the outbox too; the hold decides
                log.warning("payment %s is not in the ledger (%s); holding refund %s anyway",
                            order.pay_order_id, failure, refund.refund_order_id)
            transfers = await self._transfers(order, refund, amount)
            await self._ledger.Post(account_pb2.PostRequest(posting_id=posting_id,
                                                            transfers=transfers),
                                    timeout=TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            reason = reason_of(error)
            if reason == "POSTING_ID_REUSED":  # an earlier attempt recorded it, other balances
                held = await self._held(refund.refund_order_id)
                if held:
                    return held
            if error.code() in _UNAVAILABLE or reason in (None, "INTERNAL"):
                raise LedgerUnavailable(f"{error.code().name}: {error.details()}") from error
            raise HoldRefused(reason or error.code().name, error.details() or "") from error
        except LedgerEventFailed as failure:  # opening an account was refused
            raise HoldRefused(failure.reason, str(failure)) from failure
        return amount

    async def _transfers(self, order: PayOrder, refund: RefundOrder, amount: int
                         ) -> list[account_pb2.TransferRequest]:
        """PENDING → FROZEN for what pending holds, AVAILABLE → FROZEN for the rest."""
        currency, owner = order.currency.upper(), order.mch_no
        pending = await self._open(owner, currency, PENDING)
        frozen = await self._open(owner, currency, FROZEN)
        sources = []
        from_pending = min(max(pending.balance, 0), amount)
        if from_pending:
            sources.append((pending.account_id, from_pending))
        if amount > from_pending:
            available = await self._open(owner, currency, AVAILABLE)
            sources.append((available.account_id, amount - from_pending))
        memo = f"hold for refund {refund.refund_order_id} of {order.pay_order_id}"
        day = value_date(refund.created_at)
        return [account_pb2.TransferRequest(debit_account_id=source,
                                            credit_account_id=frozen.account_id, amount=part,
                                            code=REFUND_HOLD, memo=memo, value_date=day)
                for source, part in sources]

    async def _open(self, owner: str, currency: str, kind: int) -> account_pb2.Account:
        opened = await self._ledger.OpenAccount(account_pb2.OpenAccountRequest(
            owner=owner, currency=currency, kind=kind), timeout=TIMEOUT_SECONDS)
        return opened.account

    async def _held(self, refund_order_id: str) -> int:
        try:
            return sum(part.amount for part in await find_hold(self._ledger, refund_order_id))
        except (grpc.aio.AioRpcError, LedgerEventFailed) as error:
            raise LedgerUnavailable(str(error)) from error
