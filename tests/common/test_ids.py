"""Identifiers: time-ordered snowflakes and JeePay-shaped merchant and app ids."""

from __future__ import annotations

import re

from paymesh.services.common.ids import SnowflakeIds, app_id, app_secret, merchant_no


def test_snowflake_ids_strictly_increase() -> None:
    ids = SnowflakeIds(worker=7)
    values = [ids.next() for _ in range(10_000)]
    assert all(a < b for a, b in zip(values, values[1:], strict=False))
    assert all(0 < v < 2**63 for v in values)


def test_snowflake_ids_are_unique_across_workers() -> None:
    first, second = SnowflakeIds(worker=1), SnowflakeIds(worker=2)
    values = []
    for _ in range(5_000):
        values.append(first.next())
        values.append(second.next())
    assert len(set(values)) == len(values)


def test_snowflake_ids_carry_the_worker() -> None:
    assert (SnowflakeIds(worker=0x2A5).next() >> 12) & 0x3FF == 0x2A5


def test_app_id_is_24_lower_case_hex() -> None:
    values = {app_id() for _ in range(200)}
    assert len(values) == 200
    assert all(re.fullmatch(r"[0-9a-f]{24}", v) for v in values)


def test_app_secret_is_128_alphanumerics() -> None:
    values = {app_secret() for _ in range(50)}
    assert len(values) == 50
    assert all(re.fullmatch(r"[A-Za-z0-9]{128}", v) for v in values)


def test_merchant_no_is_m_and_12_digits() -> None:
    values = [merchant_no() for _ in range(200)]
    assert all(re.fullmatch(r"M[0-9]{12}", v) for v in values)
    assert len(set(values)) > 150
