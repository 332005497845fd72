"""Alipay's RSA2 (SHA256withRSA) signatures, as the OpenAPI defines them (reference §2.2–§2.4).

Three different texts get signed, and mixing them up is the classic Alipay bug:

- a request: every parameter but ``sign``, empty values dropped, sorted, ``k=v`` joined by ``&``
  with raw (not URL-encoded) values; signed with the app's private key;
- a synchronous answer: the exact raw text of the ``<method>_response`` object, cut out of the
  body character for character; verified with Alipay's public key;
- an asynchronous notification: every field but ``sign`` and ``sign_type``, sorted, joined
  *without* dropping empty values; verified with Alipay's public key.

Kept apart from the simulator's own implementation on purpose (reference §6.9).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


def request_content(params: Mapping[str, str]) -> str:
    """The text a request signature covers: non-empty parameters except ``sign``, sorted."""
    pairs = sorted((k, v) for k, v in params.items() if k != "sign" and v != "")
    return "&".join(f"{k}={v}" for k, v in pairs)


def notification_content(fields: Mapping[str, str]) -> str:
    """The text a notification signature covers: all fields but ``sign``/``sign_type``, sorted.

    Empty values stay in, as in the Java SDK's ``getSignCheckContentV1``.
    """
    pairs = sorted((k, v) for k, v in fields.items() if k not in ("sign", "sign_type"))
    return "&".join(f"{k}={v}" for k, v in pairs)


def load_private_key(text: str) -> rsa.RSAPrivateKey:
    """An RSA private key from PEM, or from the bare Base64 body Alipay's key tool prints.

    Raises ValueError when the text is not an RSA private key.
    """
    try:
        key = serialization.load_pem_private_key(_pem(text, "PRIVATE KEY"), password=None)
    except ValueError:  # a bare PKCS#1 body, as the non-Java key tools print it
        key = serialization.load_pem_private_key(_pem(text, "RSA PRIVATE KEY"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(text: str) -> rsa.RSAPublicKey:
    """An RSA public key from PEM or bare Base64; ValueError when it is not one."""
    key = serialization.load_pem_public_key(_pem(text, "PUBLIC KEY"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def sign(content: str, key: rsa.RSAPrivateKey) -> str:
    """Base64 of SHA256withRSA (PKCS#1 v1.5) over the UTF-8 bytes of ``content``."""
    signature = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(content: bytes, signature_b64: str, key: rsa.RSAPublicKey) -> bool:
    """Whether ``signature_b64`` is Alipay's RSA2 signature over ``content``; never raises."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        key.verify(signature, content, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def response_object(raw: str, name: str) -> tuple[str, str] | None:
    """The exact raw text of the top-level member ``name`` of a JSON object, and the ``sign``.

    Walks the top level with the JSON decoder, so a value that merely contains the text of the
    member name cannot be mistaken for it. None when ``raw`` is not a JSON object holding
    ``name``; the sign is "" when absent.
    """
    found: str | None = None
    signature = ""
    try:
        index = _skip(raw, 0)
        if raw[index] != "{":
            return None
        index = _skip(raw, index + 1)
        while raw[index] != "}":
            key, index = _DECODER.raw_decode(raw, index)
            index = _skip(raw, index)
            if raw[index] != ":":
                return None
            start = _skip(raw, index + 1)
            value, end = _DECODER.raw_decode(raw, start)
            if key == name and isinstance(value, dict):
                found = raw[start:end]
            elif key == "sign" and isinstance(value, str):
                signature = value
            index = _skip(raw, end)
            if raw[index] == ",":
                index = _skip(raw, index + 1)
            elif raw[index] != "}":
                return None
    except (IndexError, ValueError):
        return None
    return None if found is None else (found, signature)


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def _pem(text: str, label: str) -> bytes:
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        return stripped.encode("ascii")
    body = "".join(stripped.split())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])
            + "\n").encode("ascii")
