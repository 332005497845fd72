"""Identifiers: time-ordered numeric ids for orders, random ones for merchants and apps."""

from __future__ import annotations

import os
import secrets
import string
import threading
import time

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_ALNUM = string.ascii_letters + string.digits


class SnowflakeIds:
    """64-bit ids: 41 bits of milliseconds, 10 bits of worker, 12 bits of sequence.

    The worker number is random per process, so processes started together rarely collide; the
    primary key is the final guard and callers retry on a clash.
    """

    def __init__(self, worker: int | None = None) -> None:
        self._worker = (worker if worker is not None else int.from_bytes(os.urandom(2))) & 0x3FF
        self._lock = threading.Lock()
        self._last_ms = 0
        self._seq = 0

    def next(self) -> int:
        with self._lock:
            now = int(time.time() * 1000) - EPOCH_MS
            if now <= self._last_ms:
                now = self._last_ms
                self._seq = (self._seq + 1) & 0xFFF
                if self._seq == 0:
                    now += 1
            else:
                self._seq = 0
            self._last_ms = now
            return (now << 22) | (self._worker << 12) | self._seq


def issued_at_ms(snowflake: int) -> int:
    """When a snowflake id was made, Unix milliseconds (channels that key by time need it)."""
    return (snowflake >> 22) + EPOCH_MS


def merchant_no() -> str:
    """``M`` + 12 digits: the time in seconds and a random tail (JeePay uses ``M`` + seconds)."""
    return f"M{int(time.time()) % 10**8:08d}{secrets.randbelow(10**4):04d}"


def app_id() -> str:
    """24 lower-case hex characters, shaped like JeePay's ObjectId app ids."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


def app_secret() -> str:
    """128 random alphanumerics, as JeePay's app secrets."""
    return "".join(secrets.choice(_ALNUM) for _ in range(128))
