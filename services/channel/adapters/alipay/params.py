"""An Alipay channel configuration, read from the call's params, and exact yuan⇄fen conversion.

Params (camelCase, as JeePay stores them, reference §7)::

    {
      "appId": "2021000000000000",          # required: the app (or ISV app) id
      "privateKey": "-----BEGIN PRIVATE KEY-----...",   # required: app private key, PEM or Base64
      "alipayPublicKey": "-----BEGIN PUBLIC KEY-----...",  # required: Alipay's public key
      "signType": "RSA2",                   # optional; only RSA2 is accepted
      "apiBase": "https://openapi.alipay.com/gateway.do",  # optional gateway URL
      "oauthBase": "https://openauth.alipay.com",  # optional web-authorisation host (payer id)
      "sub": {"appAuthToken": "..."}        # ISV acting for a sub-merchant (optional)
    }
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric import rsa

from paymesh.services.channel.adapters.alipay.signing import load_private_key, load_public_key
from paymesh.services.common.errors import DomainError, InvalidArgument

DEFAULT_API_BASE = "https://openapi.alipay.com/gateway.do"
DEFAULT_OAUTH_BASE = "https://openauth.alipay.com"
_YUAN = re.compile(r"(0|[1-9][0-9]{0,11})(?:\.([0-9]{1,2}))?")


@dataclass(frozen=True)
class AlipayParams:
    """The keys and ids one call needs; built by :func:`read_params`."""

    app_id: str
    private_key: rsa.RSAPrivateKey
    alipay_public_key: rsa.RSAPublicKey
    api_base: str
    app_auth_token: str = ""
    oauth_base: str = DEFAULT_OAUTH_BASE


class KeyCache:
    """Parsed private keys by the SHA-256 of their text, so a call does not re-parse its key.

    Loading a PEM RSA private key validates it, which costs tens of milliseconds; configs are
    few, so a small bounded cache per adapter removes that from every call.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._keys: dict[bytes, rsa.RSAPrivateKey] = {}

    def private_key(self, text: str) -> rsa.RSAPrivateKey:
        """The key for ``text``; ValueError when it is not an RSA private key."""
        digest = hashlib.sha256(text.encode("utf-8")).digest()
        key = self._keys.get(digest)
        if key is None:
            key = load_private_key(text)
            if len(self._keys) >= self._capacity:
                self._keys.pop(next(iter(self._keys)))
            self._keys[digest] = key
        return key


def read_params(params: Mapping[str, Any], keys: KeyCache | None = None) -> AlipayParams:
    """The typed configuration; CHANNEL_CONFIG_INVALID naming the first bad field."""
    app_id = _text(params, "appId")
    sign_type = params.get("signType", "RSA2")
    if sign_type != "RSA2":
        _invalid(f"signType must be \"RSA2\" (RSA-SHA1 is not supported), not {sign_type!r}")
    if params.get("useCert") in (True, "true", 1):
        _invalid("certificate mode (useCert) is not supported by this adapter yet")
    try:
        private_key = (keys or KeyCache()).private_key(_text(params, "privateKey"))
    except ValueError:
        _invalid("privateKey is not an RSA private key (PEM or Base64)")
    try:
        public_key = load_public_key(_text(params, "alipayPublicKey"))
    except ValueError:
        _invalid("alipayPublicKey is not an RSA public key (PEM or Base64)")
    api_base = params.get("apiBase") or DEFAULT_API_BASE
    if not isinstance(api_base, str) or not api_base.startswith(("https://", "http://")):
        _invalid("apiBase must be an http(s) URL of the Alipay gateway")
    oauth_base = params.get("oauthBase") or DEFAULT_OAUTH_BASE
    if not isinstance(oauth_base, str) or not oauth_base.startswith(("https://", "http://")):
        _invalid("oauthBase must be an http(s) URL such as https://openauth.alipay.com")
    token = ""
    sub = params.get("sub")
    if sub is not None:
        if not isinstance(sub, Mapping):
            _invalid("sub must be an object such as {\"appAuthToken\": \"...\"}")
        token = _text(sub, "appAuthToken", prefix="sub.")
    return AlipayParams(app_id, private_key, public_key, api_base, token,
                        oauth_base.rstrip("/"))


def fen_to_yuan(fen: int) -> str:
    """``1`` → ``"0.01"``; exact, for amounts of at least one fen."""
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 1:
        raise InvalidArgument("amount", "an amount must be an integer count of fen, at least 1")
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(yuan: str) -> int | None:
    """``"0.01"`` → ``1``; None when the text is not a plain non-negative yuan amount."""
    match = _YUAN.fullmatch(yuan)
    if match is None:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def _text(params: Mapping[str, Any], name: str, prefix: str = "") -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        _invalid(f"alipay channel parameters need a non-empty \"{prefix}{name}\"")
    return value.strip()


def _invalid(message: str) -> NoReturn:
    raise DomainError("CHANNEL_CONFIG_INVALID", message)
