"""Short-lived state shared by the processes of a node or a cluster.

One small interface, two implementations: in-process (the embedded default) and Redis (several
nodes). It holds replay windows, locks, leader leases and change notifications; never money.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Protocol

import redis.asyncio as aioredis


class SharedState(Protocol):
    """What paymesh needs from short-lived shared state."""

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        """Stores ``value`` under ``key`` unless the key exists; True when it was stored."""

    async def get(self, key: str) -> str | None:
        """The value, or None when absent or expired."""

    async def delete_if_equals(self, key: str, value: str) -> bool:
        """Deletes ``key`` only while it still holds ``value`` (releasing one's own lock)."""

    async def increment(self, key: str, ttl_seconds: float) -> int:
        """Adds one to a counter that expires ``ttl_seconds`` after its first increment."""

    async def publish(self, topic: str, message: str) -> None:
        """Sends ``message`` to every current subscriber of ``topic``."""

    def subscribe(self, topic: str) -> AsyncIterator[str]:
        """Messages published on ``topic`` from now on."""

    async def close(self) -> None:
        """Releases connections."""


class InProcessState:
    """The embedded default: a dictionary with expiry times and in-memory fan-out."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}

    def _live(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._values[key]
            return None
        return item[0]

    def _sweep(self) -> None:
        if len(self._values) > 10_000:
            now = time.monotonic()
            for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
                del self._values[key]

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        if self._live(key) is not None:
            return False
        self._sweep()
        self._values[key] = (value, time.monotonic() + ttl_seconds)
        return True

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def delete_if_equals(self, key: str, value: str) -> bool:
        if self._live(key) == value:
            del self._values[key]
            return True
        return False

    async def increment(self, key: str, ttl_seconds: float) -> int:
        current = self._live(key)
        if current is None:
            self._values[key] = ("1", time.monotonic() + ttl_seconds)
            return 1
        count = int(current) + 1
        self._values[key] = (str(count), self._values[key][1])
        return count

    async def publish(self, topic: str, message: str) -> None:
        for queue in self._subscribers.get(topic, ()):
            queue.put_nowait(message)

    async def subscribe(self, topic: str) -> AsyncIterator[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.setdefault(topic, set()).add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[topic].discard(queue)

    async def close(self) -> None:
        self._values.clear()


_DELETE_IF_EQUALS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_INCREMENT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisState:
    """Shared state in Redis, every key under one prefix."""

    def __init__(self, url: str, prefix: str = "paymesh:") -> None:
        self._redis = aioredis.from_url(url, decode_responses=True)
        self._prefix = prefix
        self._delete_if_equals = self._redis.register_script(_DELETE_IF_EQUALS)
        self._increment = self._redis.register_script(_INCREMENT)

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        stored = await self._redis.set(self._prefix + key, value, nx=True,
                                       px=max(1, int(ttl_seconds * 1000)))
        return bool(stored)

    async def get(self, key: str) -> str | None:
        value = await self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    async def delete_if_equals(self, key: str, value: str) -> bool:
        return bool(await self._delete_if_equals(keys=[self._prefix + key], args=[value]))

    async def increment(self, key: str, ttl_seconds: float) -> int:
        return int(await self._increment(keys=[self._prefix + key],
                                         args=[max(1, int(ttl_seconds * 1000))]))

    async def publish(self, topic: str, message: str) -> None:
        await self._redis.publish(self._prefix + topic, message)

    async def subscribe(self, topic: str) -> AsyncIterator[str]:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(self._prefix + topic)
        try:
            while True:
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if item is not None and item.get("type") == "message":
                    yield str(item["data"])
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self._redis.aclose()


def open_shared_state(url: str, prefix: str = "paymesh:") -> SharedState:
    """The implementation named by the URL: ``memory://`` or ``redis://...``."""
    if url.startswith("memory://"):
        return InProcessState()
    return RedisState(url, prefix)
