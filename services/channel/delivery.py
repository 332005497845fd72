"""Delivers the sandbox's signed callbacks to the platform, at least once.

The first attempt runs while the payer waits, so the pay page can say whether the platform took
the callback. When it did not, attempts go on in the background after 1, 2, 4, 8, 16 and 32
seconds, then stop. A new delivery for the same payment replaces the one still retrying.

Each attempt builds a freshly signed form (new timestamp and nonce) and carries the current
OpenTelemetry context in its headers, so the platform's handling of the callback joins the trace
of the payer's click.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

import httpx
from opentelemetry import trace
from opentelemetry.propagate import inject

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

RETRY_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 16, 32)
ACK_BODY = "success"

FormFactory = Callable[[], Mapping[str, str]]


def is_ack(response: httpx.Response) -> bool:
    """The sandbox protocol's acknowledgement: HTTP 200 with body "success" (trimmed, any case)."""
    return response.status_code == 200 and response.text.strip().lower() == ACK_BODY


class CallbackDelivery:
    """Posts callbacks with one HTTP client and keeps track of the retries still running."""

    def __init__(self, client: httpx.AsyncClient,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self._client = client
        self._retry_delays = tuple(retry_delays)
        self._retrying: dict[str, asyncio.Task[None]] = {}

    async def deliver(self, key: str, url: str, form: FormFactory) -> bool:
        """One attempt now; on failure, retries in the background. True when acknowledged now.

        ``key`` names the payment: a newer delivery for it cancels the older one's retries.
        """
        previous = self._retrying.pop(key, None)
        if previous is not None:
            previous.cancel()
        if await self._attempt(url, form, attempt=1):
            return True
        task = asyncio.create_task(self._retry(url, form), name=f"sandbox-callback-{key}")
        self._retrying[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))
        return False

    async def close(self) -> None:
        """Cancels every background retry (the service is stopping)."""
        tasks = list(self._retrying.values())
        self._retrying.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _forget(self, key: str, done: asyncio.Task[None]) -> None:
        if self._retrying.get(key) is done:
            del self._retrying[key]

    async def _retry(self, url: str, form: FormFactory) -> None:
        for number, delay in enumerate(self._retry_delays, start=2):
            await asyncio.sleep(delay)
            if await self._attempt(url, form, attempt=number):
                return
        log.warning("sandbox callback to %s not acknowledged after %d attempts; giving up",
                    url, len(self._retry_delays) + 1)

    async def _attempt(self, url: str, form: FormFactory, attempt: int) -> bool:
        with tracer.start_as_current_span(
                "sandbox callback", kind=trace.SpanKind.CLIENT,
                attributes={"http.request.method": "POST", "url.full": url,
                            "paymesh.attempt": attempt}) as span:
            headers: dict[str, str] = {}
            inject(headers)
            try:
                response = await self._client.post(url, data=dict(form()), headers=headers)
            except httpx.HTTPError as error:
                log.info("sandbox callback attempt %d to %s failed: %s", attempt, url,
                         type(error).__name__)
                span.set_attribute("error.type", type(error).__name__)
                return False
            span.set_attribute("http.response.status_code", response.status_code)
            acked = is_ack(response)
            if not acked:
                log.info("sandbox callback attempt %d to %s not acknowledged (HTTP %d)",
                         attempt, url, response.status_code)
            return acked
