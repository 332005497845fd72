"""The fuzz's judge (tests/fuzz/edge.py) on answers made up here: it must see every broken rule.

The fuzz tests pass against a healthy edge; these prove they would not pass against a broken one.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from schemathesis import Response

from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.common import signing
from tests.fuzz.edge import Target, load_schema, operations, problems

TARGET = Target("http://127.0.0.1:1", "admin-token", MerchantCredentials("M1", "A1", "secret"))
OPERATIONS = {op.label: op for op in operations(load_schema())}
UNIFIED = OPERATIONS["POST /api/pay/unifiedOrder"]
GET_MERCHANT = OPERATIONS["GET /admin/v1/merchants/{mch_no}"]
PAGE = OPERATIONS["GET /sandbox/pay/{token}"]


def answer(status: int, body: Any, content_type: str = "application/json") -> Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status, {"content-type": [content_type]}, content,
                    requests.Request("GET", "http://x/").prepare(), 0.0, True)


def judge(operation: Any, mode: str, response: Response, case: Any = None) -> list[str]:
    return problems(operation, mode, case, response, TARGET)


def signed_envelope(data: dict[str, Any]) -> dict[str, Any]:
    text = {k: str(v) for k, v in data.items()}
    return {"code": 0, "msg": "SUCCESS", "data": data,
            "sign": signing.sign(text, TARGET.credentials.secret)}


def test_clean_answers_pass() -> None:
    assert judge(UNIFIED, "garbage", answer(200, {"code": 11, "msg": "mchNo is required"})) == []
    assert judge(UNIFIED, "signed", answer(200, signed_envelope({"payOrderId": "P1"}))) == []
    assert judge(GET_MERCHANT, "no-token", answer(401, {
        "code": 16, "message": "a valid admin bearer token is required"})) == []
    assert judge(PAGE, "as-generated", answer(404, b"<p>not found</p>", "text/html")) == []


@pytest.mark.parametrize(("mode", "response", "expected"), [
    ("garbage", answer(500, {"code": 10, "msg": "system error"}), "server error 500"),
    ("garbage", answer(200, {"code": 10, "msg": 'Traceback (most recent call last):\n File "x"'}),
     "internals in the body"),
    ("garbage", answer(200, {"code": 13, "message": "Unexpected <class 'KeyError'>"}),
     "internals in the body"),
    ("garbage", answer(404, {"code": 11, "msg": "no such endpoint"}), "not the envelope's 200"),
    ("garbage", answer(200, b"Bad Request", "text/plain"), "not a JSON envelope"),
    ("garbage", answer(200, {"code": "11", "msg": "x is bad"}), "integer code"),
    ("garbage", answer(200, {"code": 11, "msg": ""}), "not readable"),
    ("garbage", answer(200, {"code": 11, "msg": "bad", "data": {}}), "refusal carries"),
    ("unsigned", answer(200, signed_envelope({"payOrderId": "P1"})), "unsigned request succeeded"),
    ("signed", answer(200, {**signed_envelope({"payOrderId": "P1"}), "sign": "0" * 32}),
     "sign does not verify"),
])
def test_broken_merchant_answers_are_found(mode: str, response: Response, expected: str) -> None:
    found = judge(UNIFIED, mode, response)
    assert any(expected in problem for problem in found), found


@pytest.mark.parametrize(("mode", "response", "expected"), [
    ("no-token", answer(200, {"merchant": {}}), "without a valid admin token"),
    ("wrong-token", answer(404, {"code": 5, "message": "merchant M1 not found"}),
     "not 401"),
    ("token", answer(400, b"name: invalid value", "text/plain"), "not JSON with a readable"),
    ("token", answer(400, {"code": 3}), "not JSON with a readable"),
    ("token", answer(503, {"code": 14, "message": "upstream connect error"}), "server error"),
])
def test_broken_admin_answers_are_found(mode: str, response: Response, expected: str) -> None:
    found = judge(GET_MERCHANT, mode, response)
    assert any(expected in problem for problem in found), found


def test_an_admin_success_off_the_documented_schema_is_found() -> None:
    case = GET_MERCHANT.Case(path_parameters={"mch_no": "M1"})
    good = {"merchant": {"mchNo": "M1", "state": "ENTITY_STATE_ACTIVE"}}
    assert judge(GET_MERCHANT, "token", answer(200, good), case) == []
    bad = {"merchant": {"mchNo": "M1", "state": 1}}
    found = judge(GET_MERCHANT, "token", answer(200, bad), case)
    assert any("documented schema" in problem for problem in found), found
