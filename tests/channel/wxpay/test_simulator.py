"""The simulator on its own: it refuses what WeChat refuses and signs what WeChat signs.

Requests here are signed by a tiny signer written in this file, not by the adapter, so a bug the
adapter and the simulator happened to share would still show.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paymesh.services.simulators.wxpay import WxpaySimulator
from paymesh.services.simulators.wxpay.auth import FORMAT_MESSAGE

from .conftest import TIME_SCALE, new_id, notify_url
from .receiver import CallbackReceiver


def signed_headers(sim: WxpaySimulator, method: str, target: str, body: bytes, *,
                   key: rsa.RSAPrivateKey | None = None, timestamp: int | None = None,
                   nonce: str | None = None, mchid: str | None = None,
                   serial: str | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(16)
    message = f"{method}\n{target}\n{stamp}\n{nonce}\n".encode() + body + b"\n"
    signature = base64.b64encode((key or sim.keys.merchant_key).sign(
        message, padding.PKCS1v15(), hashes.SHA256())).decode()
    auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid or sim.keys.mch_id}",'
            f'nonce_str="{nonce}",signature="{signature}",timestamp="{stamp}",'
            f'serial_no="{serial or sim.keys.merchant_serial}"')
    return {"Authorization": auth, "Content-Type": "application/json",
            "Accept": "application/json"}


def native_body(sim: WxpaySimulator, out_trade_no: str, url: str = "https://x.test/n") -> bytes:
    return json.dumps({"appid": sim.keys.app_id, "mchid": sim.keys.mch_id, "description": "t",
                       "out_trade_no": out_trade_no, "notify_url": url,
                       "amount": {"total": 100, "currency": "CNY"}}).encode()


def verify_answer(sim: WxpaySimulator, response: httpx.Response) -> None:
    """Checks WeChat's answer signature with the platform public keys, as a merchant would."""
    h = response.headers
    assert h["wechatpay-signature-type"] == "WECHATPAY2-SHA256-RSA2048"
    assert h["request-id"]
    key = (sim.keys.wxpay_key if h["wechatpay-serial"] == sim.keys.public_key_id
           else sim.keys.platform_key).public_key()
    message = (f"{h['wechatpay-timestamp']}\n{h['wechatpay-nonce']}\n".encode()
               + response.content + b"\n")
    key.verify(base64.b64decode(h["wechatpay-signature"]), message, padding.PKCS1v15(),
               hashes.SHA256())


async def post(http: httpx.AsyncClient, sim: WxpaySimulator, path: str, body: bytes,
               **sign: Any) -> httpx.Response:
    headers = signed_headers(sim, "POST", path, body, **sign)
    return await http.post(sim.base_url + path, content=body, headers=headers)


async def test_a_correct_order_is_answered_and_signed(http: httpx.AsyncClient,
                                                      sim: WxpaySimulator) -> None:
    response = await post(http, sim, "/v3/pay/transactions/native", native_body(sim, new_id()))
    assert response.status_code == 200
    assert response.json()["code_url"].startswith("weixin://wxpay/bizpayurl?pr=")
    assert response.headers["wechatpay-serial"] == sim.keys.platform_serial
    verify_answer(sim, response)


@pytest.mark.parametrize("breakage", ["wrong_key", "stale", "unknown_mchid", "wrong_serial",
                                      "body_changed"])
