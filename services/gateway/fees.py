"""The merchant fee snapshotted on an order: rate × amount, rounded half up to whole fen."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def merchant_fee(amount: int, rate: str) -> int:
    """Fee in fen for ``amount`` fen at decimal ``rate`` (e.g. "0.006")."""
    return int((Decimal(amount) * Decimal(rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
