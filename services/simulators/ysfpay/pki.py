"""The simulated UnionPay's key material, made fresh for every run, and its own ACP crypto.

Written apart from the adapter on purpose (the adapter's ``acp`` module is never imported): if
both sides shared one signing routine, a bug in it would pass every test.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

UNIONPAY_CN = "中国银联股份有限公司"
PFX_PASSWORD = "000000"  # as UnionPay's public test certificate


@dataclass(frozen=True)
class Identity:
    """A key and the certificate that binds it."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def cert_id(self) -> str:
        """ACP's certId: the certificate serial in decimal."""
        return str(self.cert.serial_number)

    @property
    def cert_pem(self) -> str:
        """The certificate as PEM text."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class SimulatorPki:
    """UnionPay's root and middle CAs and signing identity, the merchant's, and forgeries."""

    root: Identity
    middle: Identity
    unionpay: Identity
    merchant: Identity
    rogue: Identity  # UnionPay's CN and key, certified by a CA that is NOT UnionPay's root
    expired: Identity  # UnionPay's key, certified by the real middle CA, expired a month ago

    def merchant_pfx_base64(self) -> str:
        """The merchant's key and certificate as a Base64 PKCS#12 file (password 000000)."""
        pfx = pkcs12.serialize_key_and_certificates(
            b"merchant", self.merchant.key, self.merchant.cert, None,
            serialization.BestAvailableEncryption(PFX_PASSWORD.encode()))
        return base64.b64encode(pfx).decode("ascii")

    def merchant_key_pem(self) -> str:
        """The merchant's private key as unencrypted PKCS#8 PEM."""
        return self.merchant.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")


def generate_pki() -> SimulatorPki:
    """Fresh keys and certificates; nothing here is ever written to disk."""
    now = datetime.now(UTC)
    root = _self_signed("UnionPay Simulator Root CA", now)
    middle = _issue(root, _new_key(), "UnionPay Simulator Middle CA", now, ca=True)
    signing_key = _new_key()
    unionpay = _issue(middle, signing_key, UNIONPAY_CN, now)
    merchant = _issue(middle, _new_key(), "paymesh simulated merchant", now)
    rogue_root = _self_signed("UnionPay Simulator Root CA", now)  # same name, different key
    rogue = _issue(rogue_root, signing_key, UNIONPAY_CN, now)
    expired = _issue(middle, signing_key, UNIONPAY_CN, now - timedelta(days=400))
    return SimulatorPki(root, middle, unionpay, merchant, rogue, expired)


def signature_base(fields: dict[str, str]) -> bytes:
    """ACP 5.1.0: hex SHA-256 of the sorted ``k=v`` pairs (signature excluded), as bytes."""
    pairs = []
    for name in sorted(fields):
        if name == "signature":
            continue
        pairs.append(name + "=" + fields[name])
    return hashlib.sha256("&".join(pairs).encode("utf-8")).hexdigest().encode("ascii")


def sign(fields: dict[str, str], signer: Identity) -> str:
    """The Base64 RSA-SHA256 signature over :func:`signature_base`."""
    raw = signer.key.sign(signature_base(fields), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def verify(fields: dict[str, str], cert: x509.Certificate) -> bool:
    """True when ``fields['signature']`` was made by ``cert``'s key over these fields."""
    public_key = cert.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        raw = base64.b64decode(fields.get("signature", ""), validate=True)
        public_key.verify(raw, signature_base(fields), padding.PKCS1v15(), hashes.SHA256())
    except (ValueError, InvalidSignature):
        return False
    return True


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "China UnionPay (simulated)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _self_signed(common_name: str, now: datetime) -> Identity:
    key = _new_key()
    cert = (_builder(_name(common_name), _name(common_name), key, now, days=3650)
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .sign(key, hashes.SHA256()))
    return Identity(key, cert)


def _issue(issuer: Identity, key: rsa.RSAPrivateKey, common_name: str, start: datetime, *,
           ca: bool = False) -> Identity:
    builder = _builder(issuer.cert.subject, _name(common_name), key, start, days=365)
    builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                                    critical=True)
    return Identity(key, builder.sign(issuer.key, hashes.SHA256()))


def _builder(issuer: x509.Name, subject: x509.Name, key: rsa.RSAPrivateKey, start: datetime,
             days: int) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder().issuer_name(issuer).subject_name(subject)
            .public_key(key.public_key())
            .serial_number(secrets.randbelow(10**11) + 10**10)
            .not_valid_before(start - timedelta(hours=1))
            .not_valid_after(start + timedelta(days=days)))
