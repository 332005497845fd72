"""Passage routing: which channels to try for an order, in which order.

Enabled passages whose channel config is enabled and whose per-order limit admits the amount are
tried by priority (highest first); within one priority, a weighted random order, so traffic splits
by weight and a refused passage falls through to the next. Daily limits are checked when a passage
is about to be used, by reserving the amount in the gateway's database.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from paymesh.services.gateway.pay_context import Passage

# Daily limits count calendar days in China Standard Time, as the channels' bills do.
BILL_ZONE = timedelta(hours=8)


def passages_to_try(passages: Iterable[Passage], amount: int,
                    rng: random.Random | None = None) -> list[Passage]:
    """The usable passages for ``amount`` fen, in the order to try them."""
    rng = rng or random.Random()
    usable = [p for p in passages
              if p.usable and (p.max_amount <= 0 or amount <= p.max_amount)]
    ordered: list[Passage] = []
    for priority in sorted({p.priority for p in usable}, reverse=True):
        ordered += weighted_order([p for p in usable if p.priority == priority], rng)
    return ordered


def weighted_order(passages: Sequence[Passage], rng: random.Random) -> list[Passage]:
    """A random order where each passage comes first with probability weight / total weight.

    Efraimidis-Spirakis: sort by u^(1/w) for u uniform in (0, 1].
    """
    keyed = [((1.0 - rng.random()) ** (1.0 / max(1, p.weight)), p) for p in passages]
    return [p for _, p in sorted(keyed, key=lambda item: item[0], reverse=True)]


def limit_day(now: datetime | None = None) -> str:
    """The calendar day (UTC+8) a daily limit counts against, as YYYY-MM-DD."""
    moment = (now or datetime.now(UTC)).astimezone(UTC) + BILL_ZONE
    return moment.strftime("%Y-%m-%d")
