"""The JeePay signature recipe (reference §10): golden vectors, the HMAC variant and properties."""

from __future__ import annotations

import functools
import hashlib
import hmac
import random

from hypothesis import example, given
from hypothesis import strategies as st

from paymesh.services.common.signing import canonical_string, sign, verify

DEMO_SECRET = "DEMO_APP_SECRET_DO_NOT_USE"

# §10.6 unified order, in the order the reference lists the parameters.
UNIFIED_ORDER = {
    "mchNo": "M1700000001",
    "appId": "6650a1b2c3d4e5f601234567",
    "mchOrderNo": "ORD20240601000001",
    "wayCode": "ALI_QR",
    "amount": "1",
    "currency": "cny",
    "clientIp": "203.0.113.7",
    "subject": "测试商品",
    "body": "测试商品描述",
    "notifyUrl": "https://shop.example.com/pay/notify",
    "channelExtra": '{"payDataType":"codeImgUrl"}',
    "extParam": "",
    "reqTime": "1717200000000",
    "version": "1.0",
    "signType": "MD5",
}
UNIFIED_ORDER_STRING = (
    "amount=1&appId=6650a1b2c3d4e5f601234567&body=测试商品描述"
    '&channelExtra={"payDataType":"codeImgUrl"}&clientIp=203.0.113.7&currency=cny'
    "&mchNo=M1700000001&mchOrderNo=ORD20240601000001"
    "&notifyUrl=https://shop.example.com/pay/notify&reqTime=1717200000000&signType=MD5"
    "&subject=测试商品&version=1.0&wayCode=ALI_QR&key=DEMO_APP_SECRET_DO_NOT_USE"
)
UNIFIED_ORDER_SIGN = "8895F7CF9DCB54F4AC32DD728D80EC38"

# §10.6 pay notification; the null errCode, errMsg and extParam are dropped.
NOTIFICATION = {
    "payOrderId": "P1797000000000000001",
    "mchNo": "M1700000001",
    "appId": "6650a1b2c3d4e5f601234567",
    "mchOrderNo": "ORD20240601000001",
    "ifCode": "alipay",
    "wayCode": "ALI_QR",
    "amount": "1",
    "currency": "cny",
    "state": "2",
    "clientIp": "203.0.113.7",
    "subject": "测试商品",
    "body": "测试商品描述",
    "channelOrderNo": "2024060122001400000000000001",
    "errCode": None,
    "errMsg": None,
    "extParam": None,
    "createdAt": "1717200000500",
    "successTime": "1717200030000",
    "reqTime": "1717200031000",
}
NOTIFICATION_STRING = (
    "amount=1&appId=6650a1b2c3d4e5f601234567&body=测试商品描述"
    "&channelOrderNo=2024060122001400000000000001&clientIp=203.0.113.7&createdAt=1717200000500"
    "&currency=cny&ifCode=alipay&mchNo=M1700000001&mchOrderNo=ORD20240601000001"
    "&payOrderId=P1797000000000000001&reqTime=1717200031000&state=2&subject=测试商品"
    "&successTime=1717200030000&wayCode=ALI_QR&key=DEMO_APP_SECRET_DO_NOT_USE"
)
NOTIFICATION_SIGN = "742B5C5F0122059FD4AA4AEFF5761CF1"

# §10.7: computed by JeePay's own JeepayKit.getSign.
JEEPAY_SECRET = (
    "EWEFCOnAWsdV0FqNGvEp8rJV9j4DKdjqq9Sn0jz34e3Oql7ZzRbVLUs5RBcU4qbjBPxLf6yoA6rDOAYIyqlsPZAD4i25"
    "DVVvz6RwlTFk6vZXRWYY5L49jxodMP5EkJS5"
)
JEEPAY_PARAMS = {
    "mchNo": "M1700000001",
    "appId": "60cc09bce4b0f1c0b83761c9",
    "mchOrderNo": "mho1621259634500",
    "wayCode": "WX_NATIVE",
    "amount": "100",
    "currency": "cny",
    "subject": "商品标题",
    "body": "商品描述",
    "clientIp": "127.0.0.1",
    "version": "1.0",
    "signType": "MD5",
    "reqTime": "1622016572190",
    "divisionMode": "0",
    "extParam": "",
}
JEEPAY_SIGN = "1E1D0D6B56DD9C25A2E4442D3C0FA577"


