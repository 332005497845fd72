"""The merchant fee of money-and-reconciliation §5.2, the channel fee, and the order snapshot."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.gateway.fees import (
    CEILING,
    HALF_UP,
    KEEP,
    RETURN_PRO_RATA,
    FeeModel,
    channel_fee,
    merchant_fee,
)
from paymesh.services.gateway.models import PayOrder

# The table of §5.2: amount, rate, fixed, floor, cap (0: not set), HALF_UP fee, CEILING fee.
TABLE = [
    (10000, "0.0055", 0, 0, 0, 55, 55),
    (1, "0.0055", 0, 0, 0, 0, 1),
    (99, "0.006", 0, 0, 0, 1, 1),
    (100, "0.006", 0, 1, 0, 1, 1),
    (5000000, "0.006", 0, 0, 2000, 2000, 2000),
    (10000, "0.003", 10, 0, 0, 40, 40),
]
MAX_AMOUNT = 99_999_999_999


@pytest.mark.parametrize(("amount", "rate", "fixed", "floor", "cap", "half_up", "ceiling"), TABLE)
@pytest.mark.parametrize("rounding", [HALF_UP, CEILING])
def test_the_worked_examples_of_the_reference(amount: int, rate: str, fixed: int, floor: int,
                                              cap: int, half_up: int, ceiling: int,
                                              rounding: int) -> None:
    model = FeeModel(rate, fixed=fixed, floor=floor, cap=cap, rounding=rounding)
    assert merchant_fee(amount, model) == (half_up if rounding == HALF_UP else ceiling)


@pytest.mark.parametrize(("amount", "model", "fee"), [
    (149, FeeModel("0.01"), 1),                            # 1.49 → 1
    (150, FeeModel("0.01"), 2),                            # 1.50 → 2 (half up)
    (101, FeeModel("0.01", rounding=CEILING), 2),          # 1.01 → 2
    (10, FeeModel("0.5", fixed=20), 10),                   # never more than the amount
    (50, FeeModel("0", floor=100), 50),                    # a floor above the amount: amount
    (10000, FeeModel("0.006", floor=100, cap=80), 80),     # the cap is applied after the floor
    (10000, FeeModel("0.003", fixed=10, cap=35), 35),      # fixed counts towards the cap
    (0, FeeModel("0.006", fixed=10, floor=5), 0),          # nothing to take a fee from
])
def test_floor_cap_fixed_and_amount_in_the_reference_order(amount: int, model: FeeModel,
                                                           fee: int) -> None:
    assert merchant_fee(amount, model) == fee


def test_a_bare_rate_is_the_rate_only_model() -> None:
    assert merchant_fee(1234, "0.006") == merchant_fee(1234, FeeModel("0.006")) == 7


def test_rates_with_more_digits_than_decimal_precision_are_not_rounded_early() -> None:
    # 3 × 0.1666…6 (35 sixes) = 0.4999…98: half up gives 0; rounded to 28 digits first it would
    # read 0.5 and give 1. Likewise 1.0…02 must ceil to 2, not to 1.
    assert merchant_fee(3, FeeModel("0." + "1" + "6" * 34)) == 0
    assert merchant_fee(3, FeeModel("0." + "3" * 34 + "4", rounding=CEILING)) == 2
    assert channel_fee(3, "0." + "1" + "6" * 34) == 0


rates = st.one_of(
    st.decimals(min_value=0, max_value=Decimal("0.999999"), places=6),
    st.builds(lambda digits: Decimal("0." + digits),
              st.text("0123456789", min_size=1, max_size=40)),
).map(lambda d: format(d, "f"))
amounts = st.integers(0, MAX_AMOUNT)
fen = st.integers(0, 10**8)


@st.composite
def models(draw: st.DrawFn, plain: bool = False) -> FeeModel:
    rate = draw(rates)
    if plain:
        return FeeModel(rate, rounding=draw(st.sampled_from([HALF_UP, CEILING])))
    floor = draw(st.one_of(st.just(0), fen))
    cap = draw(st.one_of(st.just(0), st.integers(floor, floor + 10**8)))
    return FeeModel(rate, fixed=draw(fen), floor=floor, cap=cap,
                    rounding=draw(st.sampled_from([HALF_UP, CEILING])))


def exact(amount: int, model: FeeModel) -> int:
    """§5.2 with fractions: an independent statement of the formula."""
    raw = amount * Fraction(Decimal(model.rate))
    fee = math.ceil(raw) if model.rounding == CEILING else math.floor(raw + Fraction(1, 2))
    fee += model.fixed
    if model.floor:
        fee = max(fee, model.floor)
    if model.cap:
        fee = min(fee, model.cap)
    return max(0, min(fee, amount))


@given(amounts, models())
def test_the_fee_is_exactly_the_formula_and_between_zero_and_the_amount(
        amount: int, model: FeeModel) -> None:
    fee = merchant_fee(amount, model)
    assert fee == exact(amount, model)
    assert 0 <= fee <= amount


@given(amounts, models())
def test_ceiling_never_charges_less_than_half_up(amount: int, model: FeeModel) -> None:
    half_up = FeeModel(model.rate, model.fixed, model.floor, model.cap, HALF_UP)
    ceiling = FeeModel(model.rate, model.fixed, model.floor, model.cap, CEILING)
    assert merchant_fee(amount, ceiling) >= merchant_fee(amount, half_up)
    assert merchant_fee(amount, ceiling) - merchant_fee(amount, half_up) <= 1


@given(amounts, amounts, models(plain=True))
def test_a_larger_amount_never_pays_a_smaller_percentage_fee(a: int, b: int,
                                                             model: FeeModel) -> None:
    low, high = sorted((a, b))
    assert merchant_fee(low, model) <= merchant_fee(high, model)


@given(amounts, models())
def test_cap_and_floor_bound_the_fee(amount: int, model: FeeModel) -> None:
    fee = merchant_fee(amount, model)
    if model.cap:
        assert fee <= model.cap
    if model.floor:
        assert fee >= min(model.floor, amount)


@given(amounts, rates)
def test_the_channel_fee_is_the_cost_rate_rounded_half_up(amount: int, rate: str) -> None:
    expected = math.floor(amount * Fraction(Decimal(rate)) + Fraction(1, 2))
    assert channel_fee(amount, rate) == expected


@pytest.mark.parametrize(("amount", "rate", "fee"), [
    (10000, "0.0038", 38), (1234, "0.0038", 5), (125, "0.004", 1), (124, "0.004", 0),
    (1234, None, None), (1234, "", None)])
def test_channel_fee_examples_and_unknown_cost_rates(amount: int, rate: str | None,
                                                     fee: int | None) -> None:
    assert channel_fee(amount, rate) == fee


@given(st.integers(1, MAX_AMOUNT), models(),
       st.sampled_from([RETURN_PRO_RATA, KEEP]), st.one_of(st.none(), rates))
def test_an_order_snapshot_gives_back_the_model_and_its_fees(
        amount: int, model: FeeModel, refund_rule: int, cost_rate: str | None) -> None:
    model = FeeModel(model.rate, model.fixed, model.floor, model.cap, model.rounding,
                     refund_rule, cost_rate)
    columns = model.order_columns(amount)
    assert columns["fee_amount"] == merchant_fee(amount, model)
    assert columns["channel_fee_amount"] == channel_fee(amount, cost_rate)
    assert FeeModel.of_order(PayOrder(amount=amount, **columns)) == model


def test_orders_from_before_the_snapshot_read_as_their_rate_alone() -> None:
    order = PayOrder(amount=1234, fee_rate="0.006", fee_amount=7)  # columns never written
    assert FeeModel.of_order(order) == FeeModel("0.006")
