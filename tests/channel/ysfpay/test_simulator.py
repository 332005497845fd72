"""The UnionPay simulator on its own, spoken to by a hand-rolled client (no adapter code)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paymesh.services.simulators.ysfpay import YsfpaySimulator

BEIJING = timezone(timedelta(hours=8))


def signed_request(sim: YsfpaySimulator, **fields: str) -> dict[str, str]:
    """A request as a merchant would send it, signed here by the recipe of §3."""
    now = datetime.now(BEIJING)
    base = {"version": "5.1.0", "encoding": "UTF-8", "signMethod": "01",
            "certId": str(sim.pki.merchant.cert.serial_number), "bizType": "000000",
            "accessType": "1", "acqInsCode": sim.book.acq_ins_code, "merId": sim.book.mer_id,
            "reserved": "{serProvId=" + sim.book.ser_prov_id + "}", "channelType": "08",
            "txnTime": f"{now:%Y%m%d%H%M%S}", **fields}
    text = "&".join(k + "=" + base[k] for k in sorted(base))
    digest = hashlib.sha256(text.encode()).hexdigest().encode()
    raw = sim.pki.merchant.key.sign(digest, padding.PKCS1v15(), hashes.SHA256())
    return {**base, "signature": base64.b64encode(raw).decode()}


def post(sim: YsfpaySimulator, fields: dict[str, str],
         path: str = "backTransReq") -> dict[str, str]:
    response = httpx.post(f"{sim.base_url}/gateway/api/{path}.do", content=urlencode(fields),
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    answer: dict[str, str] = {}
    for pair in response.text.split("&"):  # simple: these answers hold no braces
        key, _, value = pair.partition("=")
        answer[key] = value
    return answer


def check_unionpay_signed(sim: YsfpaySimulator, answer: dict[str, str]) -> None:
    cert = x509.load_pem_x509_certificate(answer["signPubKeyCert"].encode())
    cert.verify_directly_issued_by(sim.pki.middle.cert)
    sim.pki.middle.cert.verify_directly_issued_by(sim.pki.root.cert)
    text = "&".join(k + "=" + answer[k] for k in sorted(answer) if k != "signature")
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(base64.b64decode(answer["signature"]),
               hashlib.sha256(text.encode()).hexdigest().encode(), padding.PKCS1v15(),
               hashes.SHA256())


def control(sim: YsfpaySimulator, action: str, **args: Any) -> Any:
    response = httpx.post(f"{sim.base_url}/__sim/{action}", json=args)
    assert response.status_code == 200, response.text
    return response.json()


def test_qr_apply_pay_and_query_over_http(sim: YsfpaySimulator) -> None:
    order_id = f"SIM{time.time_ns()}"
    request = signed_request(sim, txnType="01", txnSubType="07", orderId=order_id,
                             txnAmt="500", currencyCode="156", backUrl="http://127.0.0.1:9/n")
    answer = post(sim, request)
    check_unionpay_signed(sim, answer)
    assert answer["respCode"] == "00" and answer["qrCode"].startswith("https://qr.95516.com/")

    control(sim, "pay", orderId=order_id)
    query = signed_request(sim, txnType="00", txnSubType="00", orderId=order_id,
                           txnTime=request["txnTime"])
    queried = post(sim, query, "queryTrans")
    check_unionpay_signed(sim, queried)
    assert (queried["respCode"], queried["origRespCode"], queried["txnAmt"]) == ("00", "00", "500")
    book = httpx.get(f"{sim.base_url}/__sim/book").json()
    assert any(t["order_id"] == order_id and t["state"] == "SUCCESS" for t in book)


def test_a_request_with_a_bad_signature_is_refused_with_11(sim: YsfpaySimulator) -> None:
    request = signed_request(sim, txnType="00", txnSubType="00", orderId="SIM00000001")
    request["orderId"] = "SIM00000002"  # altered after signing
    answer = post(sim, request, "queryTrans")
    check_unionpay_signed(sim, answer)
    assert answer["respCode"] == "11"


def test_an_unknown_merchant_and_duplicate_orders_get_acp_codes(sim: YsfpaySimulator) -> None:
    assert post(sim, signed_request(sim, txnType="00", txnSubType="00", orderId="SIM00000003",
                                    merId="999999999999999"), "queryTrans")["respCode"] == "31"
    order_id = f"SIM{time.time_ns()}"
    consume = signed_request(sim, txnType="01", txnSubType="06", orderId=order_id, txnAmt="9",
                             currencyCode="156", backUrl="http://127.0.0.1:9/n",
                             qrNo="6220000011112222333", termId="00000001")
    assert post(sim, consume)["respCode"] == "00"
    assert post(sim, consume)["respCode"] == "12"


def test_controls_faults_and_notifications_over_http(sim: YsfpaySimulator) -> None:
    control(sim, "fault", kind="5xx")
    response = httpx.post(f"{sim.base_url}/gateway/api/queryTrans.do", content=b"x=1")
    assert response.status_code == 502
    order_id = f"SIM{time.time_ns()}"
    post(sim, signed_request(sim, txnType="01", txnSubType="07", orderId=order_id, txnAmt="77",
                             currencyCode="156", backUrl="http://127.0.0.1:9/n"))
    control(sim, "pay", orderId=order_id)
    body = control(sim, "notify", orderId=order_id, variant="tampered", send=False)["body"]
    assert "txnAmt=177" in body
    bad = httpx.post(f"{sim.base_url}/__sim/pay", json={"orderId": "nope"})
    assert bad.status_code == 400 and "no transaction" in bad.json()["error"]
    deliveries = httpx.get(f"{sim.base_url}/__sim/deliveries").json()
    assert isinstance(deliveries, list)


def test_every_run_has_fresh_keys_and_certificates(sim: YsfpaySimulator) -> None:
    with YsfpaySimulator() as other:
        assert other.pki.root.cert.fingerprint(hashes.SHA256()) != \
            sim.pki.root.cert.fingerprint(hashes.SHA256())
        assert other.adapter_params()["certId"] != sim.adapter_params()["certId"]
        json.dumps(other.adapter_params("pem"))  # the params are plain JSON
        assert other.base_url != sim.base_url
