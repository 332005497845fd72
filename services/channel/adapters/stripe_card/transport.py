"""Stripe's official SDK on the channel service's shared httpx client, and what its errors mean.

The SDK's own ``HTTPXClient`` opens a private httpx client per instance; this one sends through
the client the service already owns (connection pool, limits, tracing), with a per-request
timeout and no retries: a retry belongs to the platform, which knows whether it is safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import stripe

from paymesh.services.channel.adapters.base import ChannelState
from paymesh.services.channel.adapters.stripe_card.params import StripeParams
from paymesh.services.common.errors import DomainError

# Raised before a byte of the request reached Stripe: nothing can have happened there.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
             httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.ProxyError)


class SharedHttpxClient(stripe.HTTPClient):
    """An async-only SDK transport over an injected ``httpx.AsyncClient``."""

    name = "httpx"

    def __init__(self, http: httpx.AsyncClient, timeout_seconds: float) -> None:
        super().__init__()
        self._http = http
        self._timeout = timeout_seconds

    async def request_async(self, method: str, url: str, headers: Mapping[str, str],
                            post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        """Sends one request; transport failures become APIConnectionError with the cause."""
        try:
            response = await self._http.request(method, url, headers=dict(headers),
                                                content=post_data, timeout=self._timeout)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"network error talking to Stripe ({type(error).__name__})",
                should_retry=False) from error
        return response.content, response.status_code, response.headers

    def request(self, method: str, url: str, headers: Mapping[str, str] | None,
                post_data: Any = None, *, _usage: list[str] | None = None) -> NoReturn:
        """Synchronous calls would block the event loop; the adapter never makes them."""
        raise NotImplementedError("the Stripe adapter only makes asynchronous calls")

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    def close(self) -> None:
        """Nothing to close: the httpx client belongs to the channel service."""

    async def close_async(self) -> None:
        """Nothing to close: the httpx client belongs to the channel service."""


def open_client(params: StripeParams, http: httpx.AsyncClient,
                timeout_seconds: float) -> stripe.StripeClient:
    """A Stripe client for one call's account (cheap: no connection is opened here)."""
    return stripe.StripeClient(params.secret_key,
                               http_client=SharedHttpxClient(http, timeout_seconds),
                               base_addresses={"api": params.api_base},
                               max_network_retries=0)


@dataclass(frozen=True)
class Failure:
    """What a failed Stripe call means for the platform: a state and the channel's error."""

    state: ChannelState
    err_code: str
    err_msg: str


def classify(error: stripe.StripeError, *, refused: ChannelState) -> Failure:
    """The meaning of ``error``; ``refused`` is the state for a request Stripe declined (4xx).

    Stripe's 401/403 mean the secret key is wrong or lacks rights: that is bad configuration,
    raised as CHANNEL_CONFIG_INVALID so no caller mistakes it for a payment's outcome. A
    timeout, a 5xx or a 409 (the same idempotency key still in flight) leave the outcome
    UNKNOWN; a refused connection or a 429 mean Stripe did nothing: SYS_ERROR.
    """
    message = (error.user_message or str(error) or type(error).__name__)[:256]
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          f"Stripe refused the secret key: {message}") from error
    if isinstance(error, stripe.APIConnectionError):
        if isinstance(error.__cause__, _NOT_SENT):
            return Failure(ChannelState.SYS_ERROR, "CHANNEL_UNREACHABLE",
                           f"Stripe could not be reached: {message}")
        return Failure(ChannelState.UNKNOWN, "CHANNEL_NO_ANSWER",
                       f"no answer from Stripe after sending; query to learn the outcome: "
                       f"{message}")
    if isinstance(error, stripe.RateLimitError):
        return Failure(ChannelState.SYS_ERROR, error.code or "rate_limit", message)
    status = error.http_status or 0
    if status == 409:
        # The same idempotency key is still being executed: its outcome is not known yet.
        return Failure(ChannelState.UNKNOWN, error.code or "conflict", message)
    if isinstance(error, stripe.IdempotencyError):
        return Failure(refused, "idempotency_error", message)
    if isinstance(error, stripe.CardError | stripe.InvalidRequestError) and 400 <= status < 500:
        code = error.code or ("card_error" if isinstance(error, stripe.CardError)
                              else "invalid_request_error")
        return Failure(refused, code, message)
    return Failure(ChannelState.UNKNOWN, error.code or f"http_{status or 'error'}", message)