def _hmac_hex(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


# --- golden vectors -----------------------------------------------------------------------------


def test_unified_order_vector() -> None:
    assert canonical_string(UNIFIED_ORDER, DEMO_SECRET) == UNIFIED_ORDER_STRING
    assert sign(UNIFIED_ORDER, DEMO_SECRET) == UNIFIED_ORDER_SIGN
    assert sign(UNIFIED_ORDER, DEMO_SECRET, "MD5") == UNIFIED_ORDER_SIGN


def test_received_sign_field_is_not_signed_over() -> None:
    received = {**UNIFIED_ORDER, "sign": UNIFIED_ORDER_SIGN}
    assert canonical_string(received, DEMO_SECRET) == UNIFIED_ORDER_STRING
    assert verify(received, DEMO_SECRET, "MD5", UNIFIED_ORDER_SIGN)


def test_notification_vector() -> None:
    assert canonical_string(NOTIFICATION, DEMO_SECRET) == NOTIFICATION_STRING
    assert sign(NOTIFICATION, DEMO_SECRET) == NOTIFICATION_SIGN


def test_sort_edge_vector_is_not_a_byte_wise_key_sort() -> None:
    params = {"a": "x", "a1": "y", "B": "z"}
    assert canonical_string(params, "K") == "a1=y&a=x&B=z&key=K"
    assert sign(params, "K") == "C7819B682FC648E572C0BBF9D6F0C7BA"


def test_jeepay_own_vector_keeps_division_mode_zero() -> None:
    text = canonical_string(JEEPAY_PARAMS, JEEPAY_SECRET)
    assert "&divisionMode=0&" in text
    assert "extParam" not in text
    assert sign(JEEPAY_PARAMS, JEEPAY_SECRET) == JEEPAY_SIGN


# --- HMAC-SHA256 over the same string -----------------------------------------------------------


def test_hmac_sha256_signs_the_same_canonical_string() -> None:
    expected = _hmac_hex(DEMO_SECRET, UNIFIED_ORDER_STRING)
    assert sign(UNIFIED_ORDER, DEMO_SECRET, "HMAC-SHA256") == expected
    assert verify(UNIFIED_ORDER, DEMO_SECRET, "HMAC-SHA256", expected.lower())
    assert not verify(UNIFIED_ORDER, DEMO_SECRET, "HMAC-SHA256", UNIFIED_ORDER_SIGN)


def test_hmac_sha256_of_the_sort_edge_case() -> None:
    params = {"a": "x", "a1": "y", "B": "z"}
    assert sign(params, "K", "HMAC-SHA256") == _hmac_hex("K", "a1=y&a=x&B=z&key=K")


def test_unknown_sign_type_is_refused() -> None:
    for sign_type in ("RSA2", "SM2", "md5", ""):
        try:
            sign(UNIFIED_ORDER, DEMO_SECRET, sign_type)
        except ValueError:
            continue
        raise AssertionError(f"signType {sign_type!r} was accepted")


# --- verify() -----------------------------------------------------------------------------------


def test_verify_ignores_case_of_the_received_sign() -> None:
    assert verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", UNIFIED_ORDER_SIGN)
    assert verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", UNIFIED_ORDER_SIGN.lower())
    mixed = "".join(c.lower() if i % 2 else c for i, c in enumerate(UNIFIED_ORDER_SIGN))
    assert verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", mixed)


def test_verify_rejects_a_changed_value_a_wrong_secret_and_a_wrong_sign() -> None:
    tampered = {**UNIFIED_ORDER, "amount": "2"}
    assert not verify(tampered, DEMO_SECRET, "MD5", UNIFIED_ORDER_SIGN)
    assert not verify(UNIFIED_ORDER, DEMO_SECRET + "x", "MD5", UNIFIED_ORDER_SIGN)
    assert not verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", UNIFIED_ORDER_SIGN[:-1] + "0")
    assert not verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", "")


def test_verify_rejects_a_non_ascii_sign_instead_of_raising() -> None:
    # The sign is attacker-controlled text; a malformed one is a mismatch, not a crash.
    assert not verify(UNIFIED_ORDER, DEMO_SECRET, "MD5", "Ä" + UNIFIED_ORDER_SIGN[1:])
    assert not verify(UNIFIED_ORDER, DEMO_SECRET, "HMAC-SHA256", "签名")


# --- empty values -------------------------------------------------------------------------------


def test_empty_and_none_values_are_dropped_but_zero_is_kept() -> None:
    params = {"amount": "0", "extParam": "", "errCode": None, "state": "2"}
    assert canonical_string(params, "K") == "amount=0&state=2&key=K"
    without = {"amount": "0", "state": "2"}
    assert sign(params, "K") == sign(without, "K")
    assert sign(params, "K") != sign({"state": "2"}, "K")


def test_values_are_used_verbatim() -> None:
    params = {"amount": "0.30", "subject": "测试 a&b=c", "notifyUrl": "https://x/n?a=1&b=%20"}
    assert canonical_string(params, "K") == (
        "amount=0.30&notifyUrl=https://x/n?a=1&b=%20&subject=测试 a&b=c&key=K"
    )


# --- properties ---------------------------------------------------------------------------------


def _java_compare(left: str, right: str) -> int:
    """Java's String.CASE_INSENSITIVE_ORDER, for BMP text (one char per UTF-16 unit).

    Written from the JDK's ``compareToCI``: equal chars pass; otherwise both go through
    ``Character.toUpperCase`` and, if still different, ``Character.toLowerCase``; the first
    difference decides, else the shorter string comes first.
    """
    for a, b in zip(left, right, strict=False):
        if a == b:
            continue
        a, b = _java_upper(a), _java_upper(b)
        if a == b:
            continue
        a, b = _java_lower(a), _java_lower(b)
        if a != b:
            return ord(a) - ord(b)
    return len(left) - len(right)


def _java_upper(char: str) -> str:
    """``Character.toUpperCase(char)``: the simple mapping, one char to one char.

    Python's ``str.upper`` is the full mapping. Where it yields one char it is the simple one;
    where it yields several (ß → SS) Java keeps the char or, for the Greek iota-subscript letters,
    picks a title-case letter that lower-cases back to the original, so keeping the char gives
    the same comparison.
    """
    upper = char.upper()
    return upper if len(upper) == 1 else char


def _java_lower(char: str) -> str:
    """``Character.toLowerCase(char)``: the simple mapping (İ → i, where str.lower gives i̇)."""
    import _sre  # CPython's simple lower-case mapping, the one ``re.IGNORECASE`` uses

    return chr(_sre.unicode_tolower(ord(char)))


def _reference_canonical(params: dict[str, str], secret: str) -> str:
    pieces = [f"{k}={v}&" for k, v in params.items() if k != "sign" and v]
    pieces.sort(key=functools.cmp_to_key(_java_compare))
    return "".join(pieces) + f"key={secret}"


def test_reference_comparator_matches_the_documented_consequences() -> None:
    # §10.2, checked on the reference itself so the property below compares against the truth.
    assert _java_compare("a1=y&", "a=x&") < 0
    assert _java_compare("a=x&", "B=z&") < 0
    assert _java_compare("_=1&", "a=1&") < 0 and _java_compare("_=1&", "A=1&") < 0
    assert _java_compare("ab", "ABC") < 0 and _java_compare("ABC", "abc") == 0
    assert _java_compare("\u0130", "i") == 0 and _java_compare("\u0130", "j") < 0


BMP = st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs",))
KEY_CHARS = st.sampled_from("aAbBzZ019_-.=&ßİıſKΣσς")
KEYS = st.text(alphabet=st.one_of(KEY_CHARS, BMP), min_size=1, max_size=6).filter(
    lambda k: k != "sign")
VALUES = st.text(alphabet=st.one_of(KEY_CHARS, BMP), min_size=1, max_size=8)
IDENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
                min_size=1, max_size=10).filter(lambda k: k != "sign")


