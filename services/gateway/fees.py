"""The merchant fee snapshotted on an order, the channel's expected fee, and refund fee shares.

Merchant fee (money-and-reconciliation §5.2): a passage's ``FeeModel`` is copied onto every
order it takes, with the fee it gives, so a later change of the passage never rewrites history::

    raw = amount × rate                       (Decimal, exact)
    fee = round(raw, rounding) + fixed        (HALF_UP, or CEILING: any fraction of a fen up)
    fee = max(fee, floor)  if floor set       (0 means not set)
    fee = min(fee, cap)    if cap set         (0 means not set)
    fee = min(fee, amount), never below 0

The channel fee is what the channel should charge the platform at the passage's cost rate,
rounded half up; unknown (None) when the passage gives no cost rate.

Fee share rule: a refund returns its proportion ``fee × refund / amount`` of the order's fee,
rounded half up on the cumulative refunded amount, i.e. ``round_half_up(fee × refunded_after /
amount)`` minus the fee already returned. For a first refund that is exactly its own proportion
rounded half up; later ones differ by at most one fen, so rounding never drifts, and the refund
that completes the order's amount returns exactly whatever fee is left. Rounding each refund on
its own instead can leave more fee than the last refund is worth (fee 4 on 10, ten refunds of 1:
nine shares of 0, then 4 on a refund of 1). So: shares sum to the fee exactly over any split of
the amount, each share lies between 0 and its refund, and a partial sequence never returns more.
An order whose refund rule is KEEP returns nothing (the ledger consumer applies the rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, Inexact, localcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from paymesh.services.gateway.models import PayOrder

# Stored codes (pay_order.fee_rounding, pay_order.refund_fee_rule), as the proto enums number them.
HALF_UP = 1
CEILING = 2
RETURN_PRO_RATA = 1
KEEP = 2
_ROUNDING_MODES = {HALF_UP: ROUND_HALF_UP, CEILING: ROUND_CEILING}


@dataclass(frozen=True)
class FeeModel:
    """A passage's merchant fee model: rate (decimal text), fixed, floor and cap in fen (0 for
    floor or cap: none), rounding and refund rule codes, and the channel's cost rate (None when
    unknown)."""

    rate: str
    fixed: int = 0
    floor: int = 0
    cap: int = 0
    rounding: int = HALF_UP
    refund_rule: int = RETURN_PRO_RATA
    channel_cost_rate: str | None = None

    @classmethod
    def of_order(cls, order: PayOrder) -> FeeModel:
        """The model snapshotted on an order (orders older than the snapshot: rate only)."""
        return cls(rate=order.fee_rate or "0", fixed=order.fee_fixed or 0,
                   floor=order.fee_floor or 0, cap=order.fee_cap or 0,
                   rounding=order.fee_rounding or HALF_UP,
                   refund_rule=order.refund_fee_rule or RETURN_PRO_RATA,
                   channel_cost_rate=order.channel_cost_rate or None)

    def order_columns(self, amount: int) -> dict[str, object]:
        """The pay_order columns that snapshot this model and its fees for ``amount`` fen."""
        return {"fee_rate": self.rate, "fee_amount": merchant_fee(amount, self),
                "fee_fixed": self.fixed, "fee_floor": self.floor, "fee_cap": self.cap,
                "fee_rounding": self.rounding, "refund_fee_rule": self.refund_rule,
                "channel_cost_rate": self.channel_cost_rate,
                "channel_fee_amount": channel_fee(amount, self.channel_cost_rate)}


def merchant_fee(amount: int, model: FeeModel | str) -> int:
    """Fee in fen for ``amount`` fen under ``model`` (§5.2); a bare rate text means rate only."""
    if isinstance(model, str):
        model = FeeModel(model)
    fee = _times_rate(amount, model.rate, _ROUNDING_MODES[model.rounding]) + model.fixed
    if model.floor > 0:
        fee = max(fee, model.floor)
    if model.cap > 0:
        fee = min(fee, model.cap)
    return max(0, min(fee, amount))


def channel_fee(amount: int, cost_rate: str | None) -> int | None:
    """What the channel should charge for ``amount`` fen at ``cost_rate``, half up; None when
    the cost rate is unknown (None or empty)."""
    if not cost_rate:
        return None
    return _times_rate(amount, cost_rate, ROUND_HALF_UP)


def _times_rate(amount: int, rate: str, rounding: str) -> int:
    """``amount × rate`` rounded to whole fen by ``rounding``, computed exactly.

    The precision covers every digit of the product, and Inexact is trapped, so a rate with any
    number of places is never rounded before the one rounding that is meant.
    """
    factor = Decimal(rate)
    if not factor.is_finite():
        raise ValueError(f"fee rate {rate!r} is not a finite decimal")
    with localcontext() as context:
        context.prec = len(str(abs(amount))) + len(factor.as_tuple().digits) + 2
        context.traps[Inexact] = True
        raw = Decimal(amount) * factor
    return int(raw.quantize(Decimal(1), rounding=rounding))


def refund_fee_shares(fee: int, amount: int, refunds: Sequence[int]) -> list[int]:
    """The fee share in fen of each refund of an order, in the order they succeeded.

    ``fee`` and ``amount`` are the order's (fen, 0 ≤ fee ≤ amount, amount ≥ 1); ``refunds`` are
    the successful refund amounts, each ≥ 1, summing to at most ``amount``.
    """
    if amount < 1 or not 0 <= fee <= amount:
        raise ValueError(f"fee {fee} and amount {amount} are not an order's")
    if any(r < 1 for r in refunds) or sum(refunds) > amount:
        raise ValueError(f"refunds {list(refunds)} do not fit an order of {amount}")
    shares: list[int] = []
    refunded = returned = 0
    for refund in refunds:
        refunded += refund
        due = (2 * fee * refunded + amount) // (2 * amount)  # exact integer half-up rounding
        shares.append(due - returned)
        returned = due
    return shares
