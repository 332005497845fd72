"""The ysfpay channel parameters (ISV mode), read and checked once per distinct parameter set.

Schema (camelCase, as JeePay stores them)::

    {
      "apiBase": "https://gateway.95516.com",        # gateway base URL (required)
      "fileTransUrl": "https://filedownload.95516.com/",  # file transfer (bills); optional,
                                                      # the production address shown
      "acqOrgCode": "48020000",                       # acquirer institution code → acqInsCode
      "serProvId": "A0000001",                        # service provider id → reserved
      "certId": "69629715588",                        # decimal serial; required with privateKey
      "privateKey": "-----BEGIN PRIVATE KEY-----…",   # PEM, or instead:
      "isvPrivateCertFile": "<base64 .pfx>", "isvPrivateCertPwd": "000000",
      "ysfpayRootCert": "-----BEGIN CERTIFICATE-----…",    # UnionPay root (required)
      "ysfpayMiddleCert": "-----BEGIN CERTIFICATE-----…",  # UnionPay middle (optional)
      "ysfpayCertCn": "中国银联股份有限公司",              # optional, the default shown
      "termId": "00000001",                          # optional terminal id for barcode consumes
      "sub": {"merId": "777290058110097"}             # the sub-merchant (required)
    }
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from paymesh.services.channel.adapters.ysfpay.acp import TrustAnchors
from paymesh.services.common.errors import DomainError

UNIONPAY_CN = "中国银联股份有限公司"
FILE_TRANS_URL = "https://filedownload.95516.com/"
_MER_ID = re.compile(r"[0-9A-Za-z]{8,32}")
_CODE = re.compile(r"[0-9A-Za-z]{1,32}")
_TERM_ID = re.compile(r"[0-9A-Za-z]{8}")
_CACHE_SIZE = 32


@dataclass(frozen=True)
class YsfpayParams:
    """Everything one call needs: where to send, how to sign, whom to trust, for which merchant."""

    api_base: str
    acq_org_code: str
    ser_prov_id: str
    cert_id: str
    private_key: rsa.RSAPrivateKey
    anchors: TrustAnchors
    mer_id: str
    term_id: str
    file_trans_url: str = FILE_TRANS_URL


class ParamsCache:
    """Parsed parameter sets keyed by a hash of their JSON, so a .pfx is not decoded per call."""

    def __init__(self) -> None:
        self._parsed: dict[str, YsfpayParams] = {}

    def get(self, params: Mapping[str, Any]) -> YsfpayParams:
        """The checked parameters; CHANNEL_CONFIG_INVALID with the reason when they are wrong."""
        try:
            digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
        except (TypeError, ValueError):
            raise _invalid("the parameters are not a JSON object") from None
        parsed = self._parsed.get(digest)
        if parsed is None:
            parsed = parse_params(params)
            if len(self._parsed) >= _CACHE_SIZE:
                self._parsed.pop(next(iter(self._parsed)))
            self._parsed[digest] = parsed
        return parsed


def parse_params(params: Mapping[str, Any]) -> YsfpayParams:
    """Reads and checks the parameters (see the module docstring)."""
    api_base = _text(params, "apiBase")
    if not api_base.startswith(("https://", "http://")):
        raise _invalid("apiBase must be an http(s) URL such as https://gateway.95516.com")
    sub = params.get("sub")
    mer_id = sub.get("merId") if isinstance(sub, Mapping) else None
    if not isinstance(mer_id, str) or not _MER_ID.fullmatch(mer_id):
        raise _invalid('"sub": {"merId": …} must name the sub-merchant (8-32 letters/digits)')
    acq = _text(params, "acqOrgCode")
    ser_prov_id = _text(params, "serProvId")
    for name, value in (("acqOrgCode", acq), ("serProvId", ser_prov_id)):
        if not _CODE.fullmatch(value):
            raise _invalid(f"{name} must be 1-32 letters or digits")
    term_id = params.get("termId", "00000001")
    if not isinstance(term_id, str) or not _TERM_ID.fullmatch(term_id):
        raise _invalid("termId must be 8 letters or digits")
    key, cert_id = _signing_key(params)
    root = _certificate(params, "ysfpayRootCert")
    middle = _certificate(params, "ysfpayMiddleCert") if params.get("ysfpayMiddleCert") else None
    file_trans_url = params.get("fileTransUrl") or FILE_TRANS_URL
    if not isinstance(file_trans_url, str) or not file_trans_url.startswith(("https://",
                                                                            "http://")):
        raise _invalid("fileTransUrl must be an http(s) URL such as " + FILE_TRANS_URL)
    cn = params.get("ysfpayCertCn", UNIONPAY_CN)
    if not isinstance(cn, str):
        raise _invalid("ysfpayCertCn must be a string")
    return YsfpayParams(api_base=api_base.rstrip("/"), acq_org_code=acq,
                        ser_prov_id=ser_prov_id, cert_id=cert_id, private_key=key,
                        anchors=TrustAnchors(root, middle, cn), mer_id=mer_id, term_id=term_id,
                        file_trans_url=file_trans_url)


def _signing_key(params: Mapping[str, Any]) -> tuple[rsa.RSAPrivateKey, str]:
    """The merchant's RSA key and certId, from a PEM key + certId or from a .pfx file."""
    configured_id = params.get("certId")
    if configured_id is not None and (not isinstance(configured_id, str)
                                      or not configured_id.isdigit()):
        raise _invalid("certId must be the decimal serial number of the signing certificate")
    if params.get("privateKey"):
        if not configured_id:
            raise _invalid("certId is required with privateKey")
        try:
            key = serialization.load_pem_private_key(_text(params, "privateKey").encode(), None)
        except (ValueError, TypeError):
            raise _invalid("privateKey is not an unencrypted PEM private key") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise _invalid("privateKey must be an RSA key")
        return key, configured_id
    try:
        pfx = base64.b64decode(_text(params, "isvPrivateCertFile"), validate=True)
    except (binascii.Error, ValueError):
        raise _invalid("isvPrivateCertFile must be a Base64 .pfx file") from None
    password = params.get("isvPrivateCertPwd", "")
    if not isinstance(password, str):
        raise _invalid("isvPrivateCertPwd must be a string")
    try:
        pfx_key, cert, _ = pkcs12.load_key_and_certificates(pfx, password.encode() or None)
    except (ValueError, TypeError):
        raise _invalid("isvPrivateCertFile cannot be opened (wrong file or password)") from None
    if not isinstance(pfx_key, rsa.RSAPrivateKey) or cert is None:
        raise _invalid("isvPrivateCertFile must hold an RSA key and its certificate")
    cert_id = str(cert.serial_number)
    if configured_id and configured_id != cert_id:
        raise _invalid(f"certId {configured_id} does not match the .pfx certificate ({cert_id})")
    return pfx_key, cert_id


def _certificate(params: Mapping[str, Any], name: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(_text(params, name).encode())
    except ValueError:
        raise _invalid(f"{name} is not a PEM certificate") from None


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{name} is required (a non-empty string)")
    return value.strip()


def _invalid(message: str) -> DomainError:
    return DomainError("CHANNEL_CONFIG_INVALID", f"ysfpay channel parameters: {message}")
