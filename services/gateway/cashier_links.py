"""Signed, expiring links to the aggregated-QR cashier (聚合码).

A token is ``<payOrderId>.<expiry, Unix seconds>.<HMAC-SHA256, 16 bytes, base64url>`` keyed by a
key derived from the master key, so a link cannot be forged for another order or kept alive past
its order's expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable


class CashierLinkError(ValueError):
    """A cashier token that is malformed, forged or expired; the message says which."""


class CashierLinks:
    """Signs and checks cashier tokens."""

    def __init__(self, key: bytes, public_url: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._public_url = public_url.rstrip("/")
        self._clock = clock

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def token(self, pay_order_id: str, expires_at: int) -> str:
        body = f"{pay_order_id}.{expires_at}"
        return f"{body}.{self._mac(body)}"

    def url(self, pay_order_id: str, expires_at: int) -> str:
        return f"{self._public_url}/cashier/{self.token(pay_order_id, expires_at)}"

    def check(self, token: str) -> str:
        """The pay order id of a valid, unexpired token."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            raise CashierLinkError("this payment link is not valid")
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(self._mac(body), parts[2]):
            raise CashierLinkError("this payment link is not valid")
        if int(parts[1]) <= self._clock():
            raise CashierLinkError("this payment link has expired")
        return parts[0]
