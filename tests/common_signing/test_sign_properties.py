"""Properties of the signing canonicalization (services/common/signing.py), against a reference.

The reference below is written from JeePay's recipe (merchant-api-jeepay.md §10) and the JDK's
``String.CASE_INSENSITIVE_ORDER`` as plainly as possible, independently of the module: it walks
UTF-16 code units like Java, derives Java's one-char case mappings from Python's own tables, and
hashes with hashlib/hmac directly. Every property is checked for MD5 and HMAC-SHA256.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import random

from hypothesis import assume, example, given
from hypothesis import strategies as st

from paymesh.services.common.signing import SIGN_TYPES, canonical_string, sign, verify

# --- the reference ------------------------------------------------------------------------------


def utf16_units(text: str) -> list[int]:
    raw = text.encode("utf-16-be", "surrogatepass")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]


def java_to_upper(unit: int) -> int:
    """``Character.toUpperCase(char)``: UnicodeData's one-char mapping.

    Python's upper() is the full mapping; where it has more than one char (ß → SS, ᾳ → ΑΙ) the
    one-char mapping is the title-case letter when there is one (ᾳ → ᾼ), else none.
    """
    if 0xD800 <= unit <= 0xDFFF:
        return unit  # a lone surrogate half has no case
    char = chr(unit)
    for mapped in (char.upper(), char.title()):
        if len(mapped) == 1 and ord(mapped) <= 0xFFFF:
            return ord(mapped)
    return unit


def java_to_lower(unit: int) -> int:
    """``Character.toLowerCase(char)``; only İ has a longer full mapping (i + combining dot)."""
    if 0xD800 <= unit <= 0xDFFF:
        return unit
    if unit == 0x0130:
        return ord("i")
    lower = chr(unit).lower()
    return ord(lower) if len(lower) == 1 and ord(lower) <= 0xFFFF else unit


def java_compare_ignore_case(left: str, right: str) -> int:
    """The JDK's CaseInsensitiveComparator.compare, one UTF-16 unit at a time."""
    a, b = utf16_units(left), utf16_units(right)
    for c1, c2 in zip(a, b, strict=False):
        if c1 != c2:
            c1, c2 = java_to_upper(c1), java_to_upper(c2)
            if c1 != c2:
                c1, c2 = java_to_lower(c1), java_to_lower(c2)
                if c1 != c2:
                    return c1 - c2
    return len(a) - len(b)


def reference_string(params: dict[str, str | None], secret: str) -> str:
    """JeePay's §10.1: drop sign and empty values, k=v& pieces sorted, then key=secret."""
    pieces = []
    for key, value in params.items():
        if key == "sign" or value is None or value == "":
            continue
        pieces.append(key + "=" + value + "&")
    pieces.sort(key=functools.cmp_to_key(java_compare_ignore_case))
    return "".join(pieces) + "key=" + secret


def reference_sign(params: dict[str, str | None], secret: str, sign_type: str) -> str:
    data = reference_string(params, secret).encode("utf-8")
    if sign_type == "MD5":
        return hashlib.md5(data).hexdigest().upper()
    return hmac.new(secret.encode("utf-8"), data, hashlib.sha256).hexdigest().upper()


def test_reference_follows_java_on_known_cases() -> None:
    # Java: "a1=" < "a=" ('1' < '='), case ignored, '_' before letters, İ equal to i, ß not s.
    assert java_compare_ignore_case("a1=y&", "a=x&") < 0
    assert java_compare_ignore_case("a=x&", "B=z&") < 0
    assert java_compare_ignore_case("_=1&", "a=1&") < 0
    assert java_compare_ignore_case("\u0130", "i") == 0
    assert java_compare_ignore_case("\u0131", "I") == 0  # dotless ı upper-cases to I
    assert java_compare_ignore_case("\u017f", "s") == 0  # long s upper-cases to S
    assert java_compare_ignore_case("\u212a", "k") == 0  # Kelvin sign lower-cases to k
    assert java_compare_ignore_case("ß", "s") > 0
    assert java_compare_ignore_case("\u1fb3", "\u1fbc") == 0  # ᾳ and its title-case ᾼ
    # Supplementary characters compare by their UTF-16 surrogates, as Java does: U+1F600 sorts
    # before U+FF21 (Ａ) although its code point is larger.
    assert java_compare_ignore_case("\U0001f600", "\uff21") < 0


# --- strategies ---------------------------------------------------------------------------------

TRICKY = "aAbBzZ019_-.=&ßİıſKΣσςᾳᾼ\u212a\u0000\u200d\u202e０１"
CHARS = st.one_of(st.sampled_from(TRICKY), st.characters(blacklist_categories=("Cs",)))
KEYS = st.text(CHARS, min_size=1, max_size=6).filter(lambda k: k != "sign")
VALUES = st.text(CHARS, min_size=1, max_size=12)
PARAMS = st.dictionaries(KEYS, VALUES, max_size=10)
SECRETS = st.text(CHARS, min_size=1, max_size=20)
SIGN_TYPE = st.sampled_from(SIGN_TYPES)


