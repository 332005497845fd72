"""The config-change feed: committed merchant changes, announced to every replica's watchers.

Every mutation commits first and then announces itself on the shared-state topic
``config-changes``, which the gateways follow (through WatchConfigChanges) to drop the pay
contexts they cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from paymesh.services.common.sharedstate import SharedState

log = logging.getLogger(__name__)

CHANGES_TOPIC = "config-changes"
_READY_TIMEOUT = 10.0


@dataclass(frozen=True)
class ConfigChange:
    """A committed change; an empty app_id means every app of the merchant."""

    app_id: str
    mch_no: str


class ConfigChangeFeed:
    """Publishes committed changes and streams them to watchers until the server stops."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared
        self._stopping = asyncio.Event()

    async def announce(self, change: ConfigChange) -> None:
        """Tells every watcher; the change is committed already, so a failure is only logged."""
        message = json.dumps({"app_id": change.app_id, "mch_no": change.mch_no})
        try:
            await self._shared.publish(CHANGES_TOPIC, message)
        except Exception:  # noqa: BLE001 - watchers reconnect and drop all on stream loss
            log.exception("could not publish a config change for %s", change.mch_no)

    async def watch(self, on_ready: Callable[[], Awaitable[None]]
                    ) -> AsyncIterator[ConfigChange]:
        """Every change committed from now on, by any replica, until the caller stops.

        ``on_ready`` is awaited once the subscription is live, so a watcher knows that nothing
        committed after that moment can be missed. The stream ends when ``end_watches`` is called.
        """
        loop = asyncio.get_running_loop()
        marker = secrets.token_hex(8)
        messages = self._shared.subscribe(CHANGES_TOPIC)
        stopping = asyncio.ensure_future(self._stopping.wait())
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

    def end_watches(self) -> None:
        """Ends every change stream (and refuses new ones): the server is stopping.

        Streams never finish on their own, so without this they would hold the graceful drain
        for its whole grace period; watchers reconnect to another replica and drop their caches.
        """
        self._stopping.set()


def _parse_change(raw: str) -> ConfigChange | None:
    """A change event, or None for pings and anything malformed."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or "mch_no" not in data:
        return None
    return ConfigChange(str(data.get("app_id", "")), str(data["mch_no"]))
