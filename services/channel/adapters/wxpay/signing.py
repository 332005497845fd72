"""WeChat Pay APIv3 cryptography: request authorisation, answer verification, resource decryption.

Written on ``cryptography`` alone (reference §1.2–§1.4, §1.7). The simulator has its own,
independent implementation: sharing this code would let a symmetric bug pass both sides.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AUTH_SCHEME = "WECHATPAY2-SHA256-RSA2048"
SIGNATURE_TYPE = AUTH_SCHEME
AEAD_ALGORITHM = "AEAD_AES_256_GCM"


def new_nonce() -> str:
    """A request nonce: 32 upper-case hex characters, as WeChat's own SDKs send."""
    return secrets.token_hex(16).upper()


def rsa_sign(private_key: RSAPrivateKey, message: bytes) -> str:
    """Base64 SHA256withRSA (PKCS#1 v1.5) over ``message``."""
    signature = private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa_verify(public_key: RSAPublicKey, message: bytes, signature_b64: str) -> bool:
    """True only when ``signature_b64`` is a valid SHA256withRSA signature of ``message``."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def authorization(*, private_key: RSAPrivateKey, mch_id: str, serial_no: str, method: str,
                  canonical_url: str, body: bytes, timestamp: int, nonce: str) -> str:
    """The ``Authorization`` header value for one request (§1.2).

    ``canonical_url`` is the path and query exactly as sent; ``body`` the exact bytes sent.
    """
    message = (f"{method.upper()}\n{canonical_url}\n{timestamp}\n{nonce}\n".encode()
               + body + b"\n")
    signature = rsa_sign(private_key, message)
    return (f'{AUTH_SCHEME} mchid="{mch_id}",nonce_str="{nonce}",signature="{signature}",'
            f'timestamp="{timestamp}",serial_no="{serial_no}"')


def verify_wechat_signature(public_key: RSAPublicKey, timestamp: str, nonce: str, body: bytes,
                            signature_b64: str) -> bool:
    """Checks WeChat's signature over ``timestamp\\nnonce\\nbody\\n`` (§1.3)."""
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return rsa_verify(public_key, message, signature_b64)


def decrypt_resource(api_v3_key: bytes, nonce: str, associated_data: str,
                     ciphertext_b64: str) -> bytes:
    """AEAD_AES_256_GCM decryption of a callback resource (§1.4).

    Raises ValueError when the key, nonce, associated data or ciphertext do not fit together.
    """
    if len(api_v3_key) != 32:
        raise ValueError("the APIv3 key must be 32 bytes")
    try:
        ciphertext = base64.b64decode(ciphertext_b64, validate=True)
        return AESGCM(api_v3_key).decrypt(nonce.encode("utf-8"), ciphertext,
                                          associated_data.encode("utf-8"))
    except (InvalidTag, binascii.Error) as error:
        raise ValueError("the resource does not decrypt with the APIv3 key") from error


def client_pay_sign(private_key: RSAPrivateKey, app_id: str, timestamp: str, nonce: str,
                    package: str) -> str:
    """``paySign`` / APP ``sign`` for the payer's client (§1.7): four lines, each ending in \\n."""
    message = f"{app_id}\n{timestamp}\n{nonce}\n{package}\n".encode()
    return rsa_sign(private_key, message)
