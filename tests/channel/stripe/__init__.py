"""Tests of the Stripe adapter, against a real localstripe process and signed test events.

Helpers shared by the test modules: how a payer pays an intent through localstripe (what
Stripe.js does in a browser), and how a test signs an event the way Stripe does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

SECRET_KEY = "sk_test_paymesh0123456789"
PUBLISHABLE_KEY = "pk_test_paymesh0123456789"
WEBHOOK_SECRET = "whsec_paymeshtest0123456789"
CARD_OK = "4242424242424242"
CARD_DECLINED = "4000000000000341"  # attaches, then the charge is declined (card_declined)
CARD_3DS = "4000002500003155"  # needs 3-D Secure before it is charged


def params(api_base: str, **changes: Any) -> dict[str, Any]:
    """Channel parameters for the localstripe at ``api_base``."""
    return {"secretKey": SECRET_KEY, "webhookSecret": WEBHOOK_SECRET, "apiBase": api_base,
            **changes}


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """A ``Stripe-Signature`` header computed here, independently of the adapter."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def event_body(event_type: str, obj: dict[str, Any], event_id: str = "evt_test") -> bytes:
    """A Stripe event as delivered to a webhook endpoint."""
    return json.dumps({"id": event_id, "object": "event", "type": event_type,
                       "api_version": "2026-10-28.endive", "created": 1700000000,
                       "data": {"object": obj}}, indent=2).encode()


class Payer:
    """Pays intents through localstripe's API, as Stripe.js does in the payer's browser.

    localstripe cannot confirm with a payment method in the same call (real Stripe.js does), so
    the card's PaymentMethod is attached to the intent, then the intent confirmed; 3-D Secure is
    completed the way localstripe's own Stripe.js stand-in does, with the publishable key and
    the ``clientSecret`` from the payData.
    """

    def __init__(self, http: httpx.AsyncClient, api_base: str) -> None:
        self._http = http
        self._base = api_base
        self._auth = {"Authorization": f"Bearer {SECRET_KEY}"}

    async def enter_card(self, intent_id: str, number: str) -> dict[str, Any]:
        """Attaches a test card to the intent and confirms it; the intent as Stripe answers."""
        method = await self._http.post(f"{self._base}/v1/payment_methods", headers=self._auth,
                                       data={"type": "card", "card[number]": number,
                                             "card[exp_month]": "12", "card[exp_year]": "2034",
                                             "card[cvc]": "123"})
        method.raise_for_status()
        attached = await self._http.post(f"{self._base}/v1/payment_intents/{intent_id}",
                                         headers=self._auth,
                                         data={"payment_method": method.json()["id"]})
        attached.raise_for_status()
        confirmed = await self._http.post(
            f"{self._base}/v1/payment_intents/{intent_id}/confirm", headers=self._auth)
        answer: dict[str, Any] = confirmed.json()
        return answer

    async def authenticate(self, client_secret: str, success: bool = True) -> dict[str, Any]:
        """Completes (or fails) 3-D Secure with only what the payer's page has."""
        intent_id = client_secret.split("_secret_", 1)[0]
        answer = await self._http.post(
            f"{self._base}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if success else "false"},
            json={"key": PUBLISHABLE_KEY, "client_secret": client_secret})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result
