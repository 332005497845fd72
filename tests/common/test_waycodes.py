"""AUTO_BAR classification of payer codes by their number pattern."""

from __future__ import annotations

import pytest

from paymesh.services.common.waycodes import classify_barcode


@pytest.mark.parametrize(("code", "expected"), [
    ("134567890123456789", "WX_BAR"),            # 18 digits, 13
    ("104567890123456789", "WX_BAR"),            # prefix 10
    ("154567890123456789", "WX_BAR"),            # prefix 15
    ("2845678901234567", "ALI_BAR"),             # 16 digits, 28
    ("254567890123456789012345", "ALI_BAR"),     # 24 digits, 25
    ("304567890123456789", "ALI_BAR"),           # 18 digits, 30: not WeChat (prefix > 15)
    ("6212345678901234567", "YSF_BAR"),          # 19 digits, 62
    ("164567890123456789", None),                # 18 digits, 16: nobody's
    ("13456789012345678", None),                 # 17 digits, 13
    ("2445678901234567", None),                  # prefix 24
    ("3145678901234567", None),                  # prefix 31
    ("621234567890123456", None),                # 18 digits, 62
    ("2545678901234567890123456", None),         # 25 digits, 25
    ("13456789012345678x", None),                # not digits
    ("１３４５６７８９０１２３４５６７８９", None),  # full-width digits
])
def test_classification(code: str, expected: str | None) -> None:
    assert classify_barcode(code) == expected
