"""The config-change feed: committed merchant changes, announced to every replica's watchers.

Every mutation commits first and then announces itself on the shared-state topic
``config-changes``, which the gateways follow (through WatchConfigChanges) to drop the pay
contexts they cache.

A gateway caches only while its stream is live, so a change must never go unannounced to a live
stream. When the shared state (Redis) is unavailable, the feed therefore degrades instead of
failing: a change it cannot announce ends every open stream (the gateways drop their caches and
reconnect), and a stream cannot start (UNAVAILABLE, reason SHARED_STATE_UNAVAILABLE) until it
answers again; meanwhile the gateways resolve every request through this service. Streams served
by other replicas end when their own subscription is lost, which an outage causes too (a lost
subscription never resubscribes by itself: common.sharedstate).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc

from paymesh.services.common.errors import DomainError
from paymesh.services.common.metrics import shared_state_instruments
from paymesh.services.common.sharedstate import SharedState, SharedStateUnavailable

log = logging.getLogger(__name__)

CHANGES_TOPIC = "config-changes"
_READY_TIMEOUT = 10.0


@dataclass(frozen=True)
class ConfigChange:
    """A committed change; an empty app_id means every app of the merchant."""

    app_id: str
    mch_no: str


class ConfigChangeFeed:
    """Publishes committed changes and streams them to watchers until the server stops.

    One feed per process, shared by everything that commits changes, so that a change it could
    not announce ends every stream it serves.
    """

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared
        self._stopped = False
        self._streams: set[asyncio.Event] = set()  # one per open stream: set to end it

    async def announce(self, change: ConfigChange) -> None:
        """Tells every watcher; the change is committed already, so a failure only ends the open
        streams (their watchers may have missed it and must drop what they cached)."""
        message = json.dumps({"app_id": change.app_id, "mch_no": change.mch_no})
        try:
            await self._shared.publish(CHANGES_TOPIC, message)
        except Exception as error:  # noqa: BLE001 - the change is committed; watchers resync
            if isinstance(error, SharedStateUnavailable):
                log.warning("could not announce a config change for %s (%s); ending %d watch "
                            "streams so their caches are dropped", change.mch_no or "an ISV",
                            error, len(self._streams))
            else:
                log.exception("could not announce a config change for %s", change.mch_no)
            _, _, degraded = shared_state_instruments()
            degraded.labels("config_change").inc()
            self._end_streams()

    async def watch(self, on_ready: Callable[[], Awaitable[None]]
                    ) -> AsyncIterator[ConfigChange]:
        """Every change committed from now on, by any replica, until the caller stops.

        ``on_ready`` is awaited once the subscription is live, so a watcher knows that nothing
        committed after that moment can be missed. The stream ends when ``end_watches`` is called
        or a change could not be announced; it fails (UNAVAILABLE) when the shared state cannot
        be followed.
        """
        ended = asyncio.Event()
        if self._stopped:
            return
        self._streams.add(ended)  # before subscribing: a change missed from here ends it
        try:
            async for change in self._follow(on_ready, ended):
                yield change
        except SharedStateUnavailable as error:
            raise DomainError("SHARED_STATE_UNAVAILABLE", "config changes cannot be followed "
                              f"while the shared state is unavailable ({error}); resolve every "
                              "request meanwhile and try again",
                              code=grpc.StatusCode.UNAVAILABLE) from None
        finally:
            self._streams.discard(ended)

    async def _follow(self, on_ready: Callable[[], Awaitable[None]], ended: asyncio.Event
                      ) -> AsyncIterator[ConfigChange]:
        loop = asyncio.get_running_loop()
        marker = secrets.token_hex(8)
        messages = self._shared.subscribe(CHANGES_TOPIC)
        stopping = asyncio.ensure_future(ended.wait())
        pending = asyncio.ensure_future(anext(messages))
        try:
            deadline = loop.time() + _READY_TIMEOUT
            while not pending.done():  # ping ourselves until the subscription hears something
                if stopping.done():
                    return
                if loop.time() > deadline:
                    raise RuntimeError("the config-changes subscription did not start")
                await self._shared.publish(CHANGES_TOPIC, json.dumps({"ping": marker}))
                await asyncio.wait({pending, stopping}, timeout=0.2,
                                   return_when=asyncio.FIRST_COMPLETED)
            try:
                pending.result()  # a subscription that could not start fails before "ready"
            except StopAsyncIteration:
                return
            await on_ready()
            while True:
                try:
                    change = _parse_change(pending.result())
                except StopAsyncIteration:
                    return
                if change is not None:
                    yield change
                pending = asyncio.ensure_future(anext(messages))
                await asyncio.wait({pending, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not pending.done():
                    return
        finally:
            for task in (pending, stopping):
                task.cancel()
            await asyncio.gather(pending, stopping, return_exceptions=True)
            await messages.aclose()  # type: ignore[attr-defined]

    def _end_streams(self) -> None:
        for ended in self._streams:
            ended.set()

    def end_watches(self) -> None:
        """Ends every change stream (and refuses new ones): the server is stopping.

        Streams never finish on their own, so without this they would hold the graceful drain
        for its whole grace period; watchers reconnect to another replica and drop their caches.
        """
        self._stopped = True
        self._end_streams()


def _parse_change(raw: str) -> ConfigChange | None:
    """A change event, or None for pings and anything malformed."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or "mch_no" not in data:
        return None
    return ConfigChange(str(data.get("app_id", "")), str(data["mch_no"]))
