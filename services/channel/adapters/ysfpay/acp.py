"""ACP 5.1.0 message signing, verification and wire format, as the merchant side does them.

Signing (signMethod ``01``): the fields other than ``signature``, sorted by key, joined as
``k=v&…`` with raw (not URL-encoded) values; that text is hashed with SHA-256 into lower-case hex,
and the hex string itself is signed with RSA PKCS#1 v1.5 over SHA-256, then Base64-encoded.

Verifying: the PEM in ``signPubKeyCert`` must chain to the configured UnionPay root (through the
middle certificate when one is configured), be valid now and name UnionPay in its CN; only then is
``signature`` checked with its public key. Nothing here is shared with the simulator, on purpose:
a symmetric bug must not be able to pass both sides.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID


class AcpVerifyError(Exception):
    """An answer or notification that does not prove it comes from UnionPay."""


def sign_input(fields: Mapping[str, str]) -> str:
    """The text that gets hashed: every field but ``signature``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "signature")


def sign_digest(fields: Mapping[str, str]) -> bytes:
    """The bytes that RSA signs: the lower-case hex SHA-256 of :func:`sign_input`, as ASCII."""
    return hashlib.sha256(sign_input(fields).encode("utf-8")).hexdigest().encode("ascii")


def sign_fields(fields: Mapping[str, str], key: rsa.RSAPrivateKey) -> str:
    """The Base64 ``signature`` of a request's fields."""
    raw = key.sign(sign_digest(fields), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def verify_fields(fields: Mapping[str, str], roots: TrustAnchors,
                  now: datetime) -> x509.Certificate:
    """Checks ``signPubKeyCert`` against the trust anchors, then ``signature``; the leaf on success.

    Raises AcpVerifyError with a readable reason on the first failed check.
    """
    pem = fields.get("signPubKeyCert", "")
    signature = fields.get("signature", "")
    if not pem or not signature:
        raise AcpVerifyError("the message carries no signPubKeyCert or no signature")
    try:
        leaf = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise AcpVerifyError("signPubKeyCert is not a PEM certificate") from None
    roots.check_chain(leaf, now)
    public_key = leaf.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise AcpVerifyError("signPubKeyCert does not hold an RSA key")
    try:
        raw = base64.b64decode(signature, validate=True)
        public_key.verify(raw, sign_digest(fields), padding.PKCS1v15(), hashes.SHA256())
    except (binascii.Error, ValueError, InvalidSignature):
        raise AcpVerifyError("the signature does not match the fields (altered or forged)"
                             ) from None
    return leaf


class TrustAnchors:
    """UnionPay's root certificate, optionally its middle certificate, and the CN to expect."""

    def __init__(self, root: x509.Certificate, middle: x509.Certificate | None,
                 expected_cn: str) -> None:
        self.root = root
        self.middle = middle
        self.expected_cn = expected_cn

    def check_chain(self, leaf: x509.Certificate, now: datetime) -> None:
        """Raises AcpVerifyError unless ``leaf`` is issued by the anchors and valid at ``now``."""
        chain = [("the message's certificate", leaf)]
        if self.middle is not None:
            chain.append(("the middle certificate", self.middle))
        chain.append(("the root certificate", self.root))
        for (name, child), (issuer_name, issuer) in zip(chain, chain[1:], strict=False):
            try:
                child.verify_directly_issued_by(issuer)
            except (ValueError, TypeError, InvalidSignature):
                raise AcpVerifyError(f"{name} is not issued by {issuer_name} configured for "
                                     "UnionPay") from None
            if not _is_ca(issuer):
                raise AcpVerifyError(f"{issuer_name} is not a CA certificate")
        for _, cert in chain:
            _check_validity(cert, now)
        if self.expected_cn:
            names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            if not names or names[0].value != self.expected_cn:
                raise AcpVerifyError(f"the signing certificate's CN is not {self.expected_cn!r}")


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _check_validity(cert: x509.Certificate, now: datetime) -> None:
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise AcpVerifyError(f"certificate serial {cert.serial_number} is not valid now "
                             f"({cert.not_valid_before_utc:%Y-%m-%d} to "
                             f"{cert.not_valid_after_utc:%Y-%m-%d})")


def parse_answer(text: str) -> dict[str, str]:
    """A synchronous ACP answer: ``k=v&…`` with raw values; a value starting ``{`` runs to ``}``.

    This is how UnionPay's SDKs read answers (values such as ``signPubKeyCert`` hold ``=`` and
    newlines and are not URL-encoded). Raises ValueError on a malformed text or a repeated key.
    """
    fields: dict[str, str] = {}
    pos, size = 0, len(text)
    while pos < size:
        equals = text.find("=", pos)
        if equals <= pos:
            raise ValueError("an answer field has no key")
        key = text[pos:equals]
        pos = equals + 1
        if text.startswith("{", pos):
            depth, end = 0, pos
            while end < size:
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
                if depth == 0:
                    break
            if depth != 0:
                raise ValueError(f"unbalanced braces in field {key!r}")
        else:
            end = text.find("&", pos)
            end = size if end < 0 else end
        if key in fields:
            raise ValueError(f"field {key!r} appears more than once")
        fields[key] = text[pos:end]
        if end < size and text[end] != "&":
            raise ValueError(f"field {key!r} is not followed by '&'")
        pos = end + 1
    return fields


def utc_now(epoch_seconds: float) -> datetime:
    """An aware UTC datetime for certificate validity checks."""
    return datetime.fromtimestamp(epoch_seconds, UTC)
