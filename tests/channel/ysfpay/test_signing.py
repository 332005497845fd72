"""The ACP 5.1.0 signing recipe, checked by hand and across the two independent implementations."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from paymesh.services.channel.adapters.ysfpay import acp, codes
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.simulators.ysfpay import YsfpaySimulator, pki

FIELDS = {"version": "5.1.0", "txnAmt": "1234", "orderId": "P1000000001",
          "merId": "777290058110097", "reserved": "{serProvId=A0000001}",
          "respMsg": "成功[0000000]", "signature": "ignored"}
# Written out by hand: every field but signature, sorted by name, raw values, joined by '&'.
BY_HAND = ("merId=777290058110097&orderId=P1000000001&reserved={serProvId=A0000001}"
           "&respMsg=成功[0000000]&txnAmt=1234&version=5.1.0")


def test_the_signed_text_is_sorted_raw_pairs_and_its_lower_hex_sha256() -> None:
    assert acp.sign_input(FIELDS) == BY_HAND
    digest = acp.sign_digest(FIELDS)
    assert digest == hashlib.sha256(BY_HAND.encode()).hexdigest().encode()
    assert digest.decode() == digest.decode().lower() and len(digest) == 64


def test_the_adapter_signs_the_hex_digest_with_rsa_sha256(simulator: YsfpaySimulator) -> None:
    """Checked with the bare public key, by neither side's verify routine."""
    merchant = simulator.pki.merchant
    signature = base64.b64decode(acp.sign_fields(FIELDS, merchant.key))
    public_key = merchant.cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    hex_digest = hashlib.sha256(BY_HAND.encode("utf-8")).hexdigest()
    public_key.verify(signature, hex_digest.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    # The data is hashed twice: RSA-SHA256 over the hex text, not over the pairs themselves.
    assert pki.signature_base(FIELDS) == hex_digest.encode()


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyzABC", min_size=1, max_size=12),
                       st.text(max_size=40), min_size=1, max_size=8))
def test_adapter_signatures_verify_at_the_simulator(simulator: YsfpaySimulator,
                                                    fields: dict[str, str]) -> None:
    signed = {**fields, "signature": acp.sign_fields(fields, simulator.pki.merchant.key)}
    assert pki.verify(signed, simulator.pki.merchant.cert)
    if fields:
        name = sorted(fields)[0]
        assert not pki.verify({**signed, name: fields[name] + "x"}, simulator.pki.merchant.cert)


def test_simulator_signatures_verify_at_the_adapter(simulator: YsfpaySimulator) -> None:
    fields = simulator.signed({"respCode": "00", "orderId": "P1000000001"})
    anchors = acp.TrustAnchors(simulator.pki.root.cert, simulator.pki.middle.cert, pki.UNIONPAY_CN)
    now = datetime.now(UTC)
    leaf = acp.verify_fields(fields, anchors, now)
    assert str(leaf.serial_number) == fields["certId"]


def test_answers_are_parsed_as_unionpay_sends_them() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB+/==\n-----END CERTIFICATE-----\n"
    text = f"respCode=00&reserved={{a=1&b=2}}&signPubKeyCert={pem}&signature=ab+/=="
    assert acp.parse_answer(text) == {"respCode": "00", "reserved": "{a=1&b=2}",
                                      "signPubKeyCert": pem, "signature": "ab+/=="}
    for broken in ("=x", "a=1&a=2", "a={1&b=2"):
        try:
            acp.parse_answer(broken)
        except ValueError:
            continue
        raise AssertionError(f"{broken!r} was accepted")


def test_txn_time_comes_from_the_snowflake_order_id_in_beijing_time() -> None:
    order_id = f"P{SnowflakeIds().next()}"
    txn_time = codes.txn_time_of(order_id, "pay_order_id")
    beijing_now = datetime.now(timezone(timedelta(hours=8)))
    made = datetime.strptime(txn_time, "%Y%m%d%H%M%S").replace(tzinfo=beijing_now.tzinfo)
    assert abs((beijing_now - made).total_seconds()) < 5
    assert codes.epoch_of_txn_time(txn_time) is not None
    round_trip = codes.epoch_of_txn_time(codes.txn_time_at(time.time()))
    assert round_trip is not None and abs(round_trip - time.time()) < 2
    assert codes.epoch_of_txn_time("2024-01-01") is None