def _case_distinct(keys: list[str]) -> bool:
    return len({k.lower() for k in keys}) == len(keys)


@given(st.dictionaries(KEYS, VALUES, max_size=12), st.text(max_size=10))
@example({"\u0130": "1", "j": "2", "i": "3"}, "K")
@example({"a": "x", "a1": "y", "B": "z", "_": "u", "A_": "v"}, "K")
def test_sort_matches_java_case_insensitive_order(params: dict[str, str], secret: str) -> None:
    assert canonical_string(params, secret) == _reference_canonical(params, secret)


@given(st.lists(st.tuples(IDENT, VALUES), max_size=12, unique_by=lambda kv: kv[0].lower()),
       st.randoms(use_true_random=False), st.sampled_from(["MD5", "HMAC-SHA256"]))
def test_signature_does_not_depend_on_insertion_order(
        items: list[tuple[str, str]], rnd: random.Random, sign_type: str) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert canonical_string(dict(items), "K") == canonical_string(dict(shuffled), "K")
    assert sign(dict(items), "K", sign_type) == sign(dict(shuffled), "K", sign_type)


@given(st.lists(st.tuples(IDENT, VALUES), min_size=1, max_size=12,
                unique_by=lambda kv: kv[0].lower()),
       st.data())
def test_changing_any_single_value_changes_the_canonical_string(
        items: list[tuple[str, str]], data: st.DataObject) -> None:
    params = dict(items)
    key = data.draw(st.sampled_from(sorted(params)))
    new_value = data.draw(VALUES.filter(lambda v: v != params[key]))
    changed = {**params, key: new_value}
    assert canonical_string(changed, "K") != canonical_string(params, "K")
    assert sign(changed, "K") != sign(params, "K")
