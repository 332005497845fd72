"""How WeChat authenticates a merchant request: strictly, from the raw bytes received (§1.2, §6.3).

The header must be ``WECHATPAY2-SHA256-RSA2048`` followed by exactly the five quoted fields
``mchid, nonce_str, signature, timestamp, serial_no`` (any order, comma-separated, no spaces).
The merchant and serial must be known, the timestamp within ±5 minutes, the nonce unused, and the
signature must verify over ``METHOD\\nPATH?QUERY\\nTS\\nNONCE\\nBODY\\n`` built from the request
line and body as received. Any failure is a 401 SIGN_ERROR.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from paymesh.services.simulators.wxpay.keys import check_sha256_rsa

SCHEME = "WECHATPAY2-SHA256-RSA2048"
FIELDS = frozenset({"mchid", "nonce_str", "signature", "timestamp", "serial_no"})
FORMAT_MESSAGE = "Http头Authorization值格式错误,请参考《微信支付商户REST API签名规则》"
WINDOW_SECONDS = 300
_ITEM = re.compile(r'([a-z_]+)="([^"]*)"')


@dataclass(frozen=True)
class AuthFailure:
    """Why a request is refused: always HTTP 401 SIGN_ERROR, with WeChat's message."""

    message: str


@dataclass(frozen=True)
class MerchantCredential:
    """A merchant's API certificate as WeChat knows it."""

    mch_id: str
    serial: str
    public_key: RSAPublicKey


class RequestAuthenticator:
    """Checks Authorization headers and remembers the nonces it has accepted."""

    def __init__(self, merchants: list[MerchantCredential]) -> None:
        self._merchants = {m.mch_id: m for m in merchants}
        self._seen: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def authenticate(self, header: str | None, method: str, raw_target: str, body: bytes,
                     now: float) -> str | AuthFailure:
        """The authenticated ``mchid``, or why the request is refused."""
        fields = parse_authorization(header)
        if fields is None:
            return AuthFailure(FORMAT_MESSAGE)
        merchant = self._merchants.get(fields["mchid"])
        if merchant is None:
            return AuthFailure("商户号不存在或未开通APIv3")
        if fields["serial_no"].upper() != merchant.serial:
            return AuthFailure("商户证书序列号有误。请使用签名私钥匹配的证书序列号")
        if not fields["timestamp"].isdigit() \
                or abs(now - int(fields["timestamp"])) > WINDOW_SECONDS:
            return AuthFailure("时间戳已过期或与服务器时间偏差超过5分钟")
        message = "\n".join([method, raw_target, fields["timestamp"], fields["nonce_str"]])
        signed = message.encode("utf-8") + b"\n" + body + b"\n"
        if not check_sha256_rsa(merchant.public_key, signed, fields["signature"]):
            return AuthFailure("签名错误,请检查后再试")
        with self._lock:
            self._forget_old(now)
            key = (merchant.mch_id, fields["nonce_str"])
            if key in self._seen:
                return AuthFailure("nonce_str重复,请使用新的随机字符串")
            self._seen[key] = int(fields["timestamp"])
        return merchant.mch_id

    def _forget_old(self, now: float) -> None:
        stale = [k for k, ts in self._seen.items() if ts < now - 2 * WINDOW_SECONDS]
        for key in stale:
            del self._seen[key]


def parse_authorization(header: str | None) -> dict[str, str] | None:
    """The five fields of a well-formed header, or None."""
    if not header or not header.startswith(SCHEME + " "):
        return None
    items = header[len(SCHEME) + 1:].split(",")
    fields: dict[str, str] = {}
    for item in items:
        match = _ITEM.fullmatch(item)
        if match is None or match.group(1) in fields:
            return None
        fields[match.group(1)] = match.group(2)
    if set(fields) != FIELDS or not all(fields.values()):
        return None
    return fields
