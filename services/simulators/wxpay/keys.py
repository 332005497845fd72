"""The simulator's identities and key material, generated fresh for every run.

WeChat's side: a platform certificate (serial + key, certificate mode) and a WeChat Pay public
key (``PUB_KEY_ID_…`` + key, public-key mode). The merchant's side: an API key pair and serial
plus an APIv3 key, which the simulator hands to the adapter through ``adapter_params`` and keeps
only the public half of for checking requests. Nothing here is ever written to disk.

This is the simulator's own cryptography, written apart from the adapter's on purpose: the digest
is taken with hashlib and signed pre-hashed, and AES-GCM goes through the low-level cipher API.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID

_PKCS1 = padding.PKCS1v15()
_PREHASHED = utils.Prehashed(hashes.SHA256())


def new_rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, the size WeChat Pay uses everywhere."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def sign_sha256_rsa(key: rsa.RSAPrivateKey, message: bytes) -> str:
    """Base64 PKCS#1 v1.5 signature of SHA-256(message)."""
    digest = hashlib.sha256(message).digest()
    return base64.b64encode(key.sign(digest, _PKCS1, _PREHASHED)).decode("ascii")


def check_sha256_rsa(key: rsa.RSAPublicKey, message: bytes, signature: str) -> bool:
    """True when ``signature`` (Base64) signs SHA-256(message) with ``key``."""
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        key.verify(raw, hashlib.sha256(message).digest(), _PKCS1, _PREHASHED)
    except (InvalidSignature, ValueError, UnicodeEncodeError):
        return False
    return True


def seal(api_v3_key: str, nonce: str, associated_data: str, plaintext: bytes) -> str:
    """AEAD_AES_256_GCM as WeChat encrypts callback resources: Base64(ciphertext ‖ tag)."""
    encryptor = Cipher(algorithms.AES(api_v3_key.encode("ascii")),
                       modes.GCM(nonce.encode("ascii"))).encryptor()
    encryptor.authenticate_additional_data(associated_data.encode("utf-8"))
    body = encryptor.update(plaintext) + encryptor.finalize()
    return base64.b64encode(body + encryptor.tag).decode("ascii")


def random_text(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    """Random characters from ``alphabet``."""
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _pem_private(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")


def _pem_public(key: rsa.RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _self_signed(key: rsa.RSAPrivateKey, serial: int) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "paymesh wxpay simulator platform")])
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1825))
            .sign(key, hashes.SHA256()))


@dataclass
class SimKeys:
    """One run's merchant, sub-merchant and WeChat identities."""

    mch_id: str = field(default_factory=lambda: "19" + random_text(8, string.digits))
    app_id: str = field(default_factory=lambda: "wx" + secrets.token_hex(8))
    sub_mch_id: str = field(default_factory=lambda: "16" + random_text(8, string.digits))
    sub_app_id: str = field(default_factory=lambda: "wx" + secrets.token_hex(8))
    app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    sub_app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    api_v3_key: str = field(default_factory=lambda: random_text(32))
    merchant_serial: str = field(default_factory=lambda: secrets.token_hex(20).upper())
    merchant_key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    platform_key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    platform_serial_int: int = field(default_factory=lambda: secrets.randbits(120) | 1 << 120)
    public_key_id: str = field(
        default_factory=lambda: "PUB_KEY_ID_" + random_text(34, string.digits))
    wxpay_key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)

    def __post_init__(self) -> None:
        self.platform_cert = _self_signed(self.platform_key, self.platform_serial_int)

    @property
    def platform_serial(self) -> str:
        """The platform certificate's serial as WeChat writes it: upper-case hex."""
        return format(self.platform_serial_int, "X")

    def signer(self, mode: str) -> tuple[str, rsa.RSAPrivateKey]:
        """(Wechatpay-Serial, key) for ``publickey`` or ``certificate`` signing."""
        if mode == "publickey":
            return self.public_key_id, self.wxpay_key
        return self.platform_serial, self.platform_key

    def adapter_params(self, base_url: str, *, isv: bool = False,
                       mode: str = "both") -> dict[str, object]:
        """What the adapter's channel configuration holds for this run (§7 field names).

        ``mode``: ``publickey`` (WeChat Pay public key only), ``certificate`` (platform
        certificate only) or ``both`` (a merchant migrating between them). ``appSecret`` is the
        official account's secret of ``appId`` (the service provider's in ISV mode), for web
        OAuth, which the simulator also serves (``oauthBase`` and ``oauthApiBase``).
        """
        params: dict[str, object] = {
            "mchId": self.mch_id, "appId": self.app_id, "apiV3Key": self.api_v3_key,
            "serialNo": self.merchant_serial, "apiClientKey": _pem_private(self.merchant_key),
            "apiBase": base_url, "appSecret": self.app_secret, "oauthBase": base_url,
            "oauthApiBase": base_url,
        }
        if mode in ("both", "publickey"):
            params["wxpayPublicKeyId"] = self.public_key_id
            params["wxpayPublicKey"] = _pem_public(self.wxpay_key.public_key())
        if mode in ("both", "certificate"):
            cert_pem = self.platform_cert.public_bytes(serialization.Encoding.PEM).decode()
            params["platformCerts"] = {self.platform_serial: cert_pem}
        if isv:
            params["sub"] = {"subMchId": self.sub_mch_id, "subMchAppId": self.sub_app_id}
        return params
