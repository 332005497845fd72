"""Matching one bill date of one channel config, streamed, with bounded memory (§6.6).

1. **Spill.** The channel's bill rows (ChannelService.DownloadBill) and the platform's records of
   the day (ReconciliationSourceService.StreamDayRecords) are consumed at the same time; each row
   goes to one of K partition files by the CRC-32 of its order number (pay_order_id for
   payments, refund_order_id for refunds) modulo K, so both sides of one order land in the same
   partition. Both services can group their rows by that partition themselves (columns, one
   message per partition): such a message is filed as the source serialized it, and decoded only
   when its partition is joined, so a million rows become Python objects once, not three times.
2. **Join, partition by partition.** The platform's records of a partition are loaded into a
   dict; every bill row of the partition is looked up in it (pass B, bank as base): found → status,
   amount and fee compared; not found → looked up at the gateway by id (LookupRecords, batched),
   since its order may belong to another day (paid just after midnight, or closed and then paid
   late); still unknown → PLATFORM_MISS. What is left in the dict (pass A, platform as base):
   platform successes of the day that no bill row matched go to the carry-over pool.
3. **Pool.** A pool entry waits for the bills of the next 3 days: a row in one of them clears it
   (and its amount and fee are checked then); after the batch of day D+3 it becomes BANK_MISS.
   A bill row whose order belongs to another channel config (an account several configs share,
   as the sandbox's) is left to that config's batch.
   A bill row matched to a record whose platform success falls on a later day is remembered
   ("matched ahead"), so that day's batch does not pool it.

Classification of a bill row against its platform record (kind PAY or REFUND alike):

- channel SUCCESS, platform not successful → PLATFORM_SHORT_STATUS_MISMATCH;
- platform successful, channel not SUCCESS (FAILED, or a refund still PROCESSING) →
  PLATFORM_OVER_STATUS_MISMATCH;
- channel SUCCESS (either status case): platform amount < channel → PLATFORM_SHORT_CASH_MISMATCH,
  > → PLATFORM_OVER_CASH_MISMATCH; amounts equal, a payment whose record expects a channel fee
  that differs from the bill's → FEE_MISMATCH. So one record may carry a status and a cash
  mistake, as in roncoo-pay (the status one is handled first).

A pay order is successful in states 2 (paid) and 5 (fully refunded); a refund in state 2. Bill
rows that are not SUCCESS and match nothing are ignored (no money moved). Memory holds one
partition of the platform side, the bill rows of that partition the day's records did not match,
and the sets of pool keys cleared; mistakes and pool changes are spilled to a result file.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tempfile
import time
from bisect import bisect_right
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain, compress, repeat
from operator import and_, eq, is_not, itemgetter, not_
from pathlib import Path
from typing import Any, Protocol

from paymesh.services.reconciliation.batches import (
    B_AMOUNT,
    B_FEE,
    B_KEY,
    B_KIND,
    B_PAY_ID,
    B_STATUS,
    PAY,
    PAY_SUCCESS_STATES,
    R_AMOUNT,
    R_CHANNEL_FEE,
    R_CONFIG,
    R_KEY,
    R_KIND,
    R_PAY_ID,
    R_STATE,
    R_SUCCESS,
    REFUND,
    REFUND_SUCCESS_STATE,
    ROW_SUCCESS,
    BillBatch,
    BillColumns,
    PlatformBatch,
    PlatformColumns,
    PlatformRecordLike,
    SideCounts,
    bill_fields,
    file_bill_batch,
    file_platform_batch,
    platform_fields,
    platform_row,
)
from paymesh.services.reconciliation.spill import BUFFERED_ROWS, PartitionFiles, ResultFile, Row

log = logging.getLogger(__name__)

POOL_DAYS = 3
LOOKUP_CHUNK = 1000
MISSES_LOGGED = 20  # platform misses logged one by one per batch (all are recorded)
CHINA = timedelta(hours=8)

BANK_MISS = "BANK_MISS"
PLATFORM_MISS = "PLATFORM_MISS"
SHORT_STATUS = "PLATFORM_SHORT_STATUS_MISMATCH"
OVER_STATUS = "PLATFORM_OVER_STATUS_MISMATCH"
SHORT_CASH = "PLATFORM_SHORT_CASH_MISMATCH"
OVER_CASH = "PLATFORM_OVER_CASH_MISMATCH"
FEE_MISMATCH = "FEE_MISMATCH"
MISTAKE_TYPES = (BANK_MISS, PLATFORM_MISS, SHORT_STATUS, OVER_STATUS, SHORT_CASH, OVER_CASH,
                 FEE_MISMATCH)

# The join's view of a payment record: what its bill row must say, and where the record is.
_SIGNATURE = itemgetter(slice(0, 3))
_UNEXPECTED = (None, None, None, -1)
_MATCHED = (None, None, None, -2)  # in place of a payment a bill row matched

# Result rows: ("M", type, kind, key, pay_order_id, platform row | None, bill row | None),
# ("P", platform row) pooled, ("C", kind, key) pool entry cleared, ("E", kind, key) pool entry
# expired, ("A", kind, key) matched ahead.
MISTAKE, POOLED, CLEARED, EXPIRED, AHEAD = "M", "P", "C", "E", "A"


class MatchSources(Protocol):
    """Where the rows come from: the channel's bill, the gateway's records."""

    def bill(self, partitions: int) -> AsyncIterator[BillBatch]:
        """The bill's rows, in batches: rows, columns, or chunks of one of ``partitions``."""

    def platform(self, partitions: int) -> AsyncIterator[PlatformBatch]:
        """The platform's records of the day, in batches (records, columns or chunks)."""

    def bill_chunk(self, data: bytes) -> BillColumns:
        """The rows of a BillChunk's data (called only for sources that give chunks)."""

    def platform_chunk(self, data: bytes) -> PlatformColumns:
        """The records of a PlatformChunk's data (likewise)."""

    async def lookup(self, pay_order_ids: Sequence[str],
                     refund_order_ids: Sequence[str]) -> Sequence[PlatformRecordLike]:
        """Records by id, whatever their day; unknown ids left out."""


