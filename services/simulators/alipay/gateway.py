"""The simulated ``gateway.do``: verify a request as Alipay does, run it, sign the answer.

Requests arrive as a GET query string (python-alipay-sdk) or a POST form, possibly split
between query string and body (the official SDK); the signature covers all of it. Answers are
``{"<method>_response":{…},"sign":"…"}`` signed over the exact inner text written, with ``/``
escaped as ``\\/`` as the real gateway does, so a client that re-serialises instead of cutting
the raw text fails verification. Faults queued by tests alter one answer each.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from paymesh.services.simulators.alipay.book import Refusal
from paymesh.services.simulators.alipay.crypto import KeyPair, signed_request_text
from paymesh.services.simulators.alipay.methods import Caller, Methods
from paymesh.services.simulators.alipay.oauth import TOKEN_METHOD, OAuth

MESSAGES = {"10000": "Success", "10003": "Order success pay inprocess",
            "20000": "Service Currently Unavailable", "20001": "Insufficient Token Permissions",
            "40001": "Missing Required Arguments", "40002": "Invalid Arguments",
            "40004": "Business Failed", "40006": "Insufficient Permissions"}
CASHIER_METHODS = {"alipay.trade.wap.pay": "wap", "alipay.trade.page.pay": "page",
                   "alipay.trade.app.pay": "app"}
JSON_TYPE = "application/json;charset=utf-8"


@dataclass
class Fault:
    """One answer to spoil: kind ``http``, ``delay``, ``drop``, ``code20000``, ``refuse``,
    ``tamper``, ``wrongkey`` or ``unsigned``; ``method`` "" matches any method."""

    kind: str
    method: str = ""
    seconds: float = 0.0
    status: int = 502
    code: str = "40004"
    sub_code: str = "ACQ.SYSTEM_ERROR"
    sub_msg: str = "系统错误"


@dataclass
class Reply:
    """What the HTTP layer writes: status, type, body, after ``delay`` s, or drops the line."""

    status: int
    content_type: str
    body: bytes
    delay: float = 0.0
    drop: bool = False
    created: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class Gateway:
    """Verifies, dispatches and signs; one lock guards the book."""

    def __init__(self, apps: dict[str, KeyPair], tokens: dict[str, str], alipay_key: KeyPair,
                 methods: Methods, other_key: Callable[[], KeyPair], oauth: OAuth) -> None:
        self.apps = apps
        self.tokens = tokens
        self.alipay_key = alipay_key
        self.methods = methods
        self.oauth = oauth
        self.other_key = other_key
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.requests: list[dict[str, str]] = []

    def handle(self, params: dict[str, str]) -> Reply:
        """The answer to one ``gateway.do`` request."""
        method = params.get("method", "")
        with self.lock:
            self.requests.append(dict(params))
            fault = self._take_fault(method)
        if fault is not None and fault.kind == "http":
            return Reply(fault.status, "text/html", b"<html><body>Bad Gateway</body></html>")
        name = (method.replace(".", "_") + "_response") if method else "error_response"
        caller, fields = self.authenticate(params)
        if caller is not None:
            if method in CASHIER_METHODS:
                return self.cashier(caller, method, params)
            fields = self._dispatch(caller, method, params, fault)
        # oauth.token answers its refusals as error_response, as the real gateway does.
        if not self.known(method) or (method == TOKEN_METHOD and "sub_code" in fields):
            name = "error_response"
        return self._write(name, fields, signed=params.get("app_id") in self.apps, fault=fault)

    def authenticate(self, params: dict[str, str]) -> tuple[Caller | None, dict[str, Any]]:
        """The caller, or the gateway's refusal of the request's common parameters."""
        app_id = params.get("app_id", "")
        for name, sub_code in (("app_id", "isv.missing-app-id"),
                               ("method", "isv.missing-method"),
                               ("sign", "isv.missing-signature")):
            if not params.get(name):
                return None, _refusal("40001", sub_code, f"缺少必选参数 {name}")
        app = self.apps.get(app_id)
        if app is None:
            return None, _refusal("40002", "isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2":
            return None, _refusal("40002", "isv.invalid-signature-type", "无效的签名类型")
        text = signed_request_text({k: v for k, v in params.items()})
        if not app.verify(text.encode("utf-8"), params["sign"]):
            return None, _refusal("40002", "isv.invalid-signature",
                                  "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")
        merchant = app_id
        token = params.get("app_auth_token", "")
        if token:
            if token not in self.tokens:
                return None, _refusal("20001", "aop.invalid-auth-token", "无效的应用授权令牌")
            merchant = self.tokens[token]
        if not self.known(params["method"]):
            return None, _refusal("40002", "isv.invalid-method", "不存在的方法名")
        return Caller(app_id, merchant, params.get("notify_url", "")), {}

    def known(self, method: str) -> bool:
        """Whether the gateway serves ``method``."""
        return method in self.methods.handlers or method in CASHIER_METHODS or (
            method == TOKEN_METHOD)

    def cashier(self, caller: Caller, method: str, params: dict[str, str]) -> Reply:
        """A page/wap/app pay opened by the payer: the trade now exists, waiting to be paid."""
        try:
            biz = _biz(params)
            with self.lock:
                trade = self.methods.new_trade(caller, biz, CASHIER_METHODS[method], seen=True)
        except Refusal as refusal:
            page = f'<p id="error">{refusal.sub_code}</p><p>{refusal.sub_msg}</p>'
            return Reply(200, "text/html;charset=utf-8", _html(page))
        page = (f'<p id="result">WAIT_BUYER_PAY</p><p>out_trade_no={trade.out_trade_no}</p>'
                f"<p>total_amount={biz.get('total_amount')}</p>")
        return Reply(200, "text/html;charset=utf-8", _html(page),
                     created={"out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no})

    def _dispatch(self, caller: Caller, method: str, params: dict[str, str],
                  fault: Fault | None) -> dict[str, Any]:
        if fault is not None and fault.kind == "refuse":
            return _refusal(fault.code, fault.sub_code, fault.sub_msg)
        try:
            if method == TOKEN_METHOD:  # top-level grant_type and code, no biz_content
                fields = self.oauth.token(caller, params)
            else:
                biz = _biz(params)
                with self.lock:
                    fields = self.methods.handlers[method](caller, biz)
        except Refusal as refusal:
            fields = _refusal(refusal.code, refusal.sub_code, refusal.sub_msg)
        if fault is not None and fault.kind == "code20000":
            fields = _refusal("20000", "ACQ.SYSTEM_ERROR", "系统繁忙")
        return fields

    def _write(self, name: str, fields: dict[str, Any], *, signed: bool,
               fault: Fault | None) -> Reply:
        inner = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")
        kind = fault.kind if fault is not None else ""
        key = self.other_key() if kind == "wrongkey" else self.alipay_key
        signature = key.sign(inner.encode("utf-8"))
        if kind == "tamper":
            forged = {**fields, "code": "10000", "msg": "Success"}
            if "trade_status" in forged:
                forged["trade_status"] = "TRADE_SUCCESS"
            if "user_id" in forged:  # an identity answer: claim to be someone else
                forged["user_id"] = "2088000000000666"
            if forged == fields:  # already a success: alter who paid and how much
                forged.update(total_amount="100000.00", buyer_logon_id="attacker@example.com")
            inner = json.dumps(forged, ensure_ascii=False, separators=(",", ":"))
        text = '{"' + name + '":' + inner
        if signed and kind != "unsigned":
            text += ',"sign":"' + signature + '"'
        text += "}"
        return Reply(200, JSON_TYPE, text.encode("utf-8"),
                     delay=fault.seconds if fault is not None and kind == "delay" else 0.0,
                     drop=kind == "drop")

    def _take_fault(self, method: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.method in ("", method):
                return self.faults.pop(index)
        return None


def verify_order_string(gateway: Gateway, order_string: dict[str, str]) -> Reply:
    """An app-pay order string handed to the Alipay app (``/__sim/app_pay``)."""
    caller, refusal = gateway.authenticate(order_string)
    if caller is None:
        return Reply(400, JSON_TYPE, json.dumps(refusal).encode("utf-8"))
    if order_string.get("method") != "alipay.trade.app.pay":
        return Reply(400, JSON_TYPE, b'{"sub_code":"isv.invalid-method"}')
    reply = gateway.cashier(caller, order_string["method"], order_string)
    status = 200 if reply.created else 409
    body = reply.created or {"error": reply.body.decode("utf-8")}
    return Reply(status, JSON_TYPE, json.dumps(body, ensure_ascii=False).encode("utf-8"))


def _biz(params: dict[str, str]) -> dict[str, Any]:
    try:
        biz = json.loads(params.get("biz_content") or "{}")
    except ValueError:
        biz = None
    if not isinstance(biz, dict):
        raise Refusal("isv.invalid-parameter", "biz_content 不是 JSON 对象", code="40002")
    return biz


def _refusal(code: str, sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": code, "msg": MESSAGES.get(code, ""), "sub_code": sub_code, "sub_msg": sub_msg}


def _html(inner: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>支付宝 (simulator)</title>"
            f"</head><body>{inner}</body></html>").encode()
