"""The JeePay signature recipe (MD5) and paymesh's HMAC-SHA256 variant over the same string.

The canonical string is JeePay's, quirks included: every ``k=v&`` piece (empty values dropped) is
sorted with Java's ``String.CASE_INSENSITIVE_ORDER`` and ``key=<secret>`` is appended. Values are
the literal text received, never re-serialised.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGN_TYPES = ("MD5", "HMAC-SHA256")


def _java_ci_key(text: str) -> str:
    """Sort key equal to Java's CASE_INSENSITIVE_ORDER over UTF-16 code units: each unit
    folded (upper, then lower case, per character), kept as a character so keys compare as
    strings do. ASCII, nearly every piece, folds to its lower case."""
    if text.isascii():
        return text.lower()
    raw = text.encode("utf-16-be", "surrogatepass")
    key = []
    for i in range(0, len(raw), 2):
        unit = (raw[i] << 8) | raw[i + 1]
        if 0xD800 <= unit <= 0xDFFF:
            key.append(chr(unit))
            continue
        char = chr(unit)
        upper = char.upper()
        char = upper if len(upper) == 1 else char
        lower = char.lower()
        key.append(lower[0])  # Java's simple mapping: only U+0130's full lower has 2 chars
    return "".join(key)


def canonical_string(params: Mapping[str, str | None], secret: str) -> str:
    """The string JeePay hashes: sorted ``k=v&`` pieces, then ``key=<secret>``."""
    pieces = [f"{k}={v}&" for k, v in params.items() if k != "sign" and v is not None and v != ""]
    pieces.sort(key=_java_ci_key)
    return "".join(pieces) + f"key={secret}"


def sign(params: Mapping[str, str | None], secret: str, sign_type: str = "MD5") -> str:
    """Upper-case hex signature of ``params`` with the app secret."""
    text = canonical_string(params, secret).encode("utf-8")
    if sign_type == "MD5":
        return hashlib.md5(text).hexdigest().upper()  # noqa: S324 - JeePay's protocol
    if sign_type == "HMAC-SHA256":
        return hmac.new(secret.encode("utf-8"), text, hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unsupported signType {sign_type!r}")


def verify(params: Mapping[str, str | None], secret: str, sign_type: str, given: str) -> bool:
    """Constant-time check of a received signature, case-insensitive as JeePay compares it."""
    expected = sign(params, secret, sign_type)
    return hmac.compare_digest(expected.encode(), given.upper().encode("utf-8"))
