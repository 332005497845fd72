"""The merchant fee snapshotted on an order, and the share of it each refund gives back.

Fee share rule: a refund returns its proportion ``fee × refund / amount`` of the order's fee,
rounded half up on the cumulative refunded amount, i.e. ``round_half_up(fee × refunded_after /
amount)`` minus the fee already returned. For a first refund that is exactly its own proportion
rounded half up; later ones differ by at most one fen, so rounding never drifts, and the refund
that completes the order's amount returns exactly whatever fee is left. Rounding each refund on
its own instead can leave more fee than the last refund is worth (fee 4 on 10, ten refunds of 1:
nine shares of 0, then 4 on a refund of 1). So: shares sum to the fee exactly over any split of
the amount, each share lies between 0 and its refund, and a partial sequence never returns more.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def merchant_fee(amount: int, rate: str) -> int:
    """Fee in fen for ``amount`` fen at decimal ``rate`` (e.g. "0.006")."""
    return int((Decimal(amount) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
