"""The adapter's signature texts and amount conversion, pinned by Alipay's own example."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from paymesh.services.channel.adapters.alipay import signing
from paymesh.services.channel.adapters.alipay.gateway import BEIJING, AlipayGateway
from paymesh.services.channel.adapters.alipay.params import fen_to_yuan, read_params, yuan_to_fen
from paymesh.services.simulators.alipay import AlipaySimulator
from paymesh.services.simulators.alipay.crypto import KeyPair

# reference/channel-protocols.md §2.2, character for character.
GOLDEN = ('app_id=2014072300007148&biz_content={"out_trade_no":"A1","total_amount":"0.01",'
          '"subject":"x"}&charset=utf-8&method=alipay.trade.precreate&sign_type=RSA2&'
          'timestamp=2014-07-24 03:07:50&version=1.0')
GOLDEN_PARAMS = {
    "method": "alipay.trade.precreate", "app_id": "2014072300007148", "version": "1.0",
    "sign_type": "RSA2", "charset": "utf-8", "timestamp": "2014-07-24 03:07:50",
    "biz_content": '{"out_trade_no":"A1","total_amount":"0.01","subject":"x"}',
    "notify_url": "", "sign": "left out",
}


def test_the_golden_content_to_sign_is_built_exactly() -> None:
    assert signing.request_content(GOLDEN_PARAMS) == GOLDEN


def test_the_gateway_signs_the_golden_request(sim: AlipaySimulator) -> None:
    """Same biz_content and timestamp as the example; the signature verifies over the text."""
    cfg = read_params({**sim.adapter_params(), "appId": "2014072300007148"})
    moment = datetime(2014, 7, 24, 3, 7, 50, tzinfo=BEIJING).timestamp()
    gateway = AlipayGateway(None, clock=lambda: moment)  # type: ignore[arg-type]
    signed = gateway.signed(cfg, "alipay.trade.precreate",
                            {"out_trade_no": "A1", "total_amount": fen_to_yuan(1),
                             "subject": "x"})
    content = signing.request_content(signed)
    assert content == GOLDEN.replace("&method=", "&format=JSON&method=")
    assert signing.verify(content.encode(), signed["sign"], cfg.private_key.public_key())


def test_both_implementations_sign_the_golden_text_identically() -> None:
    """RSA PKCS#1 v1.5 is deterministic: the adapter and the simulator must agree bit for bit."""
    pair = KeyPair.generate()
    key = signing.load_private_key(pair.private_pem)
    assert signing.sign(GOLDEN, key) == pair.sign(GOLDEN.encode())


def test_notification_text_keeps_empty_values_and_drops_sign_type() -> None:
    fields = {"sign": "s", "sign_type": "RSA2", "b": "", "a": "1", "c": "x y"}
    assert signing.notification_content(fields) == "a=1&b=&c=x y"
    assert signing.request_content(fields) == "a=1&c=x y&sign_type=RSA2"


def test_the_response_object_is_cut_raw_not_reserialised() -> None:
    inner = '{"code":"10000","qr_code":"https:\\/\\/qr.alipay.com\\/bax0","msg":"成功 }"}'
    raw = ('{ "other":{"x":"\\"alipay_trade_precreate_response\\":{}"},'
           f'"alipay_trade_precreate_response" : {inner} ,"sign":"abc=="}}')
    assert signing.response_object(raw, "alipay_trade_precreate_response") == (inner, "abc==")
    assert signing.response_object(raw, "error_response") is None
    assert signing.response_object("not json", "error_response") is None
    assert signing.response_object('{"error_response":{"code":"1"', "error_response") is None


def test_keys_load_from_pem_and_from_bare_base64() -> None:
    pair = KeyPair.generate()
    bare = "".join(line for line in pair.public_pem.splitlines() if "-----" not in line)
    assert signing.load_public_key(bare).public_numbers() == \
        signing.load_public_key(pair.public_pem).public_numbers()
    bare_private = "".join(line for line in pair.private_pem.splitlines() if "---" not in line)
    assert signing.load_private_key(bare_private).private_numbers() == \
        pair.private.private_numbers()


@given(st.integers(min_value=1, max_value=10**13))
def test_fen_and_yuan_convert_exactly(fen: int) -> None:
    yuan = fen_to_yuan(fen)
    assert yuan_to_fen(yuan) == fen
    assert Decimal(yuan) * 100 == fen


def test_yuan_parsing_refuses_what_is_not_a_plain_amount() -> None:
    assert [fen_to_yuan(n) for n in (1, 10, 100, 12345)] == ["0.01", "0.10", "1.00", "123.45"]
    assert yuan_to_fen("2.5") == 250 and yuan_to_fen("7") == 700
    for bad in ("", "-1.00", "1.001", "1e3", " 1.00", "01.00", "1,00", "0x10"):
        assert yuan_to_fen(bad) is None, bad