class CarryOver(Protocol):
    """The pool and the matched-ahead keys, as this batch sees them."""

    async def pooled(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (kind, key) wait in the pool for this batch."""

    async def matched_ahead(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which of these (kind, key) an earlier day's bill already matched."""

    def expiring(self, through: str) -> AsyncIterator[list[Row]]:
        """Pool entries from ``through`` or before, as platform rows, in chunks."""


class SourceFailed(Exception):
    """One side's stream failed; ``side`` is "channel" or "gateway"."""

    def __init__(self, side: str, error: BaseException) -> None:
        super().__init__(f"{side}: {error}")
        self.side = side
        self.error = error


@dataclass
class MatchStats:
    """What a run counted."""

    platform: SideCounts = field(default_factory=SideCounts)
    channel: SideCounts = field(default_factory=SideCounts)
    bill_rows: int = 0
    platform_records: int = 0
    matched: int = 0
    mistakes: int = 0
    pool_added: int = 0
    pool_cleared: int = 0
    pool_expired: int = 0
    duplicates: int = 0
    lookups: int = 0
    partitions_used: int = 0
    other_configs: int = 0  # bill rows of another config's orders, left to its batch
    platform_misses: int = 0
    spill_seconds: float = 0.0  # both streams read and partitioned
    bill_seconds: float = 0.0  # the channel's stream alone (read in parallel with the other)
    platform_seconds: float = 0.0  # the gateway's stream alone
    join_seconds: float = 0.0  # partitions joined, lookups, pool


@dataclass
class MatchOutcome:
    """A finished run: its counts, and its results until ``cleanup``."""

    stats: MatchStats
    _results: ResultFile
    _tmp: tempfile.TemporaryDirectory[str]

    def results(self) -> Iterator[list[Row]]:
        """Result rows (see the module's result tags), chunk by chunk."""
        return self._results.chunks()

    def cleanup(self) -> None:
        """Removes the partition and result files."""
        self._tmp.cleanup()


def day_window(bill_date: str) -> tuple[int, int]:
    """[start, end) of the UTC+8 calendar day, in epoch seconds."""
    day = date.fromisoformat(bill_date)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) - CHINA
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def shift_date(bill_date: str, days: int) -> str:
    """The day ``days`` after (or before, when negative) ``bill_date``."""
    return (date.fromisoformat(bill_date) + timedelta(days=days)).isoformat()


