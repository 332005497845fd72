"""Passage routing without a server: order of tries, weights, limits, disabled passages."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from paymesh.services.gateway.pay_context import Passage
from paymesh.services.gateway.routing import limit_day, passages_to_try


def passage(if_code: str, *, priority: int = 0, weight: int = 1, usable: bool = True,
            max_amount: int = 0) -> Passage:
    return Passage(way_code="WX_NATIVE", if_code=if_code, fee_rate="0", usable=usable,
                   channel_params_json="{}", priority=priority, weight=weight,
                   max_amount=max_amount)


def test_higher_priority_is_tried_first() -> None:
    order = passages_to_try([passage("sandbox", priority=1), passage("wxpay", priority=9),
                             passage("ysfpay", priority=5)], 100, random.Random(1))
    assert [p.if_code for p in order] == ["wxpay", "ysfpay", "sandbox"]


def test_disabled_passages_are_never_chosen() -> None:
    for seed in range(50):
        order = passages_to_try([passage("wxpay", priority=9, usable=False),
                                 passage("sandbox")], 100, random.Random(seed))
        assert [p.if_code for p in order] == ["sandbox"]


def test_per_order_limit_skips_a_passage() -> None:
    order = passages_to_try([passage("wxpay", priority=9, max_amount=1000),
                             passage("sandbox", max_amount=0)], 1001, random.Random(1))
    assert [p.if_code for p in order] == ["sandbox"]
    at_limit = passages_to_try([passage("wxpay", priority=9, max_amount=1000)], 1000)
    assert [p.if_code for p in at_limit] == ["wxpay"]


def test_weights_split_traffic_within_a_priority() -> None:
    rng = random.Random(20261121)
    firsts = Counter(passages_to_try([passage("wxpay", weight=3), passage("alipay", weight=1),
                                      passage("sandbox", priority=-1, weight=100)],
                                     100, rng)[0].if_code for _ in range(8000))
    assert set(firsts) == {"wxpay", "alipay"}  # the lower priority never comes first
    share = firsts["wxpay"] / 8000
    assert 0.72 < share < 0.78, share


def test_every_usable_passage_is_tried_once() -> None:
    passages = [passage(f"c{i}", priority=i % 3, weight=i + 1) for i in range(7)]
    for seed in range(20):
        order = passages_to_try(passages, 100, random.Random(seed))
        assert sorted(p.if_code for p in order) == sorted(p.if_code for p in passages)
        priorities = [p.priority for p in order]
        assert priorities == sorted(priorities, reverse=True)


def test_daily_limits_count_china_standard_time_days() -> None:
    assert limit_day(datetime(2026, 11, 21, 15, 59, tzinfo=UTC)) == "2026-11-21"
    assert limit_day(datetime(2026, 11, 21, 16, 0, tzinfo=UTC)) == "2026-11-22"
