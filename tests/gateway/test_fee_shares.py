"""The fee each refund gives back: shares of the order's fee that add up to it exactly."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.gateway.fees import merchant_fee, refund_fee_shares


@st.composite
def order_and_refunds(draw: st.DrawFn, full: bool) -> tuple[int, int, list[int]]:
    """(fee, amount, refunds): refunds summing to the amount when ``full``, at most it if not."""
    amount = draw(st.one_of(st.integers(1, 60), st.integers(1, 10**12)))
    fee = draw(st.one_of(st.integers(0, amount), st.just(merchant_fee(amount, "0.006"))))
    cuts = sorted(draw(st.sets(st.integers(1, amount - 1), max_size=60)) if amount > 1 else [])
    bounds = [0, *cuts, amount]
    refunds = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    if not full:
        refunds = refunds[:draw(st.integers(0, len(refunds)))]
    return fee, amount, refunds


@given(order_and_refunds(full=True))
def test_refunds_of_the_whole_amount_give_back_exactly_the_fee(
        case: tuple[int, int, list[int]]) -> None:
    fee, amount, refunds = case
    shares = refund_fee_shares(fee, amount, refunds)
    assert sum(shares) == fee
    assert all(0 <= share <= refund for share, refund in zip(shares, refunds, strict=True))


@given(order_and_refunds(full=False))
def test_partial_refunds_never_give_back_more_than_the_fee(
        case: tuple[int, int, list[int]]) -> None:
    fee, amount, refunds = case
    shares = refund_fee_shares(fee, amount, refunds)
    assert len(shares) == len(refunds)
    assert 0 <= sum(shares) <= fee
    assert all(0 <= share <= refund for share, refund in zip(shares, refunds, strict=True))
    # The fee returned so far is always the refunded proportion of the fee, rounded half up.
    for count in range(1, len(refunds) + 1):
        refunded = Fraction(fee * sum(refunds[:count]), amount)
        assert abs(sum(shares[:count]) - refunded) <= Fraction(1, 2)
    if refunds:  # the first share is its own proportion rounded half up
        assert shares[0] == int(Fraction(fee * refunds[0], amount) + Fraction(1, 2))


def test_the_worked_example_of_the_end_to_end_test() -> None:
    assert merchant_fee(1234, "0.006") == 7
    assert refund_fee_shares(7, 1234, [600, 634]) == [3, 4]  # 3.40 → 3, then the 4 left
    assert refund_fee_shares(7, 1234, [617]) == [4]  # 3.5 → 4 (half up)
    assert refund_fee_shares(2, 4, [1, 1, 1, 1]) == [1, 0, 1, 0]  # 0.5 → 1, 1 → 1, 1.5 → 2 …
    # Rounding each refund alone would leave 4 fen for the last refund of 1; never more than it.
    assert refund_fee_shares(4, 10, [1] * 10) == [0, 1, 0, 1, 0, 0, 1, 0, 1, 0]


@pytest.mark.parametrize(("fee", "amount", "refunds"), [
    (5, 0, []), (11, 10, [10]), (-1, 10, [10]), (1, 10, [0]), (1, 10, [6, 5])])
def test_impossible_orders_and_refunds_are_refused(fee: int, amount: int,
                                                  refunds: list[int]) -> None:
    with pytest.raises(ValueError):
        refund_fee_shares(fee, amount, refunds)
