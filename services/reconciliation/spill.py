"""Partition files: rows spilled to disk by a hash of their order number, read back one partition
at a time, so matching a day holds at most one partition in memory.

Rows are tuples of str, int and None, written as length-prefixed marshal-encoded lists of up to
``chunk`` rows (compact, and read and written in C); a partition is read back chunk by chunk.
Marshal format 4 writes ASCII strings as they are and an object shared by several rows once,
faster than format 2 (which encodes every string anew). A partition file may also
hold chunks its source serialized itself (rows the source grouped by partition), filed as they
are: each chunk starts with a tag telling the two apart.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

Row = tuple[Any, ...]
# Rows buffered in memory per side before their partition's chunk is written, over all partitions.
BUFFERED_ROWS = 65_536
MARSHAL_FORMAT = 4
_ROWS, _SOURCE = b"M", b"S"  # the tag of a partition chunk: rows written here, a source's


class PartitionFiles:
    """K append-only partition files of one side (bill or platform) in a directory."""

    def __init__(self, folder: Path, name: str, partitions: int,
                 buffered_rows: int = BUFFERED_ROWS) -> None:
        self.partitions = partitions
        self.chunk = max(64, buffered_rows // partitions)
        self.buffers: list[list[Row]] = [[] for _ in range(partitions)]
        self._paths = [folder / f"{name}-{i:04d}.bin" for i in range(partitions)]
        self._files: list[BinaryIO | None] = [None] * partitions
        self.rows = 0

    def add(self, partition: int, row: Row) -> None:
        """Buffers one row; its partition's chunk is written once full."""
        buffer = self.buffers[partition]
        buffer.append(row)
        if len(buffer) >= self.chunk:
            self.flush(partition)

    def flush(self, partition: int) -> None:
        """Writes the partition's buffered rows as one chunk."""
        buffer = self.buffers[partition]
        if not buffer:
            return
        out = self._file(partition)
        out.write(_ROWS)
        _write(out, buffer)
        self.rows += len(buffer)
        self.buffers[partition] = []

    def write_chunk(self, partition: int, data: bytes) -> None:
        """Writes a chunk the source serialized (``read`` gives its bytes back)."""
        out = self._file(partition)
        out.write(_SOURCE)
        out.write(len(data).to_bytes(4, "little"))
        out.write(data)

    def _file(self, partition: int) -> BinaryIO:
        out = self._files[partition]
        if out is None:
            out = self._files[partition] = self._paths[partition].open("ab")
        return out

    def flush_full(self, everything: bool = False) -> None:
        """Writes the partitions whose chunk is full, or every buffered row: a large batch is
        best written as soon as it is buffered, while its rows are fresh in the CPU's caches
        (serializing rows gathered over many batches is memory-bound: several times slower)."""
        for partition, buffer in enumerate(self.buffers):
            if len(buffer) >= self.chunk or (everything and buffer):
                self.flush(partition)

    def close(self) -> None:
        """Writes every buffered row and closes the files."""
        for partition in range(self.partitions):
            self.flush(partition)
            out = self._files[partition]
            if out is not None:
                out.close()
                self._files[partition] = None

    def used(self) -> int:
        """How many partition files hold rows."""
        return sum(1 for path in self._paths if path.exists())

    def read(self, partition: int) -> Iterator[tuple[list[Row], bytes | None]]:
        """The partition's chunks, in the order written (after close): (rows, None) for rows
        written here, ([], bytes) for a source's chunk."""
        path = self._paths[partition]
        if not path.exists():
            return
        with path.open("rb") as source:
            while tag := source.read(1):
                data = source.read(int.from_bytes(source.read(4), "little"))
                yield ([], data) if tag == _SOURCE else (marshal.loads(data), None)


class ResultFile:
    """What a run found (mistakes, pool changes), spilled so that a day with many mistakes does
    not hold them all in memory; written once, then read back for the final transaction."""

    def __init__(self, path: Path, chunk: int = 2000) -> None:
        self._path = path
        self._chunk = chunk
        self._buffer: list[Row] = []
        self._out: BinaryIO | None = path.open("wb")

    def add(self, row: Row) -> None:
        self._buffer.append(row)
        if len(self._buffer) >= self._chunk:
            self._flush()

    def _flush(self) -> None:
        if self._buffer and self._out is not None:
            _write(self._out, self._buffer)
            self._buffer = []

    def close(self) -> None:
        self._flush()
        if self._out is not None:
            self._out.close()
            self._out = None

    def chunks(self) -> Iterator[list[Row]]:
        """The rows, chunk by chunk (after close)."""
        return _chunks(self._path)


def _write(out: BinaryIO, rows: list[Row]) -> None:
    data = marshal.dumps(rows, MARSHAL_FORMAT)
    out.write(len(data).to_bytes(4, "little"))
    out.write(data)


def _chunks(path: Path) -> Iterator[list[Row]]:
    with path.open("rb") as source:
        while header := source.read(4):
            yield marshal.loads(source.read(int.from_bytes(header, "little")))
