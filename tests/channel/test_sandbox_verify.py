"""VerifyCallback for the sandbox: authentic callbacks pass, anything else is refused politely."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paymesh.channel.v1 import channel_pb2
from paymesh.services.channel.adapters.sandbox_protocol import sign
from paymesh.services.common.config import MeshConfig

from . import KEY, PARAMS, ChannelMesh, running_channel

S = channel_pb2.ChannelState
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


def callback_fields(key: str = KEY, **changes: str) -> dict[str, str]:
    """A correctly signed callback, with ``changes`` applied before signing."""
    fields = {"payOrderId": "P100", "channelOrderNo": "SB2024010100000012345678",
              "amount": "1234", "currency": "cny", "result": "SUCCESS",
              "timestamp": str(int(time.time() * 1000)), "nonce": "n0nce"}
    fields.update(changes)
    fields["sign"] = sign(fields, key)
    return fields


async def verify(mesh: ChannelMesh, body: bytes, params: str = PARAMS
                 ) -> channel_pb2.VerifyCallbackResponse:
    return await mesh.channel.VerifyCallback(channel_pb2.VerifyCallbackRequest(
        if_code="sandbox", channel_params_json=params, body=body, content_type=FORM))


async def test_an_authentic_callback_is_verified(mesh: ChannelMesh) -> None:
    verdict = await verify(mesh, urlencode(callback_fields(result="FAIL")).encode())
    assert verdict.verified, verdict.reject_reason
    assert (verdict.pay_order_id, verdict.amount, verdict.currency) == ("P100", 1234, "cny")
    assert verdict.channel_state == S.CHANNEL_STATE_CONFIRM_FAIL
    assert verdict.err_code == "PAYER_DECLINED"
    assert verdict.kind == channel_pb2.CALLBACK_KIND_PAY
    assert (verdict.refund_order_id, verdict.channel_refund_no, verdict.refund_amount) == (
        "", "", 0)


def bad_callbacks() -> list[tuple[dict[str, str], str]]:
    """Callbacks that must be refused, each with a word the reason must contain."""
    now_ms = int(time.time() * 1000)
    return [
        ({**callback_fields(), "amount": "1"}, "signature"),
        ({**callback_fields(), "sign": "0" * 64}, "signature"),
        (callback_fields(key="some-other-app-key"), "signature"),
        (callback_fields(timestamp=str(now_ms - 301_000)), "timestamp"),
        (callback_fields(timestamp=str(now_ms + 301_000)), "timestamp"),
        (callback_fields(amount="0"), "amount"),
        (callback_fields(amount="12.34"), "amount"),
        (callback_fields(result="MAYBE"), "result"),
        ({k: v for k, v in callback_fields().items() if k != "nonce"}, "nonce"),
        ({k: v for k, v in callback_fields().items() if k != "sign"}, "sign"),
    ]


async def test_a_bad_callback_is_refused_with_a_reason(mesh: ChannelMesh) -> None:
    for fields, reason in bad_callbacks():
        verdict = await verify(mesh, urlencode(fields).encode())
        assert not verdict.verified, fields
        assert reason in verdict.reject_reason, (fields, verdict.reject_reason)
        assert verdict.pay_order_id == "" and verdict.amount == 0
        assert verdict.kind == channel_pb2.CALLBACK_KIND_UNSPECIFIED
        assert (verdict.ack_retry.status, verdict.ack_retry.body) == (400, b"fail")
        assert (verdict.ack_ok.status, verdict.ack_ok.body) == (200, b"success")


async def test_garbage_is_refused_not_raised(mesh: ChannelMesh) -> None:
    for body in [b"", b"\xff\xfe", b"not a form", b"a=1&a=2", b"{}"]:
        verdict = await verify(mesh, body)
        assert not verdict.verified and verdict.reject_reason, body


async def test_the_key_comes_from_the_channel_params(mesh: ChannelMesh) -> None:
    body = urlencode(callback_fields()).encode()
    assert not (await verify(mesh, body, json.dumps({"key": "another"}))).verified
    assert (await verify(mesh, body)).verified


def test_sign_is_documented_hmac_over_sorted_pairs() -> None:
    fields = {"b": "2", "a": "1", "Z": "3", "empty": "", "sign": "ignored"}
    expected = hmac.new(b"k", b"Z=3&a=1&b=2", hashlib.sha256).hexdigest().upper()
    assert sign(fields, "k") == expected


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=8), st.text(min_size=1))
def test_sign_ignores_order_empty_values_and_the_sign_field(fields: dict[str, str],
                                                            key: str) -> None:
    reordered = dict(reversed(list(fields.items())))
    padded = {**reordered, "sign": "whatever", "zz-empty": ""}
    if "zz-empty" in fields and fields["zz-empty"]:
        return
    assert sign(fields, key) == sign(padded, key)
