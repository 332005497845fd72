"""The matcher alone: every mistake type for payments and refunds, clean matches, records of
another day found by lookup, the pool's clearing and expiry, and partitions bounding memory."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from paymesh.channel.v1 import channel_pb2 as ch
from paymesh.gateway.v1 import gateway_pb2 as gw
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.peers import ChannelConfig, GrpcSources, Peers
from tests.reconciliation.conftest import (
    CONFIG_KEY,
    FAILED,
    MCH_NO,
    PROCESSING,
    FakeChannel,
    FakeGateway,
    pay,
    refund,
    row,
)

DAY = "2024-06-01"


class ListSources:
    """MatchSources over lists; ``others`` are records only a lookup finds."""

    def __init__(self, bill: list[ch.BillRow], day: list[gw.PlatformRecord],
                 others: Sequence[gw.PlatformRecord] = (), batch: int = 300) -> None:
        self._bill, self._day, self._batch = bill, day, batch
        self._all = {(r.kind, r.refund_order_id or r.pay_order_id): r for r in [*day, *others]}
        self.lookups: list[tuple[list[str], list[str]]] = []

    async def bill(self, partitions: int = 0) -> AsyncIterator[Sequence[Any]]:
        for first in range(0, len(self._bill), self._batch):
            yield self._bill[first:first + self._batch]

    async def platform(self, partitions: int = 0) -> AsyncIterator[Sequence[Any]]:
        for first in range(0, len(self._day), self._batch):
            yield self._day[first:first + self._batch]

    async def lookup(self, pay_ids: Sequence[str], refund_ids: Sequence[str]) -> Sequence[Any]:
        self.lookups.append((list(pay_ids), list(refund_ids)))
        return [self._all[(1, i)] for i in pay_ids if (1, i) in self._all] + \
            [self._all[(2, i)] for i in refund_ids if (2, i) in self._all]


class MemoryPool:
    """CarryOver in memory: pool entries as platform rows with their origin day."""

    def __init__(self, entries: Sequence[tuple[str, gw.PlatformRecord]] = (),
                 ahead: Sequence[tuple[int, str]] = ()) -> None:
        self.entries = {(r.kind, r.refund_order_id or r.pay_order_id): (day, m.platform_row(r))
                        for day, r in entries}
        self.ahead = set(ahead)

    async def pooled(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        return {k for k in keys if k in self.entries}

    async def matched_ahead(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        return {k for k in keys if k in self.ahead}

    async def expiring(self, through: str) -> AsyncIterator[list[m.Row]]:
        yield [entry for day, entry in self.entries.values() if day <= through]


class Unpartitioned:
    """GrpcSources asking for columns but no partitions (the matcher partitions them)."""

    def __init__(self, inner: GrpcSources) -> None:
        self._inner = inner

    def bill(self, partitions: int = 0) -> AsyncIterator[Any]:
        return self._inner.bill(0)

    def platform(self, partitions: int = 0) -> AsyncIterator[Any]:
        return self._inner.platform(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


# How the sources give their rows: row messages (ListSources), or through GrpcSources over
# the test doubles of the channel and the gateway: columns the matcher partitions, or chunks
# the services grouped by partition themselves.
FORMS = ("rows", "columns", "chunks")


def sources_of(form: str, bill: list[ch.BillRow], day: list[gw.PlatformRecord],
               others: Sequence[gw.PlatformRecord], bill_date: str) -> Any:
    if form == "rows":
        return ListSources(bill, day, others)
    channel, gateway = FakeChannel(batch=3), FakeGateway()
    channel.bills[bill_date] = bill
    gateway.add(*day, *others)
    sources = GrpcSources(Peers(None, channel, gateway, None),
                          ChannelConfig(CONFIG_KEY, "wxpay", True, MCH_NO, "{}"), bill_date)
    return sources if form == "chunks" else Unpartitioned(sources)


async def run(tmp_path: Path, bill: list[ch.BillRow], day: list[gw.PlatformRecord],
              others: Sequence[gw.PlatformRecord] = (), pool: MemoryPool | None = None,
              partitions: int = 4, bill_date: str = DAY, config_key: str = "",
              form: str = "rows") -> tuple[m.MatchStats, list[m.Row]]:
    sources = sources_of(form, bill, day, others, bill_date)
    matcher = m.Matcher(bill_date, sources, pool or MemoryPool(), partitions, tmp_path,
                        config_key=config_key)
    outcome = await matcher.run()
    try:
        rows = [r for chunk in outcome.results() for r in chunk]
    finally:
        outcome.cleanup()
    assert not list(tmp_path.iterdir()), "the run's files are removed"
    return outcome.stats, rows


def mistakes(rows: list[m.Row]) -> set[tuple[str, int, str]]:
    return {(r[1], r[2], r[3]) for r in rows if r[0] == m.MISTAKE}


def tagged(rows: list[m.Row], tag: str) -> list[m.Row]:
    return [r for r in rows if r[0] == tag]


@pytest.mark.parametrize("form", FORMS)
async def test_clean_day_matches_everything_and_counts_both_sides(tmp_path: Path,
                                                                  form: str) -> None:
    day = [pay("P1", 10000, channel_fee=60), pay("P2", 500), refund("R1", "P1", 3000),
           pay("P3", 800, state=6, paid=False)]  # closed, never paid, not in the bill: fine
    bill = [row("P1", 10000, fee=60), row("P2", 500, fee=3),
            row("P1", 3000, refund_order_id="R1", fee=-18)]
    stats, rows = await run(tmp_path, bill, day, form=form)
    assert mistakes(rows) == set()
    assert stats.matched == 3 and stats.mistakes == 0
    assert (stats.channel.pay_count, stats.channel.pay_amount) == (2, 10500)
    assert (stats.channel.refund_count, stats.channel.refund_amount) == (1, 3000)
    assert stats.channel.fee == 60 + 3 - 18
    assert (stats.platform.pay_count, stats.platform.pay_amount) == (2, 10500)
    assert (stats.platform.refund_count, stats.platform.refund_amount, stats.platform.fee) == \
        (1, 3000, 60)
    assert (stats.bill_rows, stats.platform_records) == (3, 4)


@pytest.mark.parametrize("form", FORMS)
async def test_one_mistake_of_every_type_for_payments_and_refunds(tmp_path: Path,
                                                                  form: str) -> None:
    day = [
        pay("P01", 1000, channel_fee=6),                 # match
        pay("P02", 2000),                                # not in the bill: pooled, not a mistake
        pay("P03", 3000, state=6, paid=False),           # closed, channel paid: short status
        pay("P04", 4000),                                # channel FAILED: over status
        pay("P05", 5000),                                # channel 5100: short cash
        pay("P06", 6000),                                # channel 5900: over cash
        pay("P07", 7000, channel_fee=42),                # channel fee 43: fee mismatch
        pay("P08", 8000),                                # no channel fee expected: no check
        refund("R03", "P01", 300, state=1),              # refund pending, channel paid it
        refund("R04", "P01", 400),                       # refund succeeded, channel FAILED
        refund("R05", "P05", 500),                       # channel refunded 600
        refund("R06", "P06", 600),                       # channel refunded 500
        refund("R07", "P07", 700),                       # channel refund still PROCESSING
        refund("R02", "P08", 200),                       # not in the bill: pooled
    ]
    bill = [
        row("P01", 1000, fee=6), row("P03", 3000), row("P04", 4000, status=FAILED),
        row("P05", 5100), row("P06", 5900), row("P07", 7000, fee=43), row("P08", 8000, fee=48),
        row("P99", 990),                                 # unknown to the platform
        row("P98", 990, status=FAILED),                  # unknown but failed: ignored
        row("P01", 300, refund_order_id="R03"),
        row("P01", 400, refund_order_id="R04", status=FAILED),
        row("P05", 600, refund_order_id="R05"), row("P06", 500, refund_order_id="R06"),
        row("P07", 700, refund_order_id="R07", status=PROCESSING),
        row("P01", 100, refund_order_id="R99"),          # a refund unknown to the platform
    ]
    stats, rows = await run(tmp_path, bill, day, form=form)
    assert mistakes(rows) == {
        (m.SHORT_STATUS, 1, "P03"), (m.OVER_STATUS, 1, "P04"), (m.SHORT_CASH, 1, "P05"),
        (m.OVER_CASH, 1, "P06"), (m.FEE_MISMATCH, 1, "P07"), (m.PLATFORM_MISS, 1, "P99"),
        (m.SHORT_STATUS, 2, "R03"), (m.OVER_STATUS, 2, "R04"), (m.SHORT_CASH, 2, "R05"),
        (m.OVER_CASH, 2, "R06"), (m.OVER_STATUS, 2, "R07"), (m.PLATFORM_MISS, 2, "R99")}
    assert {(r[1][m.R_KIND], r[1][m.R_KEY]) for r in tagged(rows, m.POOLED)} == \
        {(1, "P02"), (2, "R02")}
    assert stats.matched == 2  # P01, P08
    miss = next(r for r in rows if r[0] == m.MISTAKE and r[3] == "P99")
    assert miss[5] is None and miss[6][m.B_AMOUNT] == 990  # no platform side, the bill's row


async def test_status_and_cash_mistakes_of_one_record_are_both_found(tmp_path: Path) -> None:
    day = [pay("P1", 1000, state=6, paid=False)]
    _, rows = await run(tmp_path, [row("P1", 1200)], day)
    assert mistakes(rows) == {(m.SHORT_STATUS, 1, "P1"), (m.SHORT_CASH, 1, "P1")}


async def test_a_bill_row_of_an_order_from_another_day_is_found_by_lookup(tmp_path: Path) -> None:
    # Created and closed the day before, paid at the channel today: a late success.
    late = pay("P7", 700, state=6, paid=False, day="2024-05-31")
    # Paid the day before at the channel's clock too, but its bill row came today: clean.
    yesterday = pay("P8", 800, day="2024-05-31", hour=23)
    stats, rows = await run(tmp_path, [row("P7", 700), row("P8", 800)], [], [late, yesterday],
                            partitions=1)
    assert mistakes(rows) == {(m.SHORT_STATUS, 1, "P7")}
    assert stats.matched == 1 and stats.lookups == 1


async def test_a_late_bill_row_clears_its_pool_entry_and_is_checked(tmp_path: Path) -> None:
    waited = pay("P2", 5000, day="2024-05-31", hour=23)
    short = pay("P3", 3000, day="2024-05-31", hour=23)
    pool = MemoryPool([("2024-05-31", waited), ("2024-05-31", short)])
    stats, rows = await run(tmp_path, [row("P2", 5000), row("P3", 3100)], [],
                            [waited, short], pool)
    assert {(r[1], r[2]) for r in tagged(rows, m.CLEARED)} == {(1, "P2"), (1, "P3")}
    assert mistakes(rows) == {(m.SHORT_CASH, 1, "P3")}  # checked once it showed up
    assert stats.pool_cleared == 2 and stats.pool_expired == 0


async def test_pool_entries_expire_into_bank_miss_after_three_days(tmp_path: Path) -> None:
    old = pay("P5", 500, day="2024-05-29")
    older = refund("R6", "P0", 60, day="2024-05-28")
    recent = pay("P6", 600, day="2024-05-30")
    cleared = pay("P7", 700, day="2024-05-29")
    pool = MemoryPool([("2024-05-29", old), ("2024-05-28", older), ("2024-05-30", recent),
                       ("2024-05-29", cleared)])
    stats, rows = await run(tmp_path, [row("P7", 700)], [], [cleared], pool,
                            bill_date="2024-06-01")
    assert mistakes(rows) == {(m.BANK_MISS, 1, "P5"), (m.BANK_MISS, 2, "R6")}
    assert {(r[1], r[2]) for r in tagged(rows, m.EXPIRED)} == {(1, "P5"), (2, "R6")}
    bank_miss = next(r for r in rows if r[0] == m.MISTAKE and r[3] == "P5")
    assert bank_miss[5][m.R_AMOUNT] == 500 and bank_miss[6] is None
    assert stats.pool_expired == 2


async def test_success_dated_the_next_day_is_matched_ahead_not_pooled(tmp_path: Path) -> None:
    # Paid at the channel at 23:59:59 on D, the platform heard of it at 00:00:02 on D+1.
    record = pay("P1", 100, create_time=m.day_window(DAY)[1] - 60,
                 success_time=m.day_window(DAY)[1] + 2)
    _, rows = await run(tmp_path, [row("P1", 100, hour=23)], [record])
    assert mistakes(rows) == set()
    assert [(r[1], r[2]) for r in tagged(rows, m.AHEAD)] == [(1, "P1")]
    # The next day's batch: the record is a success of that day with no bill row, but it was
    # matched ahead, so it is not pooled.
    _, rows = await run(tmp_path, [], [record], pool=MemoryPool(ahead=[(1, "P1")]),
                        bill_date="2024-06-02")
    assert not tagged(rows, m.POOLED)


async def test_orders_paid_the_next_day_wait_for_that_day(tmp_path: Path) -> None:
    created_today_paid_tomorrow = pay("P1", 100, create_time=m.day_window(DAY)[0] + 10,
                                      success_time=m.day_window(DAY)[1] + 3600)
    stats, rows = await run(tmp_path, [], [created_today_paid_tomorrow])
    assert rows == [] and stats.platform.pay_count == 0


@pytest.mark.parametrize("form", FORMS)
async def test_duplicate_bill_rows_are_counted_once(tmp_path: Path, form: str) -> None:
    stats, rows = await run(tmp_path, [row("P1", 100), row("P1", 100), row("P9", 5),
                                       row("P9", 5)], [pay("P1", 100)], form=form)
    assert mistakes(rows) == {(m.PLATFORM_MISS, 1, "P9")}
    assert stats.duplicates == 2 and stats.matched == 1


async def test_a_record_streamed_twice_counts_as_its_last_version(tmp_path: Path) -> None:
    paid, closed = pay("P1", 200, channel_fee=1), pay("P1", 200, state=6, paid=False)
    cheaper = pay("P1", 100, channel_fee=1)
    for versions, found in (((closed, paid), set()), ((paid, closed), {(m.SHORT_STATUS, 1, "P1")}),
                            ((cheaper, paid), set()), ((paid, cheaper), {(m.SHORT_CASH, 1, "P1")})):
        day = [versions[0], pay("P2", 5, channel_fee=1), versions[1]]
        stats, rows = await run(tmp_path, [row("P1", 200, fee=1), row("P2", 5, fee=1)], day,
                                partitions=1)
        assert mistakes(rows) == found
        assert stats.matched == 1 + (not found)


async def test_partitions_bound_memory_and_do_not_change_the_result(tmp_path: Path) -> None:
    n = 20_000
    day = [pay(f"P{i:08d}", 100 + i % 997, channel_fee=1) for i in range(n)]
    bill = [row(f"P{i:08d}", 100 + i % 997 + (1 if i % 1000 == 7 else 0), fee=1)
            for i in range(n) if i % 1000 != 3]
    bill += [row(f"X{i:05d}", 50) for i in range(10)]
    expected = ({(m.SHORT_CASH, 1, f"P{i:08d}") for i in range(7, n, 1000)}
                | {(m.PLATFORM_MISS, 1, f"X{i:05d}") for i in range(10)})
    peaks = {}
    for k in (1, 32):
        folder = tmp_path / f"k{k}"
        folder.mkdir()
        sources = ListSources(bill, day)
        matcher = m.Matcher(DAY, sources, MemoryPool(), k, folder, buffered_rows=2048)
        tracemalloc.start()
        outcome = await matcher.run()
        peaks[k] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        found = [r for chunk in outcome.results() for r in chunk]
        outcome.cleanup()
        assert mistakes(found) == expected
        assert len(tagged(found, m.POOLED)) == n // 1000
        assert outcome.stats.partitions_used == k
        assert 1 <= outcome.stats.lookups <= min(k, 10)  # per partition holding unknowns
    # The inputs are the test's own; what the matcher adds with 32 partitions (the rows it
    # buffers before writing, one partition's dict) is a fraction of what one partition needs.
    assert peaks[32] < peaks[1] / 3, peaks


async def test_rows_of_another_configs_orders_are_left_to_its_batch(tmp_path: Path) -> None:
    theirs = pay("P2", 200)
    theirs.channel_config_key = "app0002.sandbox"
    ours = pay("P1", 100)
    bill = [row("P1", 100), row("P2", 999), row("P2", 50, refund_order_id="cancel:P2"),
            row("P1", 40, refund_order_id="R7")]
    stats, rows = await run(tmp_path, bill, [ours], [theirs], config_key=CONFIG_KEY)
    assert mistakes(rows) == {(m.PLATFORM_MISS, 2, "R7")}
    assert stats.other_configs == 2 and stats.matched == 1
