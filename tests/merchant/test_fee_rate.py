"""Fee rates: decimal strings only, 0 <= rate < 1, at most 6 places, stored normalized."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.common.errors import InvalidArgument
from paymesh.services.merchant.validation import parse_fee_rate


@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=0, max_value=4))
def test_every_rate_below_one_with_six_places_round_trips(millionths: int, zeros: int) -> None:
    rate = Decimal(millionths).scaleb(-6)
    text = format(rate, "f") + "0" * zeros if "." in format(rate, "f") else format(rate, "f")
    stored = parse_fee_rate(text)
    assert Decimal(stored) == rate
    assert stored == "0" or not stored.endswith("0")  # normalized: no trailing zeros
    assert parse_fee_rate(stored) == stored


@given(st.integers(min_value=1, max_value=10**9))
def test_a_seventh_decimal_place_is_refused(tail: int) -> None:
    rate = Decimal(tail * 10 + 1).scaleb(-6 - len(str(tail)))  # 7+ places, last one non-zero
    with pytest.raises(InvalidArgument) as caught:
        parse_fee_rate(format(rate, "f"))
    assert caught.value.field == "fee_rate"


@pytest.mark.parametrize("text", ["1", "1.000000", "2", "-0", "+0.1", ".5", "0.", "1e-3",
                                  "Infinity", "NaN", "0,006", "0.6%", "١"])
def test_malformed_or_out_of_range_rates_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_fee_rate(text)
    assert caught.value.field == "fee_rate"