# --- properties ---------------------------------------------------------------------------------


@given(PARAMS, SECRETS, SIGN_TYPE)
@example({"a": "x", "a1": "y", "B": "z", "_": "u", "A_": "v"}, "K", "MD5")
@example({"\u0130": "1", "j": "2", "i": "3", "\U0001f600": "4", "\uff21": "5"}, "K", "MD5")
@example({"ß": "1", "ss": "2", "S": "3"}, "K", "HMAC-SHA256")
def test_agrees_with_the_reference(params: dict[str, str], secret: str, sign_type: str) -> None:
    assert canonical_string(params, secret) == reference_string(params, secret)
    assert sign(params, secret, sign_type) == reference_sign(params, secret, sign_type)
    assert verify(params, secret, sign_type, reference_sign(params, secret, sign_type))


@given(PARAMS, SECRETS, SIGN_TYPE, st.randoms(use_true_random=False))
def test_order_of_the_parameters_does_not_matter(params: dict[str, str], secret: str,
                                                 sign_type: str, rnd: random.Random) -> None:
    items = list(params.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    assert canonical_string(shuffled, secret) == canonical_string(params, secret)
    assert sign(shuffled, secret, sign_type) == sign(params, secret, sign_type)


@given(PARAMS, SECRETS, SIGN_TYPE, st.lists(KEYS, max_size=4), st.text(CHARS, max_size=40))
def test_empty_values_and_the_sign_key_are_left_out(params: dict[str, str], secret: str,
                                                    sign_type: str, empty_keys: list[str],
                                                    received_sign: str) -> None:
    padded: dict[str, str | None] = dict(params)
    for i, key in enumerate(empty_keys):
        if key not in params:
            padded[key] = None if i % 2 else ""
    padded["sign"] = received_sign
    assert canonical_string(padded, secret) == canonical_string(params, secret)
    assert sign(padded, secret, sign_type) == sign(params, secret, sign_type)


def test_only_the_exact_sign_key_is_left_out() -> None:
    # JeePay removes "sign" only; a parameter named SIGN or Sign is signed like any other.
    assert canonical_string({"SIGN": "1", "Sign": "2", "sign": "3"}, "K") == "SIGN=1&Sign=2&key=K"


@given(st.dictionaries(KEYS, st.text(st.sampled_from("&=a测 \u200d"), min_size=1, max_size=8),
                       min_size=1, max_size=6), SECRETS, SIGN_TYPE)
@example({"subject": "a&b=c", "body": "=&=", "notifyUrl": "https://x/n?a=1&b=%20"}, "K", "MD5")
def test_ampersands_and_equals_in_values_are_signed_verbatim(
        params: dict[str, str], secret: str, sign_type: str) -> None:
    text = canonical_string(params, secret)
    for key, value in params.items():
        assert f"{key}={value}&" in text  # never escaped, never split
    assert sign(params, secret, sign_type) == reference_sign(params, secret, sign_type)


@given(st.dictionaries(KEYS, VALUES, min_size=1, max_size=8), SECRETS, SIGN_TYPE, st.data())
def test_any_single_character_change_to_a_value_breaks_verification(
        params: dict[str, str], secret: str, sign_type: str, data: st.DataObject) -> None:
    signature = sign(params, secret, sign_type)
    assert verify(params, secret, sign_type, signature)
    assert verify(params, secret, sign_type, signature.lower())
    key = data.draw(st.sampled_from(sorted(params)), label="key")
    value = params[key]
    at = data.draw(st.integers(0, len(value)), label="position")
    change = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="change")
    char = data.draw(CHARS, label="char")
    if change == "replace" and at < len(value):
        assume(char != value[at])
        changed = value[:at] + char + value[at + 1:]
    elif change == "delete" and at < len(value):
        changed = value[:at] + value[at + 1:]
    else:
        changed = value[:at] + char + value[at:]
    tampered = {**params, key: changed}
    assert not verify(tampered, secret, sign_type, signature)


@given(PARAMS, SECRETS)
def test_md5_and_hmac_sign_the_same_string_differently(params: dict[str, str],
                                                       secret: str) -> None:
    md5 = sign(params, secret, "MD5")
    mac = sign(params, secret, "HMAC-SHA256")
    assert len(md5) == 32 and md5 == md5.upper()
    assert len(mac) == 64 and mac == mac.upper()
    assert not verify(params, secret, "HMAC-SHA256", md5)
    assert not verify(params, secret, "MD5", mac)
