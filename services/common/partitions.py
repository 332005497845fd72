"""How a day's reconciliation rows are split into partitions, the same way in every service.

A row's partition is the CRC-32 of its order number's UTF-8 bytes modulo the number of
partitions, so the channel service (bill rows), the gateway (the platform's records) and the
reconciliation service agree on where both sides of one order land.
"""

from __future__ import annotations

import zlib
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import TypeVar

T = TypeVar("T")


def partition_of(keys: Sequence[str], partitions: int) -> Iterator[int]:
    """Each order number's partition."""
    return map(partitions.__rmod__, map(zlib.crc32, map(str.encode, keys)))


def by_partition(rows: Sequence[T], keys: Sequence[str], partitions: int
                 ) -> Iterator[tuple[int, Sequence[T]]]:
    """The rows grouped by the partition of their key, in partition order; each group keeps
    its rows' order."""
    parts = list(partition_of(keys, partitions))
    if len(rows) < 2:
        yield from ((part, rows) for part in parts)
        return
    order = sorted(range(len(rows)), key=parts.__getitem__)  # stable: rows keep their order
    pick = itemgetter(*order)
    ordered, ordered_parts = pick(rows), pick(parts)
    start = 0
    for part in sorted(set(parts)):
        end = bisect_right(ordered_parts, part, start)
        yield part, ordered[start:end]
        start = end
