"""Fixtures: one localstripe process per test session, an adapter and a webhook receiver."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from paymesh.services.channel.adapters.stripe_card import StripeAdapter

from .. import CallbackReceiver, Received
from . import WEBHOOK_SECRET, Payer

WEBHOOK_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed",
                  "refund.updated", "charge.refunded"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """The channel service's kind of shared HTTP client."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client


@pytest.fixture
def adapter(http: httpx.AsyncClient) -> StripeAdapter:
    return StripeAdapter(http)


@pytest.fixture
def payer(http: httpx.AsyncClient, localstripe: str) -> Payer:
    return Payer(http, localstripe)


class WebhookEndpoint(CallbackReceiver):
    """The account's webhook endpoint, registered with localstripe for the paymesh events."""

    async def event_for(self, pay_order_id: str, event_type: str,
                        timeout: float = 8.0) -> Received:
        """The next delivery of ``event_type`` about ``pay_order_id`` (others are skipped:
        localstripe delivers late events of earlier tests to whichever endpoint is current)."""
        deadline = time.monotonic() + timeout
        while True:
            received = await self.next(max(0.01, deadline - time.monotonic()))
            try:
                event = json.loads(received.body)
                metadata = event["data"]["object"].get("metadata") or {}
            except (ValueError, KeyError, AttributeError):
                continue
            if event.get("type") == event_type and metadata.get("pay_order_id") == pay_order_id:
                return received


@pytest.fixture
async def endpoint(localstripe: str, http: httpx.AsyncClient) -> AsyncIterator[WebhookEndpoint]:
    receiver = WebhookEndpoint(answers=[(200, '{"received": true}')])
    await receiver.start()
    answer = await http.post(f"{localstripe}/_config/webhooks/paymesh",
                             json={"url": receiver.url, "secret": WEBHOOK_SECRET,
                                   "events": WEBHOOK_EVENTS})
    answer.raise_for_status()
    try:
        yield receiver
    finally:
        await receiver.stop()
