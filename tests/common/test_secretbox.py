"""Secrets at rest: AES-256-GCM bound to what each secret belongs to."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.exceptions import InvalidTag

from paymesh.services.common.secretbox import PREFIX, SecretBox

SECRET = "EWEFCOnAWsdV0FqNGvEp8rJV9j4DKdjqq9Sn0jz34e3Oql7ZzRbVLUs5RBcU4qbjBPxLf6yoA6rDOAYIyqlsPZAD"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(os.urandom(32))


def test_seal_then_open_round_trips(box: SecretBox) -> None:
    for plaintext in (SECRET, "", "渠道密钥 🔑"):
        token = box.seal(plaintext, "app:6650a1b2c3d4e5f601234567")
        assert plaintext not in token or plaintext == ""
        assert box.open(token, "app:6650a1b2c3d4e5f601234567") == plaintext


def test_a_ciphertext_does_not_open_under_another_context(box: SecretBox) -> None:
    token = box.seal(SECRET, "app:6650a1b2c3d4e5f601234567")
    with pytest.raises(InvalidTag):
        box.open(token, "app:6650a1b2c3d4e5f601234568")


def test_a_ciphertext_does_not_open_under_another_key(box: SecretBox) -> None:
    token = box.seal(SECRET, "app:1")
    with pytest.raises(InvalidTag):
        SecretBox(os.urandom(32)).open(token, "app:1")


def test_a_tampered_or_foreign_token_is_refused(box: SecretBox) -> None:
    token = box.seal(SECRET, "app:1")
    raw = bytearray(base64.urlsafe_b64decode(token.removeprefix(PREFIX)))
    raw[20] ^= 0x01
    flipped = PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode("ascii")
    with pytest.raises(InvalidTag):
        box.open(flipped, "app:1")
    with pytest.raises(ValueError):
        box.open(SECRET, "app:1")


def test_two_seals_of_the_same_text_differ(box: SecretBox) -> None:
    first = box.seal(SECRET, "app:1")
    second = box.seal(SECRET, "app:1")
    assert first != second
    assert box.open(first, "app:1") == box.open(second, "app:1") == SECRET


def test_derive_is_stable_per_purpose_and_differs_across_purposes() -> None:
    master = os.urandom(32)
    one, other = SecretBox(master), SecretBox(master)
    assert one.derive("notify-signing") == other.derive("notify-signing")
    assert len(one.derive("notify-signing")) == 32
    assert one.derive("notify-signing") != one.derive("session")
    assert one.derive("notify-signing") != SecretBox(os.urandom(32)).derive("notify-signing")
    assert one.derive("notify-signing") != master


def test_master_key_must_be_32_bytes() -> None:
    for length in (0, 16, 31, 33):
        with pytest.raises(ValueError):
            SecretBox(os.urandom(length))
