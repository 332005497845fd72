"""The WeChat Pay channel parameters of one call, checked once and typed.

Field names are JeePay's (camelCase) so a configuration exported from JeePay works unchanged:

- ``mchId`` (merchant number; the service provider's ``sp_mchid`` in ISV mode),
- ``appId`` (the appid bound to ``mchId``; ``sp_appid`` in ISV mode),
- ``apiV3Key`` (32 ASCII characters, decrypts callbacks),
- ``serialNo`` (serial of the merchant API certificate, hex),
- ``apiClientKey`` (that certificate's private key, PEM),
- ``wxpayPublicKeyId`` + ``wxpayPublicKey`` (public-key mode) and/or ``platformCerts``
  (``{serial: certificate PEM}``, platform-certificate mode); at least one is needed and a
  migrating merchant configures both,
- ``apiBase`` (default production ``https://api.mch.weixin.qq.com``),
- ``sub`` (ISV mode): ``{"subMchId": "...", "subMchAppId": "..."}`` (``subMchAppId`` optional).
- ``appSecret``, ``oauthBase``, ``oauthApiBase``: only for identifying payers by OAuth, read by
  :mod:`.oauth`, not here (a channel that only pays does not need them).

Anything missing or malformed raises CHANNEL_CONFIG_INVALID: a misconfigured channel is an
operator's problem and must not be mistaken for a payer's refusal.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from paymesh.services.common.errors import DomainError

PRODUCTION_API_BASE = "https://api.mch.weixin.qq.com"
_MCH_ID = re.compile(r"[0-9]{6,32}")
_HEX_SERIAL = re.compile(r"[0-9A-Fa-f]{1,64}")


@dataclass(frozen=True)
class VerifyingKey:
    """A WeChat key that signs answers and callbacks; ``not_after`` only for certificates."""

    serial: str
    public_key: RSAPublicKey
    not_after: datetime | None = None


@dataclass(frozen=True)
class WxpayConfig:
    """Everything the adapter needs from one channel configuration."""

    mch_id: str
    app_id: str
    api_v3_key: bytes
    serial_no: str
    private_key: RSAPrivateKey
    api_base: str
    public_key_id: str = ""
    sub_mch_id: str = ""
    sub_app_id: str = ""
    verifying_keys: tuple[VerifyingKey, ...] = field(default_factory=tuple)

    @property
    def is_isv(self) -> bool:
        """Service-provider (服务商) mode: the partner API on behalf of a sub-merchant."""
        return bool(self.sub_mch_id)

    def verifying_key(self, serial: str) -> VerifyingKey | None:
        """The key WeChat used for ``Wechatpay-Serial``, or None for an unknown serial.

        A public key id is compared exactly; certificate serials as hex integers, as WeChat's
        SDKs do (``0A1B`` and ``a1b`` are the same certificate).
        """
        for key in self.verifying_keys:
            if key.serial == serial:
                return key
            if _HEX_SERIAL.fullmatch(serial) and _HEX_SERIAL.fullmatch(key.serial) \
                    and int(serial, 16) == int(key.serial, 16):
                return key
        return None


class ConfigCache:
    """Parsed configurations by their content, so keys are not re-parsed on every call.

    Parsing and validating an RSA private key costs tens of milliseconds; a channel config changes
    rarely and a changed one has a new content hash. Bounded, least recently used out first.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._configs: OrderedDict[str, WxpayConfig] = OrderedDict()

    def load(self, params: Mapping[str, Any]) -> WxpayConfig:
        """The configuration of ``params`` (CHANNEL_CONFIG_INVALID when they are bad)."""
        try:
            digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str)
                                    .encode("utf-8")).hexdigest()
        except (TypeError, ValueError):
            return load_config(params)
        config = self._configs.get(digest)
        if config is None:
            config = load_config(params)
            self._configs[digest] = config
            if len(self._configs) > self._size:
                self._configs.popitem(last=False)
        else:
            self._configs.move_to_end(digest)
        return config


