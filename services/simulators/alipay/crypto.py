"""The simulator's own RSA2 code, written apart from the adapter's (reference §6.9).

If both sides shared one canonical-string builder, a symmetric bug would pass every test; so this
module re-derives the rules from Alipay's text instead of importing anything from paymesh.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


@dataclass(frozen=True)
class KeyPair:
    """One RSA-2048 key pair generated for this run, with its PEM texts."""

    private: rsa.RSAPrivateKey
    private_pem: str
    public_pem: str

    @classmethod
    def generate(cls) -> KeyPair:
        """A fresh pair; never stored anywhere but in memory."""
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")
        public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        return cls(private, private_pem, public_pem)

    def sign(self, data: bytes) -> str:
        """Base64 SHA256withRSA, as Alipay signs answers and notifications."""
        raw = self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode("ascii")

    def verify(self, data: bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's RSA2 signature over ``data``."""
        try:
            raw = base64.b64decode(signature.encode("ascii"), validate=True)
            self.private.public_key().verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
            return True
        except (InvalidSignature, ValueError):
            return False


def signed_request_text(params: dict[str, str]) -> str:
    """What the gateway checks a request's ``sign`` against.

    Alipay: every parameter except ``sign`` (``sign_type`` included) whose value is not empty,
    ordered by key, written ``key=value`` with raw values and joined with ``&``.
    """
    parts = []
    for key in sorted(params):
        if key == "sign" or params[key] in ("", None):
            continue
        parts.append(key + "=" + params[key])
    return "&".join(parts)


def signed_notification_text(form: dict[str, str]) -> str:
    """What a notification's ``sign`` covers: all but ``sign`` and ``sign_type``, empties kept."""
    parts = []
    for key in sorted(form):
        if key in ("sign", "sign_type"):
            continue
        parts.append(key + "=" + form[key])
    return "&".join(parts)
