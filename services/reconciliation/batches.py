"""The rows matching works on, the forms a source gives them in, and how they are filed.

A bill row is spilled as (key, kind, status, amount, fee, trade_time, pay_order_id,
channel_order_no), a platform record as platform_row's tuple (the B_* and R_* indices); the key
is the order number: pay_order_id for a payment, refund_order_id for a refund.

A source gives a batch as row messages (channel.v1.BillRow, gateway.v1.PlatformRecord), as the
same rows in columns (BillColumns, PlatformColumns: transposed and read in C, the fast form), or
as a chunk of one partition's rows the service grouped and the source keeps serialized
(BillChunk, PlatformChunk). ``file_*_batch`` files a batch into the partition files and adds its
totals: rows and columns are partitioned here, by partition_of (the services group theirs by the
same CRC-32), a chunk is written as it is and decoded only when its partition is joined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import and_
from typing import Any, Protocol

from paymesh.services.common.partitions import partition_of
from paymesh.services.reconciliation.spill import PartitionFiles, Row

PAY, REFUND = 1, 2
ROW_SUCCESS = 1  # channel.v1.BillRowStatus.BILL_ROW_STATUS_SUCCESS
PAY_SUCCESS_STATES = frozenset({2, 5})
REFUND_SUCCESS_STATE = 2

# A spilled bill row: (key, kind, status, amount, fee, trade_time, pay_order_id, channel_order_no)
B_KEY, B_KIND, B_STATUS, B_AMOUNT, B_FEE, B_TIME, B_PAY_ID, B_CHANNEL_NO = range(8)
# A spilled platform record: (key, kind, state, amount, fee_amount, channel_fee or None,
# success_time, pay_order_id, mch_no, currency, channel_config_key, channel_order_no)
(R_KEY, R_KIND, R_STATE, R_AMOUNT, R_FEE, R_CHANNEL_FEE, R_SUCCESS, R_PAY_ID, R_MCH, R_CURRENCY,
 R_CONFIG, R_CHANNEL_NO) = range(12)


class BillRowLike(Protocol):
    """The fields of channel.v1.BillRow the matcher reads."""

    kind: int
    channel_order_no: str
    pay_order_id: str
    refund_order_id: str
    amount: int
    fee: int
    status: int
    trade_time: int


class PlatformRecordLike(Protocol):
    """The fields of gateway.v1.PlatformRecord the matcher reads."""

    kind: int
    pay_order_id: str
    refund_order_id: str
    mch_no: str
    channel_order_no: str
    amount: int
    state: int
    fee_amount: int
    channel_fee_amount: int
    success_time: int
    currency: str
    channel_config_key: str

    def HasField(self, name: str) -> bool: ...  # noqa: N802 - protobuf's name



@dataclass
class SideCounts:
    """Successful payments and refunds of one side, and fees."""

    pay_count: int = 0
    pay_amount: int = 0
    refund_count: int = 0
    refund_amount: int = 0
    fee: int = 0



def platform_row(r: PlatformRecordLike) -> Row:
    """The spilled form of a platform record."""
    kind = r.kind
    return (r.pay_order_id if kind == PAY else r.refund_order_id, kind, r.state, r.amount,
            r.fee_amount,
            r.channel_fee_amount if r.HasField("channel_fee_amount") else None,
            r.success_time, r.pay_order_id, r.mch_no, r.currency, r.channel_config_key,
            r.channel_order_no)


@dataclass
class BillColumns:
    """A batch of bill rows as parallel sequences (channel.v1.BillColumns' fields the matcher
    reads): entry i of each is row i. Kinds and order numbers are lists; the others may be any
    sequence, read lazily (a chunk's columns stay in their message until a row needs them)."""

    kinds: list[int]
    channel_order_nos: Sequence[str]
    pay_order_ids: list[str]
    refund_order_ids: Sequence[str]
    amounts: Sequence[int]
    fees: Sequence[int]
    statuses: Sequence[int]
    trade_times: Sequence[int]


@dataclass
class PlatformColumns:
    """A batch of platform records as parallel sequences (gateway.v1.PlatformRecordColumns,
    with the config key of each record), like BillColumns."""

    kinds: list[int]
    pay_order_ids: list[str]
    refund_order_ids: Sequence[str]
    mch_nos: Sequence[str]
    channel_order_nos: Sequence[str]
    amounts: Sequence[int]
    states: Sequence[int]
    fee_amounts: Sequence[int]
    channel_fee_amounts: Sequence[int]
    channel_fee_known: Sequence[bool]
    success_times: Sequence[int]
    currencies: Sequence[str]
    channel_config_keys: Sequence[str]


@dataclass
class BillChunk:
    """Bill rows of one partition as the source serialized them (``data``, decoded by
    MatchSources.bill_chunk at the join), with the columns the totals need."""

    partition: int
    data: bytes
    kinds: list[int]
    statuses: Sequence[int]
    amounts: Sequence[int]
    fees: Sequence[int]


@dataclass
class PlatformChunk:
    """Platform records of one partition as the source serialized them (``data``, decoded by
    MatchSources.platform_chunk), with the columns the totals need."""

    partition: int
    data: bytes
    kinds: list[int]
    states: Sequence[int]
    amounts: Sequence[int]
    channel_fee_amounts: Sequence[int]  # 0 where unknown
    success_times: Sequence[int]


# A batch as a source gives it: row messages, the same rows as columns, or a partition's chunk.
BillBatch = Sequence[BillRowLike] | BillColumns | BillChunk
PlatformBatch = Sequence[PlatformRecordLike] | PlatformColumns | PlatformChunk


def bill_columns(batch: BillBatch) -> BillColumns:
    """A bill batch as columns (row messages are transposed)."""
    if not isinstance(batch, Sequence):
        return batch
    return BillColumns([r.kind for r in batch], [r.channel_order_no for r in batch],
                       [r.pay_order_id for r in batch], [r.refund_order_id for r in batch],
                       [r.amount for r in batch], [r.fee for r in batch],
                       [r.status for r in batch], [r.trade_time for r in batch])


def platform_columns(batch: PlatformBatch) -> PlatformColumns:
    """A platform batch as columns (record messages are transposed)."""
    if not isinstance(batch, Sequence):
        return batch
    known = [r.HasField("channel_fee_amount") for r in batch]
    return PlatformColumns(
        [r.kind for r in batch], [r.pay_order_id for r in batch],
        [r.refund_order_id for r in batch], [r.mch_no for r in batch],
        [r.channel_order_no for r in batch], [r.amount for r in batch],
        [r.state for r in batch], [r.fee_amount for r in batch],
        [r.channel_fee_amount for r in batch], known, [r.success_time for r in batch],
        [r.currency for r in batch], [r.channel_config_key for r in batch])


def _keys(kinds: list[int], pay_ids: list[str], refund_ids: Sequence[str]) -> list[str]:
    """Each row's order number: its pay_order_id for a payment, refund_order_id for a refund."""
    if kinds.count(PAY) == len(kinds):
        return pay_ids
    return [p if k == PAY else r for k, p, r in zip(kinds, pay_ids, refund_ids, strict=True)]




def _spill_rows(spill: PartitionFiles, keys: Sequence[str], rows: Iterator[Row]) -> None:
    """Appends each row to its partition's buffer."""
    appends = [buffer.append for buffer in spill.buffers]
    for partition, row in zip(partition_of(keys, spill.partitions), rows, strict=True):
        appends[partition](row)


def bill_fields(c: BillColumns) -> list[Sequence[Any]]:
    """A batch of bill rows' columns in a spilled bill row's order (B_*)."""
    keys = _keys(c.kinds, c.pay_order_ids, c.refund_order_ids)
    return [keys, c.kinds, c.statuses, c.amounts, c.fees, c.trade_times, c.pay_order_ids,
            c.channel_order_nos]


def platform_fields(c: PlatformColumns) -> list[Sequence[Any]]:
    """A batch of platform records' columns in a spilled platform row's order (R_*)."""
    keys = _keys(c.kinds, c.pay_order_ids, c.refund_order_ids)
    channel_fees: Sequence[int | None] = c.channel_fee_amounts
    known = c.channel_fee_known
    if not all(known):
        channel_fees = [fee if has else None for fee, has in zip(channel_fees, known, strict=True)]
    return [keys, c.kinds, c.states, c.amounts, c.fee_amounts, channel_fees, c.success_times,
            c.pay_order_ids, c.mch_nos, c.currencies, c.channel_config_keys,
            c.channel_order_nos]


def _count_bill(counts: SideCounts, kinds: list[int], statuses: Sequence[int],
                amounts: Sequence[int], fees: Sequence[int]) -> None:
    """Adds a batch's successful payments and refunds, and all its fees, into ``counts``."""
    counts.fee += sum(fees)
    ok = [status == ROW_SUCCESS for status in statuses]
    if kinds.count(PAY) == len(kinds):
        pay_ok = ok
    else:
        pays = [kind == PAY for kind in kinds]
        pay_ok = list(map(and_, ok, pays))
        refund_ok = [o and not p for o, p in zip(ok, pays, strict=True)]
        counts.refund_count += sum(refund_ok)
        counts.refund_amount += sum(compress(amounts, refund_ok))
    counts.pay_count += sum(pay_ok)
    counts.pay_amount += sum(compress(amounts, pay_ok))


def _count_platform(counts: SideCounts, kinds: list[int], states: Sequence[int],
                    amounts: Sequence[int], channel_fees: Sequence[int], times: Sequence[int],
                    start: int, end: int) -> None:
    """Adds a batch's successes of the day (amounts, expected channel fees: an unknown fee is
    0) into ``counts``."""
    ok = [start <= t < end for t in times]
    if kinds.count(PAY) == len(kinds):
        pay_ok = list(map(and_, ok, map(PAY_SUCCESS_STATES.__contains__, states)))
    else:
        pay_ok = [o and k == PAY and s in PAY_SUCCESS_STATES
                  for o, k, s in zip(ok, kinds, states, strict=True)]
        refund_ok = [o and k != PAY and s == REFUND_SUCCESS_STATE
                     for o, k, s in zip(ok, kinds, states, strict=True)]
        counts.refund_count += sum(refund_ok)
        counts.refund_amount += sum(compress(amounts, refund_ok))
        counts.fee += sum(compress(channel_fees, refund_ok))
    counts.pay_count += sum(pay_ok)
    counts.pay_amount += sum(compress(amounts, pay_ok))
    counts.fee += sum(compress(channel_fees, pay_ok))


def _chunk_partition(partition: int, spill: PartitionFiles) -> int:
    if not 0 <= partition < spill.partitions:
        raise ValueError(f"the source gave partition {partition} of {spill.partitions}")
    return partition


def file_bill_batch(spill: PartitionFiles, batch: BillBatch, counts: SideCounts) -> int:
    """Files a batch of bill rows, adds its totals into ``counts``; returns its size."""
    if isinstance(batch, BillChunk):
        _count_bill(counts, batch.kinds, batch.statuses, batch.amounts, batch.fees)
        if batch.kinds:
            spill.write_chunk(_chunk_partition(batch.partition, spill), batch.data)
        return len(batch.kinds)
    c = bill_columns(batch)
    _count_bill(counts, c.kinds, c.statuses, c.amounts, c.fees)
    fields = bill_fields(c)
    _spill_rows(spill, fields[B_KEY], zip(*fields, strict=True))
    return len(c.kinds)


def file_platform_batch(spill: PartitionFiles, batch: PlatformBatch, counts: SideCounts, start: int,
                    end: int) -> int:
    """Files a batch of platform records, adds the day's successes into ``counts``; returns
    its size."""
    if isinstance(batch, PlatformChunk):
        _count_platform(counts, batch.kinds, batch.states, batch.amounts,
                        batch.channel_fee_amounts, batch.success_times, start, end)
        if batch.kinds:
            spill.write_chunk(_chunk_partition(batch.partition, spill), batch.data)
        return len(batch.kinds)
    c = platform_columns(batch)
    _count_platform(counts, c.kinds, c.states, c.amounts, c.channel_fee_amounts,
                    c.success_times, start, end)
    fields = platform_fields(c)
    _spill_rows(spill, fields[R_KEY], zip(*fields, strict=True))
    return len(c.kinds)
