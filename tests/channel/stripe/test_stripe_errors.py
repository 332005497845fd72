"""What the adapter answers when Stripe is unreachable, silent, failing, or misconfigured."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from paymesh.services.channel.adapters.base import ChannelState, PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.stripe_card import StripeAdapter
from paymesh.services.common.errors import DomainError, InvalidArgument

from . import params

S = ChannelState
ORDER = PaymentOrder(pay_order_id="P900", way_code="STRIPE_CARD", amount=1000, currency="usd",
                     subject="Tea")


@contextlib.asynccontextmanager
async def scripted_stripe(status: int | None, body: bytes = b"{}") -> AsyncIterator[str]:
    """A loopback HTTP server answering every request with ``status`` and ``body`` — or, with
    None, reading the request and never answering (a Stripe that took it and went silent)."""
    received = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        received.set()
        if status is None:
            await asyncio.sleep(30)
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fast(http: httpx.AsyncClient) -> StripeAdapter:
    return StripeAdapter(http, timeout_seconds=0.3)


async def test_a_refused_connection_is_a_sys_error(fast: StripeAdapter) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    paid = await fast.pay(params(base), ORDER, "")
    assert (paid.state, paid.err_code) == (S.SYS_ERROR, "CHANNEL_UNREACHABLE")
    assert (await fast.query(params(base), "P900")).state == S.SYS_ERROR


async def test_silence_after_sending_is_unknown(fast: StripeAdapter) -> None:
    async with scripted_stripe(None) as base:
        paid = await fast.pay(params(base), ORDER, "")
        assert (paid.state, paid.err_code) == (S.UNKNOWN, "CHANNEL_NO_ANSWER")
        refund = RefundOrder("P900", "R900", 1000, 10, "usd", channel_order_no="pi_1")
        assert (await fast.refund(params(base), refund, "")).state == S.UNKNOWN
        assert (await fast.close(params(base), "P900")).state == S.UNKNOWN


@pytest.mark.parametrize(("status", "error", "state", "code"), [
    (500, {"type": "api_error", "message": "boom"}, S.UNKNOWN, "http_500"),
    (402, {"type": "card_error", "code": "card_declined", "message": "no"}, S.CONFIRM_FAIL,
     "card_declined"),
    (400, {"type": "invalid_request_error", "code": "amount_too_small", "message": "min"},
     S.CONFIRM_FAIL, "amount_too_small"),
    (400, {"type": "idempotency_error", "message": "other params"}, S.CONFIRM_FAIL,
     "ORDER_PARAMS_MISMATCH"),
    (409, {"type": "idempotency_error", "message": "in flight"}, S.UNKNOWN,
     "conflict"),
    (429, {"type": "invalid_request_error", "code": "rate_limit", "message": "slow"},
     S.SYS_ERROR, "rate_limit"),
])
async def test_stripe_errors_on_pay(http: httpx.AsyncClient, status: int, error: dict[str, Any],
                                    state: ChannelState, code: str) -> None:
    async with scripted_stripe(status, json.dumps({"error": error}).encode()) as base:
        paid = await StripeAdapter(http).pay(params(base), ORDER, "")
    assert (paid.state, paid.err_code) == (state, code)


async def test_a_refusal_during_a_query_is_not_a_failed_payment(http: httpx.AsyncClient) -> None:
    body = b'{"error": {"type": "invalid_request_error", "code": "parameter_unknown"}}'
    async with scripted_stripe(400, body) as base:
        queried = await StripeAdapter(http).query(params(base), "P900")
    assert (queried.state, queried.err_code) == (S.UNKNOWN, "parameter_unknown")


async def test_a_rejected_key_is_a_configuration_error(http: httpx.AsyncClient,
                                                       localstripe: str) -> None:
    # localstripe accepts any sk_… key and refuses others, as Stripe refuses a revoked key.
    with pytest.raises(DomainError) as refused:
        await StripeAdapter(http).query(params(localstripe, secretKey="rk_test_revoked1"), "P1")
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"


@pytest.mark.parametrize("bad", [
    {"secretKey": ""}, {"secretKey": "pk_test_abcdef"}, {"secretKey": 42},
    {"apiBase": "http://api.stripe.com"}, {"apiBase": "ftp://127.0.0.1"},
    {"apiBase": "https://api.stripe.com/v1"}, {"apiBase": "not a url"},
])
async def test_bad_parameters(adapter: StripeAdapter, bad: dict[str, Any]) -> None:
    with pytest.raises(DomainError) as refused:
        await adapter.pay({**params("https://api.stripe.com"), **bad}, ORDER, "")
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"


@pytest.mark.parametrize("change", [
    {"way_code": "ALI_QR"}, {"amount": 0}, {"currency": "dollars"}, {"currency": ""},
    {"pay_order_id": ""}, {"pay_order_id": "P" * 65},
])
async def test_orders_stripe_cannot_take(adapter: StripeAdapter, change: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        await adapter.pay(params("http://127.0.0.1:9"), dataclasses.replace(ORDER, **change), "")