def load_config(params: Mapping[str, Any]) -> WxpayConfig:
    """The checked configuration; CHANNEL_CONFIG_INVALID names the first bad field."""
    mch_id = _text(params, "mchId")
    if not _MCH_ID.fullmatch(mch_id):
        raise _invalid("mchId must be the merchant number (digits)")
    api_v3_key = _text(params, "apiV3Key")
    if len(api_v3_key.encode("utf-8")) != 32:
        raise _invalid("apiV3Key must be exactly 32 ASCII characters")
    serial_no = _text(params, "serialNo")
    if not _HEX_SERIAL.fullmatch(serial_no):
        raise _invalid("serialNo must be the merchant certificate serial in hex")
    private_key = _private_key(_text(params, "apiClientKey"))
    keys = _platform_certs(params.get("platformCerts"))
    public_key_id = str(params.get("wxpayPublicKeyId") or "")
    if public_key_id:
        keys.append(VerifyingKey(public_key_id, _public_key(_text(params, "wxpayPublicKey"))))
    if not keys:
        raise _invalid("configure wxpayPublicKeyId + wxpayPublicKey or platformCerts: without "
                       "them no WeChat answer or callback can be verified")
    api_base = str(params.get("apiBase") or PRODUCTION_API_BASE).rstrip("/")
    if not api_base.startswith(("https://", "http://")):
        raise _invalid("apiBase must be an http(s) URL")
    sub_mch_id, sub_app_id = _sub(params.get("sub"))
    return WxpayConfig(
        mch_id=mch_id, app_id=_text(params, "appId"), api_v3_key=api_v3_key.encode("utf-8"),
        serial_no=serial_no.upper(), private_key=private_key, api_base=api_base,
        public_key_id=public_key_id, sub_mch_id=sub_mch_id, sub_app_id=sub_app_id,
        verifying_keys=tuple(keys))


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"wxpay channel parameters need a non-empty string {name!r}")
    return value.strip()


def _private_key(pem: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise _invalid("apiClientKey is not an unencrypted PEM private key") from None
    if not isinstance(key, RSAPrivateKey) or key.key_size < 2048:
        raise _invalid("apiClientKey must be an RSA key of at least 2048 bits")
    return key


def _public_key(pem: str) -> RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError):
        raise _invalid("wxpayPublicKey is not a PEM public key") from None
    if not isinstance(key, RSAPublicKey):
        raise _invalid("wxpayPublicKey must be an RSA public key")
    return key


def _platform_certs(value: Any) -> list[VerifyingKey]:
    if value in (None, "", {}):
        return []
    if not isinstance(value, Mapping):
        raise _invalid("platformCerts must map certificate serials to certificate PEMs")
    keys = []
    for serial, pem in value.items():
        if not isinstance(pem, str) or not _HEX_SERIAL.fullmatch(str(serial)):
            raise _invalid("platformCerts must map hex serials to certificate PEMs")
        try:
            cert = x509.load_pem_x509_certificate(pem.encode("utf-8"))
        except ValueError:
            raise _invalid(f"platformCerts[{serial}] is not a PEM certificate") from None
        key = cert.public_key()
        if not isinstance(key, RSAPublicKey) or cert.serial_number != int(str(serial), 16):
            raise _invalid(f"platformCerts[{serial}] is not the RSA certificate with that serial")
        keys.append(VerifyingKey(str(serial).upper(), key, cert.not_valid_after_utc))
    return keys


def _sub(value: Any) -> tuple[str, str]:
    if value in (None, "", {}):
        return "", ""
    if not isinstance(value, Mapping):
        raise _invalid("sub must be an object with subMchId (and optionally subMchAppId)")
    sub_mch_id = value.get("subMchId")
    if not isinstance(sub_mch_id, str) or not _MCH_ID.fullmatch(sub_mch_id):
        raise _invalid("sub.subMchId must be the sub-merchant number (digits)")
    sub_app_id = value.get("subMchAppId") or ""
    if not isinstance(sub_app_id, str):
        raise _invalid("sub.subMchAppId must be a string")
    return sub_mch_id, sub_app_id


def _invalid(message: str) -> DomainError:
    return DomainError("CHANNEL_CONFIG_INVALID", message)
