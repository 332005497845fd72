"""Short-lived state shared by the processes of a node or a cluster.

One small interface, two implementations: in-process (the embedded default) and Redis (several
nodes). It holds replay windows, locks, leader leases and change notifications; never money.

Redis may be down, restarting or slow; nothing on a payment's path may fail because of it. So
``RedisState`` answers every call within a short timeout (``CONNECT_TIMEOUT_SECONDS``,
``CALL_TIMEOUT_SECONDS``, no client-side retries) or raises ``SharedStateUnavailable``, and after
a failure its ``CircuitBreaker`` refuses calls at once for ``BREAKER_SECONDS`` (then lets one
call at a time try again), so requests do not each pay a timeout during an outage. Each user
decides how to degrade (docs/reliability.md, "Redis outages"):

- the gateway's replay window (gateway/replay.py) falls back to its process-local window;
- the jobs process skips the turns it cannot claim (jobs/runner.py);
- the merchant service's config-change feed ends its watch streams, and the gateways resolve
  every request through the merchant service until it can be followed again
  (merchant/changes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from paymesh.services.common.metrics import shared_state_instruments

log = logging.getLogger(__name__)
T = TypeVar("T")

# A Redis call's budget: the connection must be made and each reply read within these.
CONNECT_TIMEOUT_SECONDS = 0.5
CALL_TIMEOUT_SECONDS = 1.0
# After a failure, calls are refused at once for this long before one tries Redis again.
BREAKER_SECONDS = 2.0
# The in-process state drops expired entries once it holds more than this many.
_SWEEP_FLOOR = 10_000


class SharedStateUnavailable(RuntimeError):
    """The shared state could not answer: Redis unreachable, too slow or failing, or recently
    so (the circuit breaker is open). Callers degrade; none of them moves money."""


class SharedState(Protocol):
    """What paymesh needs from short-lived shared state.

    Every method may raise ``SharedStateUnavailable`` (the in-process state never does).
    """

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
        """Messages published on ``topic`` from now on; raises when the subscription is lost."""

    async def close(self) -> None:
        """Releases connections."""


class InProcessState:
    """The embedded default: a dictionary with expiry times and in-memory fan-out."""

    def __init__(self) -> None:
        self._values: dict[str, tuple[str, float]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {}
        self._sweep_above = _SWEEP_FLOOR

    def _live(self, key: str) -> str | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= time.monotonic():
            del self._values[key]
            return None
        return item[0]

    def _sweep(self) -> None:
        # Sweeping again only once the live entries have doubled keeps each insert O(1) on
        # average, however many entries are live (a busy replay window holds tens of thousands).
        if len(self._values) > self._sweep_above:
            now = time.monotonic()
            for key in [k for k, (_, exp) in self._values.items() if exp <= now]:
                del self._values[key]
            self._sweep_above = max(_SWEEP_FLOOR, 2 * len(self._values))

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


class CircuitBreaker:
    """Keeps calls away from a failing Redis for a while after each failure.

    Closed, every call goes through. A failure opens it for ``cooldown`` seconds, during which
    calls are refused at once; then one call at a time goes through as a probe: its success
    closes the breaker, its failure opens it again. An outage is logged once, at WARNING when it
    begins and at INFO when it ends, and shown by the gauge ``paymesh_shared_state_up``.
    """

    def __init__(self, where: str, cooldown: float = BREAKER_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._where = where
        self._cooldown = cooldown
        self._clock = clock
        self._open_until: float | None = None  # None: closed
        self._outage_began = 0.0
        self._refused = 0
        self._probing = False
        _, self._up, _ = shared_state_instruments()
        self._up.set(1)

    @property
    def closed(self) -> bool:
        return self._open_until is None

    def allow(self) -> bool:
        """Whether a call may go to Redis now; a True while open makes the caller the probe."""
        if self._open_until is None:
            return True
        if self._probing or self._clock() < self._open_until:
            self._refused += 1
            return False
        self._probing = True
        return True

    def succeeded(self) -> None:
        self._probing = False
        if self._open_until is None:
            return
        self._open_until = None
        self._up.set(1)
        log.info("shared state at %s answers again after %.1f s (%d calls refused meanwhile)",
                 self._where, self._clock() - self._outage_began, self._refused)

    def failed(self, error: BaseException) -> None:
        self._probing = False
        now = self._clock()
        if self._open_until is None:
            self._outage_began, self._refused = now, 0
            self._up.set(0)
            log.warning("shared state at %s unavailable (%s); degrading until it answers: replay "
                        "checks use this process's window, job turns are skipped, config "
                        "changes are not followed; trying again every %g s", self._where,
                        _describe(error), self._cooldown)
        self._open_until = now + self._cooldown

    def abandoned(self) -> None:
        """The call was cancelled before Redis answered: no verdict either way."""
        self._probing = False


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:160]}" if text else type(error).__name__


_DELETE_IF_EQUALS = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_INCREMENT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_FAILURES = (RedisError, OSError, TimeoutError)


class RedisState:
    """Shared state in Redis, every key under one prefix; fails fast while Redis is away."""

    def __init__(self, url: str, prefix: str = "paymesh:", *,
                 connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
                 call_timeout: float = CALL_TIMEOUT_SECONDS,
                 breaker: CircuitBreaker | None = None) -> None:
        # One immediate retry on a broken connection, none on a timeout: after a restart each
        # pooled connection is dead and must be replaced once, but an outage is the breaker's
        # to handle, not the request's to wait out (redis-py's default retries with backoff).
        self._redis = aioredis.from_url(
            url, decode_responses=True, socket_connect_timeout=connect_timeout,
            socket_timeout=call_timeout,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
        # Subscriptions never reconnect by themselves: what was published while one was away
        # is lost, so a lost subscription must end and its follower resynchronise.
        self._subscriber = aioredis.from_url(
            url, decode_responses=True, socket_connect_timeout=connect_timeout,
            socket_timeout=call_timeout, retry=Retry(NoBackoff(), 0))
        self._prefix = prefix
        kwargs = self._redis.connection_pool.connection_kwargs
        where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"  # no password
        self._breaker = breaker or CircuitBreaker(str(where))
        self._unavailable, _, _ = shared_state_instruments()
        self._delete_if_equals = self._redis.register_script(_DELETE_IF_EQUALS)
        self._increment = self._redis.register_script(_INCREMENT)

    async def _call(self, operation: str, call: Callable[[], Awaitable[T]],
                    gated: bool = True) -> T:
        """``call``'s result, or SharedStateUnavailable when Redis fails or the breaker is open.

        An ungated call (a subscription's read) is never refused and never closes the breaker
        (an idle subscription says nothing about new connections), but its failure opens it.
        """
        if gated and not self._breaker.allow():
            self._unavailable.labels(operation, "open").inc()
            raise SharedStateUnavailable(f"shared state {operation}: refused while Redis is "
                                         "failing (circuit breaker open)")
        try:
            result = await call()
        except _FAILURES as error:
            self._breaker.failed(error)
            self._unavailable.labels(operation, "error").inc()
            raise SharedStateUnavailable(f"shared state {operation}: {_describe(error)}"
                                         ) from error
        except BaseException:
            if gated:
                self._breaker.abandoned()
            raise
        if gated:
            self._breaker.succeeded()
        return result

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float) -> bool:
        stored = await self._call("set_if_absent", lambda: self._redis.set(
            self._prefix + key, value, nx=True, px=max(1, int(ttl_seconds * 1000))))
        return bool(stored)

    async def get(self, key: str) -> str | None:
        value = await self._call("get", lambda: self._redis.get(self._prefix + key))
        return None if value is None else str(value)

    async def delete_if_equals(self, key: str, value: str) -> bool:
        return bool(await self._call("delete_if_equals", lambda: self._delete_if_equals(
            keys=[self._prefix + key], args=[value])))

    async def increment(self, key: str, ttl_seconds: float) -> int:
        return int(await self._call("increment", lambda: self._increment(
            keys=[self._prefix + key], args=[max(1, int(ttl_seconds * 1000))])))

    async def publish(self, topic: str, message: str) -> None:
        await self._call("publish", lambda: self._redis.publish(self._prefix + topic, message))

    async def subscribe(self, topic: str) -> AsyncIterator[str]:
        pubsub = self._subscriber.pubsub()
        try:
            await self._call("subscribe", lambda: pubsub.subscribe(self._prefix + topic))
            while True:
                item = await self._call("subscribe", lambda: pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0), gated=False)
                if item is not None and item.get("type") == "message":
                    yield str(item["data"])
        finally:
            with contextlib.suppress(*_FAILURES):
                await pubsub.aclose()

    async def close(self) -> None:
        for client in (self._redis, self._subscriber):
            with contextlib.suppress(*_FAILURES):
                await client.aclose()


def open_shared_state(url: str, prefix: str = "paymesh:") -> SharedState:
    """The implementation named by the URL: ``memory://`` or ``redis://...``."""
    if url.startswith("memory://"):
        return InProcessState()
    return RedisState(url, prefix)
