"""Pinned vectors, computed apart from both the adapter and the simulator (reference §1.4, §6.9)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from paymesh.services.channel.adapters.wxpay import signing
from paymesh.services.simulators.wxpay.keys import seal

KEY = "0123456789abcdef0123456789abcdef"
NONCE = "A1b2C3d4E5f6"
PLAINTEXT = (b'{"mchid":"1900000001","out_trade_no":"ORD1","trade_state":"SUCCESS",'
             b'"amount":{"total":1,"currency":"CNY"}}')
CIPHERTEXT = ("a516J17hhvMShaRopIL+shqtghLpCpZVMouYcNPdAaOlMYlvP1stXn7p5ZXad6z+s51Zkv7D8SHH5rtTrn3+"
              "QqSp96twniy/gaKWg0HNqSOUgJQVRdy2W2Ht7YkWuGGFstfijHAnH5H0IT3rVTIfhOB0jCXM+PNcnnU=")


def test_adapter_decrypts_the_reference_vector() -> None:
    assert signing.decrypt_resource(KEY.encode(), NONCE, "transaction", CIPHERTEXT) == PLAINTEXT


def test_simulator_encrypts_the_reference_vector() -> None:
    assert seal(KEY, NONCE, "transaction", PLAINTEXT) == CIPHERTEXT


@pytest.mark.parametrize("change", ["key", "nonce", "associated_data", "ciphertext"])
def test_any_change_breaks_decryption(change: str) -> None:
    key, nonce, aad, text = KEY.encode(), NONCE, "transaction", CIPHERTEXT
    if change == "key":
        key = KEY.upper().encode()
    elif change == "nonce":
        nonce = "A1b2C3d4E5f7"
    elif change == "associated_data":
        aad = "refund"
    else:
        raw = bytearray(base64.b64decode(CIPHERTEXT))
        raw[0] ^= 1
        text = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(ValueError):
        signing.decrypt_resource(key, nonce, aad, text)


@settings(max_examples=30, deadline=None)
@given(st.binary(max_size=300), st.text(alphabet="abc", max_size=12))
def test_simulator_seal_and_adapter_open_agree(plaintext: bytes, aad: str) -> None:
    assert signing.decrypt_resource(KEY.encode(), NONCE, aad, seal(KEY, NONCE, aad, plaintext)) \
        == plaintext


def test_authorization_header_signs_the_five_lines() -> None:
    """The §1.2 message, checked with a plain RSA verification written here."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = b'{"mchid":"1900000001"}'
    header = signing.authorization(private_key=key, mch_id="1900000001", serial_no="ABC",
                                   method="post", canonical_url="/v3/pay/transactions/native",
                                   body=body, timestamp=1717200000,
                                   nonce="593BEC0C930BF1AFEB40B4A08C8FB242")
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C')
    assert ' ' not in header.split(" ", 1)[1]
    signature = header.split('signature="')[1].split('"')[0]
    message = (b"POST\n/v3/pay/transactions/native\n1717200000\n"
               b"593BEC0C930BF1AFEB40B4A08C8FB242\n" + body + b"\n")
    key.public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(),
                            hashes.SHA256())


def test_pay_sign_is_the_four_line_message() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = signing.client_pay_sign(key, "wx8888888888888888", "1414561699",
                                        "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                                        "prepay_id=wx201410272009395522657a690389285100")
    message = (b"wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
               b"prepay_id=wx201410272009395522657a690389285100\n")
    key.public_key().verify(base64.b64decode(signature), message, padding.PKCS1v15(),
                            hashes.SHA256())
