"""Stripe-Signature verification and event reading, against signatures computed here."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.channel.adapters.base import (
    Callback,
    CallbackKind,
    CallbackResult,
    ChannelState,
)
from paymesh.services.channel.adapters.stripe_card import StripeAdapter
from paymesh.services.channel.adapters.stripe_card.webhook import check_signature
from paymesh.services.common.errors import DomainError

from . import WEBHOOK_SECRET, event_body, params, sign

S = ChannelState
NOW = 1_700_000_000
GOLDEN_BODY = b'{"id":"evt_1"}'
GOLDEN_V1 = "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
INTENT = {"id": "pi_3Abc", "object": "payment_intent", "amount": 1999, "currency": "usd",
          "status": "succeeded", "metadata": {"pay_order_id": "P123"}}
REFUND = {"id": "re_9", "object": "refund", "amount": 500, "currency": "usd",
          "status": "succeeded", "payment_intent": "pi_3Abc",
          "metadata": {"pay_order_id": "P123", "refund_order_id": "R77"}}


def test_the_golden_vector_of_channel_protocols_4_2() -> None:
    mac = hmac.new(b"whsec_test", b"1700000000." + GOLDEN_BODY, hashlib.sha256).hexdigest()
    assert mac == GOLDEN_V1
    header = f"t=1700000000,v1={GOLDEN_V1}"
    assert check_signature(header, GOLDEN_BODY, "whsec_test", now=NOW) == ""
    assert check_signature(header, GOLDEN_BODY, "whsec_test", now=NOW + 300) == ""
    assert "301 s away" in check_signature(header, GOLDEN_BODY, "whsec_test", now=NOW + 301)
    assert "301 s away" in check_signature(header, GOLDEN_BODY, "whsec_test", now=NOW - 301)


@pytest.fixture
def adapter(http: httpx.AsyncClient) -> StripeAdapter:
    """An adapter whose clock reads NOW; verification makes no HTTP calls."""
    return StripeAdapter(http, clock=lambda: NOW)


async def verify(adapter: StripeAdapter, body: bytes, header: str | None,
                 secret: str = WEBHOOK_SECRET) -> CallbackResult:
    headers = {"content-type": "application/json"}
    if header is not None:
        headers["stripe-signature"] = header
    return await adapter.verify_callback(params("https://api.stripe.com", webhookSecret=secret),
                                         Callback(headers, body, "application/json"))


async def test_a_payment_event_is_verified_and_read(adapter: StripeAdapter) -> None:
    body = event_body("payment_intent.succeeded", INTENT)
    verdict = await verify(adapter, body, sign(body, WEBHOOK_SECRET, NOW))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state, verdict.pay_order_id, verdict.channel_order_no,
            verdict.amount, verdict.currency) == (
        CallbackKind.PAY, S.CONFIRM_SUCCESS, "P123", "pi_3Abc", 1999, "usd")


async def test_any_v1_may_match_during_secret_rotation(adapter: StripeAdapter) -> None:
    body = event_body("payment_intent.succeeded", INTENT)
    old = sign(body, "whsec_oldsecret", NOW).split(",")[1]
    header = f"t={NOW},{old},{sign(body, WEBHOOK_SECRET, NOW).split(',')[1]},v0=abc"
    assert (await verify(adapter, body, header)).verified
    assert not (await verify(adapter, body, f"t={NOW},{old}")).verified


async def test_refund_events(adapter: StripeAdapter) -> None:
    body = event_body("refund.updated", {**REFUND, "status": "failed",
                                         "failure_reason": "expired_or_canceled_card"})
    verdict = await verify(adapter, body, sign(body, WEBHOOK_SECRET, NOW))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state, verdict.refund_order_id, verdict.channel_refund_no,
            verdict.refund_amount, verdict.err_code) == (
        CallbackKind.REFUND, S.CONFIRM_FAIL, "R77", "re_9", 500, "expired_or_canceled_card")
    charge = {"id": "ch_1", "object": "charge", "amount": 1999, "amount_refunded": 800,
              "currency": "usd", "payment_intent": "pi_3Abc", "metadata": {"pay_order_id": "P123"}}
    body = event_body("charge.refunded", charge)
    verdict = await verify(adapter, body, sign(body, WEBHOOK_SECRET, NOW))
    assert verdict.verified, verdict.reject_reason
    assert (verdict.kind, verdict.state, verdict.amount, verdict.refund_amount) == (
        CallbackKind.REFUND, None, 1999, 800)


@pytest.mark.parametrize(("case", "reason"), [
    ("tampered", "no v1 signature matches"),
    ("wrong secret", "no v1 signature matches"),
    ("stale", "away from now"),
    ("from the future", "away from now"),
    ("re-serialised", "no v1 signature matches"),
    ("no header", "no Stripe-Signature"),
    ("no timestamp", "no timestamp"),
    ("no v1", "no v1 signature"),
    ("v0 only", "no v1 signature"),
])
async def test_unacceptable_signatures_are_refused(adapter: StripeAdapter, case: str,
                                                   reason: str) -> None:
    body = event_body("payment_intent.succeeded", INTENT)
    good = sign(body, WEBHOOK_SECRET, NOW)
    sent, header = body, good
    if case == "tampered":
        sent = body.replace(b"1999", b"9999")
    elif case == "wrong secret":
        header = sign(body, "whsec_notours", NOW)
    elif case == "stale":
        header = sign(body, WEBHOOK_SECRET, NOW - 301)
    elif case == "from the future":
        header = sign(body, WEBHOOK_SECRET, NOW + 301)
    elif case == "re-serialised":
        sent = json.dumps(json.loads(body)).encode()
    elif case == "no header":
        header = None  # type: ignore[assignment]
    elif case == "no timestamp":
        header = good.split(",")[1]
    elif case == "no v1":
        header = f"t={NOW}"
    elif case == "v0 only":
        header = good.replace("v1=", "v0=")
    verdict = await verify(adapter, sent, header)
    assert not verdict.verified
    assert reason in verdict.reject_reason
    assert (verdict.ack_retry.status, verdict.state, verdict.pay_order_id) == (400, None, "")


@pytest.mark.parametrize(("event_type", "obj", "reason"), [
    ("customer.created", {"id": "cus_1", "metadata": {"pay_order_id": "P1"}}, "not one paymesh"),
    ("payment_intent.succeeded", {**INTENT, "metadata": {}}, "names no paymesh order"),
    ("payment_intent.succeeded", {**INTENT, "amount": "1999"}, "no amount"),
    ("refund.updated", {**REFUND, "metadata": {"pay_order_id": "P123"}}, "names no paymesh"),
])
async def test_authentic_events_paymesh_cannot_use_are_refused(
        adapter: StripeAdapter, event_type: str, obj: dict[str, object], reason: str) -> None:
    body = event_body(event_type, obj)
    verdict = await verify(adapter, body, sign(body, WEBHOOK_SECRET, NOW))
    assert not verdict.verified and reason in verdict.reject_reason


async def test_identify_reads_metadata_and_trusts_nothing(adapter: StripeAdapter) -> None:
    def callback(body: bytes) -> Callback:
        return Callback({}, body, "application/json")

    paid = await adapter.identify_callback(callback(event_body("payment_intent.succeeded",
                                                               INTENT)))
    assert paid is not None and (paid.kind, paid.pay_order_id) == (CallbackKind.PAY, "P123")
    refund = await adapter.identify_callback(callback(event_body("refund.updated", REFUND)))
    assert refund is not None
    assert (refund.kind, refund.pay_order_id, refund.refund_order_id) == (
        CallbackKind.REFUND, "P123", "R77")
    for body in (b"", b"not json", b"[]", b'{"type": 1}',
                 event_body("payment_intent.succeeded", {**INTENT, "metadata": {}}),
                 event_body("payment_intent.succeeded",
                            {**INTENT, "metadata": {"pay_order_id": "P1' OR 1=1"}}),
                 event_body("payment_intent.succeeded",
                            {**INTENT, "metadata": {"pay_order_id": ["P1"]}}),
                 event_body("customer.created", {"metadata": {"pay_order_id": "P1"}})):
        assert await adapter.identify_callback(callback(body)) is None, body


async def test_a_missing_webhook_secret_is_a_configuration_error(adapter: StripeAdapter) -> None:
    body = event_body("payment_intent.succeeded", INTENT)
    with pytest.raises(DomainError) as refused:
        await adapter.verify_callback({"secretKey": "sk_test_abcdef"},
                                      Callback({}, body, "application/json"))
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"


@given(body=st.binary(max_size=300),
       header=st.one_of(st.text(max_size=200), st.builds(
           lambda t, v: f"t={t},v1={v}", st.integers(-10**15, 10**15),
           st.text("0123456789abcdefABCDEF=,", max_size=70))))
async def test_verify_and_identify_never_raise(body: bytes, header: str) -> None:
    async with httpx.AsyncClient() as http:
        adapter = StripeAdapter(http, clock=lambda: NOW)
        callback = Callback({"stripe-signature": header}, body, "application/json")
        verdict = await adapter.verify_callback(params("https://api.stripe.com"), callback)
        assert not verdict.verified and verdict.reject_reason
        await adapter.identify_callback(callback)