def platform_succeeded(kind: int, state: int) -> bool:
    """True when the platform counts the record as a success (money moved)."""
    return state in PAY_SUCCESS_STATES if kind == PAY else state == REFUND_SUCCESS_STATE


class Matcher:
    """One run of matching; ``run`` spills, joins and returns the outcome."""

    def __init__(self, bill_date: str, sources: MatchSources, carry_over: CarryOver,
                 partitions: int = 64, tmp_root: Path | None = None,
                 tick: Callable[[], Awaitable[None]] | None = None,
                 buffered_rows: int = BUFFERED_ROWS, config_key: str = "") -> None:
        self._bill_date = bill_date
        self._start, self._end = day_window(bill_date)
        self._sources = sources
        self._carry = carry_over
        self._k = max(1, partitions)
        self._tmp_root = tmp_root
        self._tick = tick
        self._buffered = buffered_rows
        self._config_key = config_key
        self._waiting: list[Row] = []  # pass A leftovers not yet checked against the pool
        self._unknown: list[Row] = []  # bill rows not yet looked up
        self.stats = MatchStats()

    async def run(self) -> MatchOutcome:
        """Matches the day; the caller must ``cleanup`` the outcome.

        The cyclic garbage collector is paused meanwhile: the run makes millions of small
        tuples and no cycles, and collections scanning them would cost more than the matching.
        """
        collecting = gc.isenabled()
        gc.disable()
        try:
            return await self._run()
        finally:
            if collecting:
                gc.enable()

    async def _run(self) -> MatchOutcome:
        if self._tmp_root is not None:
            self._tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tempfile.TemporaryDirectory(prefix="recon-", dir=self._tmp_root)
        try:
            folder = Path(tmp.name)
            bill = PartitionFiles(folder, "bill", self._k, self._buffered)
            platform = PartitionFiles(folder, "platform", self._k, self._buffered)
            began = time.perf_counter()
            await self._spill_both(bill, platform)
            self.stats.spill_seconds = time.perf_counter() - began
            self.stats.partitions_used = max(bill.used(), platform.used())
            results = ResultFile(folder / "results.bin")
            cleared: set[tuple[int, str]] = set()
            for partition in range(self._k):
                await self._join(bill, platform, partition, results, cleared)
                if self._tick is not None:
                    await self._tick()
            await self._drain(results, cleared, everything=True)
            await self._expire(results, cleared)
            results.close()
            self.stats.join_seconds = time.perf_counter() - began - self.stats.spill_seconds
        except BaseException:
            tmp.cleanup()
            raise
        return MatchOutcome(self.stats, results, tmp)

    async def _spill_both(self, bill: PartitionFiles, platform: PartitionFiles) -> None:
        tasks = [asyncio.create_task(self._guard("channel", self._spill_bill(bill))),
                 asyncio.create_task(self._guard("gateway", self._spill_platform(platform)))]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in pending:
                task.cancel()
            for task in done:
                error = task.exception()
                if error is not None:
                    raise error
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        finally:
            for task in tasks:
                task.cancel()
            bill.close()
            platform.close()

    @staticmethod
    async def _guard(side: str, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise SourceFailed(side, error) from error

    async def _spill_bill(self, spill: PartitionFiles) -> None:
        # The channel's side, a batch at a time: rows zipped from the columns (in C), the
        # totals summed over columns; a batch's rows are written once its columns are gone.
        began = time.perf_counter()
        counts = SideCounts()
        rows = 0
        async for batch in self._sources.bill(self._k):
            size = file_bill_batch(spill, batch, counts)
            del batch
            spill.flush_full(everything=size >= spill.chunk)
            rows += size
        self.stats.bill_rows = rows
        self.stats.bill_seconds = time.perf_counter() - began
        self.stats.channel = counts

    async def _spill_platform(self, spill: PartitionFiles) -> None:
        # The platform's side likewise (platform_row's tuple, zipped from columns).
        began = time.perf_counter()
        counts = SideCounts()
        rows = 0
        async for batch in self._sources.platform(self._k):
            size = file_platform_batch(spill, batch, counts, self._start, self._end)
            del batch
            spill.flush_full(everything=size >= spill.chunk)
            rows += size
        self.stats.platform_records = rows
        self.stats.platform_seconds = time.perf_counter() - began
        self.stats.platform = counts

    async def _join(self, bill: PartitionFiles, platform: PartitionFiles, partition: int,
                    results: ResultFile, cleared: set[tuple[int, str]]) -> None:
        # The partition's platform records stay in their chunks' columns (R_* order) and
        # become rows only when compared or left over. The payments the usual bill row matches
        # as it is (successful within the day, channel fee known) are in ``expected``: key →
        # (amount, fee, status) that row must have, and the record's position in the partition;
        # every other record is in ``where`` by kind: key → position.
        chunks: list[list[Sequence[Any]]] = []
        starts: list[int] = []
        where: tuple[dict[str, int], dict[str, int], dict[str, int]] = ({}, {}, {})
        expected: dict[str, tuple[int, int, int, int]] = {}
        pays, end, size = where[PAY], self._end, 0
        for fields in self._platform_fields(platform, partition):
            keys, kinds = fields[R_KEY], fields[R_KIND]
            n = len(keys)
            chunks.append(fields)
            starts.append(size)
            positions = range(size, size + n)
            clean_states = map(PAY_SUCCESS_STATES.__contains__, fields[R_STATE])
            if kinds.count(PAY) != n:
                clean_states = map(and_, map(PAY.__eq__, kinds), clean_states)
            clean = list(map(and_, map(and_, clean_states, map(end.__gt__, fields[R_SUCCESS])),
                             map(is_not, fields[R_CHANNEL_FEE], repeat(None))))
            signatures = zip(fields[R_AMOUNT], fields[R_CHANNEL_FEE], repeat(ROW_SUCCESS),
                             positions)
            expected.update(compress(zip(keys, signatures, strict=True), clean))
            if kinds.count(PAY) == n:
                pays.update(compress(zip(keys, positions, strict=True), map(not_, clean)))
            else:
                for kind, key, position in compress(zip(kinds, keys, positions, strict=True),
                                                    map(not_, clean)):
                    where[kind][key] = position
            size += n

        def record(position: int) -> Row:
            index = bisect_right(starts, position) - 1
            offset = position - starts[index]
            return tuple([column[offset] for column in chunks[index]])

        if len(expected) + len(pays) + len(where[REFUND]) != size \
                or not pays.keys().isdisjoint(expected):
            # A key twice (not in a day's stream, but never mind): the last record counts.
            expected.clear()
            for position in range(size):
                r = record(position)
                key, kind = r[R_KEY], r[R_KIND]
                where[kind].pop(key, None)
                if kind == PAY:
                    expected.pop(key, None)
                    if r[R_STATE] in PAY_SUCCESS_STATES and r[R_SUCCESS] < end \
                            and r[R_CHANNEL_FEE] is not None:
                        expected[key] = (r[R_AMOUNT], r[R_CHANNEL_FEE], ROW_SUCCESS, position)
                        continue
                where[kind][key] = position

        seen: tuple[set[str], set[str], set[str]] = (set(), set(), set())
        unknown: dict[tuple[int, str], Row] = {}
        compare = self._compare
        for fields in self._bill_fields(bill, partition):
            keys, kinds = fields[B_KEY], fields[B_KIND]
            n = len(keys)
            rest: Iterable[int] = range(n)
            if kinds.count(PAY) == n and len(set(keys)) == n:
                # The usual rows, in C: what the record expects, exactly.
                wanted = map(_SIGNATURE, map(expected.get, keys, repeat(_UNEXPECTED)))
                ok = list(map(eq, wanted, zip(fields[B_AMOUNT], fields[B_FEE], fields[B_STATUS],
                                              strict=True)))
                matched = list(compress(keys, ok))
                expected.update(zip(matched, repeat(_MATCHED)))
                self.stats.matched += len(matched)
                rest = compress(range(n), map(not_, ok))
            for i in rest:
                row = tuple([column[i] for column in fields])
                key, kind = row[B_KEY], row[B_KIND]
                position = where[kind].pop(key, None)
                if position is None and kind == PAY:
                    entry = expected.get(key, _MATCHED)
                    if entry is not _MATCHED:
                        position, expected[key] = entry[3], _MATCHED
                if position is None:
                    if key in seen[kind] or (kind, key) in unknown or (
                            kind == PAY and expected.get(key) is _MATCHED):
                        self.stats.duplicates += 1
                    else:
                        unknown[(kind, key)] = row
                    continue
                seen[kind].add(key)
                compare(row, record(position), results)
        del seen
        start = self._start
        left = (chain(where[PAY].values(), (entry[3] for entry in expected.values()
                                            if entry is not _MATCHED)),
                where[REFUND].values())
        for kind, positions in zip((PAY, REFUND), left, strict=True):
            # Pass A: the day's successes no bill row matched.
            self._waiting += [r for r in map(record, positions)
                              if start <= r[R_SUCCESS] < end
                              and platform_succeeded(kind, r[R_STATE])]
        del expected
        del where
        chunks.clear()
        self._unknown += unknown.values()
        await self._drain(results, cleared, everything=False)

    def _bill_fields(self, bill: PartitionFiles, partition: int
                     ) -> Iterator[list[Sequence[Any]]]:
        """A partition's bill rows, chunk by chunk, as columns in B_* order (a source's chunk
        decoded by the source)."""
        for rows, data in bill.read(partition):
            if data is not None:
                yield bill_fields(self._sources.bill_chunk(data))
            elif rows:
                yield list(zip(*rows, strict=True))

    def _platform_fields(self, platform: PartitionFiles, partition: int
                         ) -> Iterator[list[Sequence[Any]]]:
        """A partition's platform records, chunk by chunk, as columns in R_* order."""
        for rows, data in platform.read(partition):
            if data is not None:
                yield platform_fields(self._sources.platform_chunk(data))
            elif rows:
                yield list(zip(*rows, strict=True))

    async def _drain(self, results: ResultFile, cleared: set[tuple[int, str]],
                     everything: bool) -> None:
        """Looks up gathered unknown rows and pass A's leftovers, a chunk at a time (across
        partitions, so a day with few of them makes few calls)."""
        while len(self._waiting) >= LOOKUP_CHUNK or (everything and self._waiting):
            part, self._waiting = self._waiting[:LOOKUP_CHUNK], self._waiting[LOOKUP_CHUNK:]
            await self._pass_a(part, results)
        while len(self._unknown) >= LOOKUP_CHUNK or (everything and self._unknown):
            part, self._unknown = self._unknown[:LOOKUP_CHUNK], self._unknown[LOOKUP_CHUNK:]
            await self._resolve_unknown(part, results, cleared)

    def _compare(self, b: Row, r: Row, results: ResultFile) -> None:
        kind = b[B_KIND]
        channel_ok = b[B_STATUS] == ROW_SUCCESS
        platform_ok = platform_succeeded(kind, r[R_STATE])
        found: list[str] = []
        if channel_ok and not platform_ok:
            found.append(SHORT_STATUS)
        elif platform_ok and not channel_ok:
            found.append(OVER_STATUS)
        if channel_ok:
            if r[R_AMOUNT] < b[B_AMOUNT]:
                found.append(SHORT_CASH)
            elif r[R_AMOUNT] > b[B_AMOUNT]:
                found.append(OVER_CASH)
            elif kind == PAY and r[R_CHANNEL_FEE] is not None and r[R_CHANNEL_FEE] != b[B_FEE]:
                found.append(FEE_MISMATCH)
        if not found:
            self.stats.matched += 1
        for mistake in found:
            self._mistake(results, mistake, kind, b[B_KEY], r[R_PAY_ID], r, b)
        if platform_ok and r[R_SUCCESS] >= self._end:
            results.add((AHEAD, kind, b[B_KEY]))

    def _mistake(self, results: ResultFile, mistake: str, kind: int, key: str, pay_order_id: str,
                 record: Row | None, bill_row: Row | None) -> None:
        self.stats.mistakes += 1
        results.add((MISTAKE, mistake, kind, key, pay_order_id, record, bill_row))

    async def _pass_a(self, part: list[Row], results: ResultFile) -> None:
        """Platform successes of the day no bill row matched: pooled, unless matched ahead."""
        ahead = await self._carry.matched_ahead([(row[R_KIND], row[R_KEY]) for row in part])
        for row in part:
            if (row[R_KIND], row[R_KEY]) in ahead:
                continue
            self.stats.pool_added += 1
            results.add((POOLED, row))

    async def _resolve_unknown(self, part: list[Row], results: ResultFile,
                               cleared: set[tuple[int, str]]) -> None:
        """Bill rows the day's records did not have: looked up, then compared or missed."""
        if part:
            pay_ids = [row[B_KEY] for row in part if row[B_KIND] == PAY]
            refund_ids = [row[B_KEY] for row in part if row[B_KIND] == REFUND]
            # A refund the platform does not know may still be of another config's payment.
            pay_ids = list(dict.fromkeys(
                pay_ids + [row[B_PAY_ID] for row in part if row[B_KIND] == REFUND]))
            self.stats.lookups += 1
            found = {(row[R_KIND], row[R_KEY]): row for row in
                     map(platform_row, await self._sources.lookup(pay_ids, refund_ids))}
            pooled = await self._carry.pooled(list(found)) if found else set()
            for b in part:
                identity = (b[B_KIND], b[B_KEY])
                record = found.get(identity)
                owner = record if record is not None else found.get((PAY, b[B_PAY_ID]))
                if owner is not None and self._elsewhere(owner):
                    self.stats.other_configs += 1
                    continue
                if record is None:
                    if b[B_STATUS] == ROW_SUCCESS:
                        self.stats.platform_misses += 1
                        if self.stats.platform_misses <= MISSES_LOGGED:
                            log.warning("platform miss on %s: %s %s is unknown to the platform "
                                        "(foreign traffic on the channel account, or a lost "
                                        "write)", self._bill_date,
                                        "pay" if b[B_KIND] == PAY else "refund", b[B_KEY])
                        self._mistake(results, PLATFORM_MISS, b[B_KIND], b[B_KEY],
                                      b[B_PAY_ID], None, b)
                    continue
                self._compare(b, record, results)
                if identity in pooled:
                    cleared.add(identity)
                    self.stats.pool_cleared += 1
                    results.add((CLEARED, *identity))

    def _elsewhere(self, record: Row) -> bool:
        """True when the record belongs to another channel config (an account whose bill
        lists several configs' trades, like the sandbox's): that config's batch checks it."""
        return bool(self._config_key and record[R_CONFIG]
                    and record[R_CONFIG] != self._config_key)

    async def _expire(self, results: ResultFile, cleared: set[tuple[int, str]]) -> None:
        through = shift_date(self._bill_date, -POOL_DAYS)
        async for chunk in self._carry.expiring(through):
            for row in chunk:
                identity = (row[R_KIND], row[R_KEY])
                if identity in cleared:
                    continue
                self.stats.pool_expired += 1
                results.add((EXPIRED, *identity))
                self._mistake(results, BANK_MISS, row[R_KIND], row[R_KEY], row[R_PAY_ID], row,
                              None)


def estimate_partitions(rows: int) -> int:
    """K for a day of about ``rows`` rows on both sides: ~100,000 rows a partition (a few tens
    of MiB in memory while it is joined), 4..256. Fewer, larger partitions write faster."""
    return max(4, min(256, -(-rows // 100_000)))

