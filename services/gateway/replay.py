"""The replay window: a signed merchant request is accepted once within its reqTime window.

Every request's key (its nonce, or else its signature) is remembered for twice the reqTime
window in two places: this process's own window (an ``InProcessState``) and the shared state, so
a replay is refused whichever gateway replica it reaches. The shared state is Redis when several
gateways run; while Redis is unreachable or slow (``SharedStateUnavailable``, answered at once
while its circuit breaker is open) the check degrades to this process's window instead of
refusing the request.

What a replay can do during a Redis outage (docs/reliability.md, "Redis outages"):

- a replay to the same gateway process is still refused, by the local window;
- a replay to another gateway process is accepted, as is, once Redis is back, the replay of a
  request it only ever saw while the shared entry was lost (a Redis restarted without its data).
  Such a replay does no harm to money: unified orders and refunds are idempotent by
  ``mchOrderNo`` / ``mchRefundNo`` (the replay gets the stored order back), and queries and
  closes change nothing a second time. ``reqTime`` still bounds every replay to ±window.
"""

from __future__ import annotations

from paymesh.services.common.metrics import shared_state_instruments
from paymesh.services.common.sharedstate import (
    InProcessState,
    SharedState,
    SharedStateUnavailable,
)


class ReplayWindow:
    """Says whether a request key is seen for the first time, in this process and the cluster."""

    def __init__(self, shared: SharedState) -> None:
        self._shared = shared
        # An in-process shared state is this process's window already.
        self._local = None if isinstance(shared, InProcessState) else InProcessState()
        _, _, self._degraded = shared_state_instruments()

    async def first_sighting(self, key: str, ttl_seconds: float) -> bool:
        """Remembers ``key`` for ``ttl_seconds``; False when it was already remembered."""
        if self._local is not None and not await self._local.set_if_absent(key, "1",
                                                                           ttl_seconds):
            return False
        try:
            return await self._shared.set_if_absent(key, "1", ttl_seconds)
        except SharedStateUnavailable:
            self._degraded.labels("replay").inc()
            return True  # fresh in this process's window, which has remembered it

    async def close(self) -> None:
        if self._local is not None:
            await self._local.close()
