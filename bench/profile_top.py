"""The heaviest frames of a py-spy profile (``py-spy record --format raw``, collapsed stacks).

Prints, as percentages of the samples (with ``--gil``, those of the thread holding the GIL:
the process's Python work; record with ``--full-filenames`` so libraries are told apart), the
functions that were running themselves ("self") and the ones that were on the stack ("total"),
and the share of a few families of work (SQL, gRPC, tracing, asyncio, signing, JSON...) by the
innermost frame that belongs to one.

    .venv/bin/python bench/profile_top.py /tmp/prof/gateway.txt --top 25 --marker Session.get
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# Which family a frame belongs to, by its file (first match wins).
FAMILIES = (
    ("tracing", re.compile(r"opentelemetry")),
    ("metrics", re.compile(r"prometheus_client|common/metrics\.py")),
    ("logging", re.compile(r"[(/]logging/|common/logs\.py")),
    ("SQL", re.compile(r"sqlalchemy|aiosqlite|aiomysql|pymysql|sqlite3")),
    ("gRPC", re.compile(r"grpc")),
    ("protobuf", re.compile(r"google/protobuf")),
    ("json", re.compile(r"[(/]json/")),
    ("signing", re.compile(r"common/signing\.py|hashlib|hmac")),
    ("asyncio", re.compile(r"[(/]asyncio/|selectors\.py")),
)
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


def _parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for row in path.read_text().splitlines():
        stack, _, count = row.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def _name(frame: str) -> str:
    """``function (file)`` without the line number, the file shortened to its package path."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{match['func']} ({file})"


def _family(frame: str) -> str | None:
    for name, pattern in FAMILIES:
        if pattern.search(frame):
            return name
    return None


def summary(path: Path, top: int, markers: list[str] | None = None) -> str:
    stacks = _parse(path)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    families: Counter[str] = Counter()
    for frames, count in stacks:
        named = [_name(f) for f in frames if not f.startswith(("process ", "thread "))]
        if not named:
            continue
        own[named[-1]] += count
        for name in set(named):
            inclusive[name] += count
        # A sample belongs to the family of its innermost frame that has one.
        family = next((f for f in map(_family, reversed(frames)) if f), "other")
        families[family] += count
    lines = [f"{path.name}: {total} samples"]
    lines.append("families (innermost frame): " + ", ".join(
        f"{name} {100 * count / total:.1f}%" for name, count in families.most_common()))
    for marker in markers or ():
        share = sum(count for frames, count in stacks if any(marker in f for f in frames))
        lines.append(f"  {100 * share / total:5.1f}%  stacks with {marker}")
    lines.append("self:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in own.most_common(top)]
    lines.append("total:")
    lines += [f"  {100 * c / total:5.1f}%  {name}" for name, c in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--marker", action="append", default=[],
                        help="also print the share of samples with a frame containing this text")
    args = parser.parse_args()
    print("\n\n".join(summary(path, args.top, args.marker) for path in args.profiles))


if __name__ == "__main__":
    main()
