"""Encryption at rest for secrets (app secrets, channel credentials): AES-256-GCM.

The master key comes from the configuration; each value is bound to what it belongs to (the
associated data, e.g. ``app:<appId>``) so a ciphertext copied to another row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


class SecretBox:
    """Seals and opens short secrets under one master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._master = master_key
        self._aead = AESGCM(master_key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def open(self, token: str, context: str) -> str:
        if not token.startswith(PREFIX):
            raise ValueError("not a sealed value")
        raw = base64.urlsafe_b64decode(token[len(PREFIX):])
        return self._aead.decrypt(raw[:12], raw[12:], context.encode("utf-8")).decode("utf-8")

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived from the master key."""
        return hmac.new(self._master, purpose.encode("utf-8"), hashlib.sha256).digest()
