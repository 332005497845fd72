"""The simulator on its own, driven by a third, minimal client written here.

It must fail where Alipay fails: wrong keys, unknown apps, over-refunds, and notifications that
are only done when the body is exactly ``success``.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paymesh.services.simulators.alipay import APP_ID, AlipaySimulator, SimulatorRefused

from . import order_id, receiver

_INNER = re.compile(r'^\{"(\w+)":(\{.*\}),"sign":"([^"]+)"\}$', re.S)


def call(sim: AlipaySimulator, method: str, biz: dict[str, Any], *, transport: str = "split",
         key_pem: str | None = None, app_id: str = APP_ID, **extra: str) -> dict[str, Any]:
    """Signs and sends one request; returns the verified response object."""
    params = {"app_id": app_id, "method": method, "format": "JSON", "charset": "utf-8",
              "sign_type": "RSA2", "timestamp": "2024-06-01 10:00:00", "version": "1.0",
              "biz_content": json.dumps(biz, separators=(",", ":")), **extra}
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if params[k])
    key = serialization.load_pem_private_key(
        (key_pem or sim.app_key.private_pem).encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    params["sign"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()
    if transport == "get":
        request = urllib.request.Request(sim.gateway_url + "?" + urlencode(params))
    else:
        body = {"biz_content": params.pop("biz_content")} if transport == "split" else params
        query = "?" + urlencode(params) if transport == "split" else ""
        request = urllib.request.Request(
            sim.gateway_url + query, data=urlencode(body).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        raw = answer.read().decode()
    match = _INNER.match(raw)
    if match is None:
        return {"unsigned": json.loads(raw)}
    public = serialization.load_pem_public_key(sim.alipay_key.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(match[3]), match[2].encode(), padding.PKCS1v15(),
                  hashes.SHA256())
    assert match[1] in (method.replace(".", "_") + "_response", "error_response")
    return dict(json.loads(match[2]))


@pytest.mark.parametrize("transport", ["get", "split", "form"])
def test_every_transport_is_accepted_and_answers_are_signed(sim: AlipaySimulator,
                                                            transport: str) -> None:
    number = order_id()
    answer = call(sim, "alipay.trade.precreate",
                  {"out_trade_no": number, "total_amount": "0.01", "subject": "x"},
                  transport=transport)
    assert answer["code"] == "10000" and answer["qr_code"].startswith("https://qr.alipay.com/")
    # Not scanned yet: Alipay does not know the trade.
    assert call(sim, "alipay.trade.query", {"out_trade_no": number})["sub_code"] == \
        "ACQ.TRADE_NOT_EXIST"
    sim.control("scan", out_trade_no=number)
    assert call(sim, "alipay.trade.query", {"out_trade_no": number})["trade_status"] == \
        "WAIT_BUYER_PAY"


def test_a_request_signed_with_another_key_is_refused(sim: AlipaySimulator) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    answer = call(sim, "alipay.trade.query", {"out_trade_no": "x"}, key_pem=other)
    assert (answer["code"], answer["sub_code"]) == ("40002", "isv.invalid-signature")


def test_an_unknown_app_is_refused_unsigned(sim: AlipaySimulator) -> None:
    answer = call(sim, "alipay.trade.query", {"out_trade_no": "x"}, app_id="2021000000000999")
    inner = answer["unsigned"]["alipay_trade_query_response"]
    assert (inner["code"], inner["sub_code"]) == ("40002", "isv.invalid-app-id")


def test_refunds_are_cumulative_and_never_exceed_the_payment(sim: AlipaySimulator) -> None:
    number = order_id()
    biz = {"out_trade_no": number, "total_amount": "1.00", "subject": "x"}
    assert call(sim, "alipay.trade.precreate", biz)["code"] == "10000"
    sim.pay(number)
    refund = {"out_trade_no": number, "refund_amount": "0.60", "out_request_no": "R1"}
    first = call(sim, "alipay.trade.refund", refund)
    assert (first["fund_change"], first["refund_fee"]) == ("Y", "0.60")
    assert call(sim, "alipay.trade.refund", refund)["fund_change"] == "N"  # idempotent repeat
    too_much = call(sim, "alipay.trade.refund", {**refund, "out_request_no": "R2"})
    assert too_much["sub_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
    rest = call(sim, "alipay.trade.refund", {**refund, "refund_amount": "0.40",
                                             "out_request_no": "R3"})
    assert rest["refund_fee"] == "1.00"
    assert sim.trade(number)["status"] == "TRADE_CLOSED"
    assert call(sim, "alipay.trade.precreate", biz)["sub_code"] == "ACQ.TRADE_HAS_CLOSE"


def test_a_changed_resubmission_is_refused(sim: AlipaySimulator) -> None:
    number = order_id()
    call(sim, "alipay.trade.precreate", {"out_trade_no": number, "total_amount": "1.00",
                                         "subject": "x"})
    changed = call(sim, "alipay.trade.precreate", {"out_trade_no": number,
                                                   "total_amount": "2.00", "subject": "x"})
    assert changed["sub_code"] == "ACQ.CONTEXT_INCONSISTENT"
    with pytest.raises(SimulatorRefused):
        sim.control("finish", out_trade_no=number)


def test_notifications_retry_until_the_body_is_exactly_success(sim: AlipaySimulator) -> None:
    number = order_id()
    with receiver([b"SUCCESS", b"success\n", b"fail"]) as notify:
        call(sim, "alipay.trade.precreate", {"out_trade_no": number, "total_amount": "0.01",
                                             "subject": "x"}, notify_url=notify.url)
        sim.pay(number)
        bodies = notify.wait_for(4)
    # The simulator records an attempt once it has read the answer, a moment after the receiver
    # has the body: wait for the fourth record rather than read the log at once.
    for _ in range(250):
        log = [e for e in sim.control("deliveries")["deliveries"] if e["out_trade_no"] == number]
        if len(log) >= 4:
            break
        time.sleep(0.02)
    assert [e["acknowledged"] for e in log] == [False, False, False, True]
    assert len({e["notify_id"] for e in log}) == 1
    form = dict(parse_qsl(bodies[-1].decode(), keep_blank_values=True))
    assert form["trade_status"] == "TRADE_SUCCESS" and form["body"] == ""
    text = "&".join(f"{k}={form[k]}" for k in sorted(form) if k not in ("sign", "sign_type"))
    public = serialization.load_pem_public_key(sim.alipay_key.public_pem.encode())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(form["sign"]), text.encode(), padding.PKCS1v15(),
                  hashes.SHA256())


def test_an_unacknowledged_notification_stops_after_alipays_eight_attempts(
        sim: AlipaySimulator) -> None:
    number = order_id()
    with receiver([b"fail"] * 20) as notify:
        call(sim, "alipay.trade.precreate", {"out_trade_no": number, "total_amount": "0.01",
                                             "subject": "x"}, notify_url=notify.url)
        sim.pay(number)
        notify.wait_for(8, timeout=5)
        times = [e["at"] for e in sim.control("deliveries")["deliveries"]
                 if e["out_trade_no"] == number]
    assert len(times) == 8
    # The last pause (15 h) is the longest, scaled down by the time scale.
    assert times[-1] - times[-2] > times[1] - times[0]


def test_the_command_line_prints_its_url_and_adapter_params() -> None:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.simulators.alipay",
                                "--isv"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        params = line["params"]
        assert line["gatewayUrl"] == line["baseUrl"] + "/gateway.do" == params["apiBase"]
        assert params["privateKey"].startswith("-----BEGIN PRIVATE KEY-----")
        assert params["alipayPublicKey"].startswith("-----BEGIN PUBLIC KEY-----")
        assert params["sub"]["appAuthToken"] and params["signType"] == "RSA2"
        with urllib.request.urlopen(line["baseUrl"] + "/__sim/book", timeout=5) as answer:
            assert json.loads(answer.read()) == {"trades": []}
    finally:
        process.terminate()
        assert process.wait(timeout=5) is not None