async def test_bad_signatures_get_401_sign_error(http: httpx.AsyncClient, sim: WxpaySimulator,
                                                 breakage: str) -> None:
    out_trade_no = new_id()
    body = native_body(sim, out_trade_no)
    sign: dict[str, Any] = {
        "wrong_key": {"key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
        "stale": {"timestamp": int(time.time()) - 301},
        "unknown_mchid": {"mchid": "1900000999"},
        "wrong_serial": {"serial": "ABCDEF"},
        "body_changed": {},
    }[breakage]
    headers = signed_headers(sim, "POST", "/v3/pay/transactions/native", body, **sign)
    if breakage == "body_changed":
        body = body.replace(b'"total": 100', b'"total": 1')
    response = await http.post(sim.base_url + "/v3/pay/transactions/native", content=body,
                               headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "SIGN_ERROR"
    assert "wechatpay-signature" not in response.headers
    with sim.lock:
        assert sim.book.find_order(out_trade_no) is None


@pytest.mark.parametrize("header", [
    "", "Bearer x", 'WECHATPAY2-SHA256-RSA2048 mchid="1"',
    'WECHATPAY2-SHA256-RSA2048 mchid="1", nonce_str="a",signature="b",timestamp="1",serial_no="c"',
    'WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",nonce_str="a",signature="b",timestamp="1"',
])
async def test_malformed_authorization_gets_the_format_message(
        http: httpx.AsyncClient, sim: WxpaySimulator, header: str) -> None:
    response = await http.get(sim.base_url + "/v3/pay/transactions/out-trade-no/P123456?mchid=1",
                              headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json() == {"code": "SIGN_ERROR", "message": FORMAT_MESSAGE}


async def test_a_reused_nonce_is_refused(http: httpx.AsyncClient, sim: WxpaySimulator) -> None:
    nonce = secrets.token_hex(16)
    first = await post(http, sim, "/v3/pay/transactions/native", native_body(sim, new_id()),
                       nonce=nonce)
    again = await post(http, sim, "/v3/pay/transactions/native", native_body(sim, new_id()),
                       nonce=nonce)
    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (401, "SIGN_ERROR")


async def test_query_of_an_unknown_order_is_404_order_not_exist(
        http: httpx.AsyncClient, sim: WxpaySimulator) -> None:
    target = f"/v3/pay/transactions/out-trade-no/{new_id()}?mchid={sim.keys.mch_id}"
    response = await http.get(sim.base_url + target,
                              headers=signed_headers(sim, "GET", target, b""))
    assert response.status_code == 404
    assert response.json()["code"] == "ORDER_NOT_EXIST"
    verify_answer(sim, response)


async def test_close_answers_a_signed_empty_204(http: httpx.AsyncClient,
                                                sim: WxpaySimulator) -> None:
    out_trade_no = new_id()
    await post(http, sim, "/v3/pay/transactions/native", native_body(sim, out_trade_no))
    body = json.dumps({"mchid": sim.keys.mch_id}).encode()
    response = await post(http, sim, f"/v3/pay/transactions/out-trade-no/{out_trade_no}/close",
                          body)
    assert (response.status_code, response.content) == (204, b"")
    verify_answer(sim, response)
    assert sim.order(out_trade_no)["trade_state"] == "CLOSED"


async def test_bad_parameters_get_param_error(http: httpx.AsyncClient,
                                              sim: WxpaySimulator) -> None:
    body = json.loads(native_body(sim, new_id()))
    body["amount"]["total"] = 0
    response = await post(http, sim, "/v3/pay/transactions/native", json.dumps(body).encode())
    assert (response.status_code, response.json()["code"]) == (400, "PARAM_ERROR")
    body["amount"]["total"], body["appid"] = 1, "wx0000000000000000"
    response = await post(http, sim, "/v3/pay/transactions/native", json.dumps(body).encode())
    assert response.json()["code"] == "APPID_MCHID_NOT_MATCH"


async def test_the_public_key_signs_when_the_merchant_asks_for_it(
        http: httpx.AsyncClient, sim: WxpaySimulator) -> None:
    path, body = "/v3/pay/transactions/native", native_body(sim, new_id())
    headers = signed_headers(sim, "POST", path, body)
    headers["Wechatpay-Serial"] = sim.keys.public_key_id
    response = await http.post(sim.base_url + path, content=body, headers=headers)
    assert response.headers["wechatpay-serial"] == sim.keys.public_key_id
    verify_answer(sim, response)


async def test_callbacks_retry_on_the_compressed_schedule_until_200_or_204(
        http: httpx.AsyncClient, sim: WxpaySimulator, receiver: CallbackReceiver) -> None:
    out_trade_no = new_id()
    url = notify_url(receiver, out_trade_no)
    path = url.removeprefix(receiver.url)
    receiver.script(path, (500, b'{"code":"FAIL"}'), (404, b""), (302, b""),
                    (200, b'{"code":"FAIL","message":"x"}'))
    await post(http, sim, "/v3/pay/transactions/native", native_body(sim, out_trade_no, url))
    reply = await http.post(sim.base_url + "/__sim/pay", json={"out_trade_no": out_trade_no})
    assert reply.json()["trade_state"] == "SUCCESS"
    got = receiver.wait(path, 4)
    log = sim.wait_for_delivery(out_trade_no)
    assert [e["status"] for e in log] == [500, 404, 302, 200]
    assert [e["received"] for e in log] == [False, False, False, True]
    gaps = [b.at - a.at for a, b in zip(got, got[1:], strict=False)]
    assert [round(g, 3) >= s * TIME_SCALE for g, s in zip(gaps, (15, 15, 30), strict=True)] \
        == [True] * 3
    time.sleep(180 * TIME_SCALE * 2)
    assert len(receiver.on(path)) == 4  # a 200, even with "FAIL" inside, ends the retries
    assert len({r.body for r in got}) == 1
    assert len({r.headers["wechatpay-nonce"] for r in got}) == 4


async def test_controls_and_book_over_http(http: httpx.AsyncClient, sim: WxpaySimulator) -> None:
    out_trade_no = new_id()
    await post(http, sim, "/v3/pay/transactions/native", native_body(sim, out_trade_no))
    failed = await http.post(sim.base_url + "/__sim/fail", json={"out_trade_no": out_trade_no})
    assert failed.json()["trade_state"] == "PAYERROR"
    again = await http.post(sim.base_url + "/__sim/pay", json={"out_trade_no": out_trade_no})
    assert again.status_code == 400
    book = (await http.get(sim.base_url + "/__sim/book")).json()
    assert any(o["out_trade_no"] == out_trade_no and o["trade_state"] == "PAYERROR"
               for o in book["orders"])
    params = (await http.get(sim.base_url + "/__sim/params?isv=1")).json()
    assert params["sub"]["subMchId"] == sim.keys.sub_mch_id
    serialization.load_pem_private_key(params["apiClientKey"].encode(), None)


def test_the_command_line_prints_its_url_and_params() -> None:
    """``python -m paymesh.services.simulators.wxpay`` prints one JSON line, then serves."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "paymesh.services.simulators.wxpay",
                                "--port", "0", "--isv"], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())
        assert line["params"]["apiBase"] == line["baseUrl"]
        assert {"mchId", "appId", "apiV3Key", "serialNo", "apiClientKey", "wxpayPublicKeyId",
                "wxpayPublicKey", "platformCerts", "sub"} <= set(line["params"])
        book = httpx.get(line["baseUrl"] + "/__sim/book", timeout=5, trust_env=False)
        assert book.json() == {"orders": [], "refunds": []}
    finally:
        process.terminate()
        process.wait(timeout=5)
