"""One signed APIv3 call and an honest reading of its answer.

The answer is sorted into four kinds, because each means something different for the money:

- ``OK``: a 2xx whose signature verifies against a configured WeChat key;
- ``REFUSED``: a 4xx carrying a business error code (``PARAM_ERROR``, ``ORDER_NOT_EXIST``, ...);
- ``UNKNOWN``: the request may have been acted upon but we cannot tell: a timeout or broken
  connection after sending, a 5xx, a system-error code, or any answer whose signature is missing
  or does not verify (a forged "success" must never be believed);
- ``UNREACHABLE``: nothing was sent (connection refused, DNS or TLS failure, pool exhausted).

4xx bodies are read even when unsigned: WeChat does not sign the SIGN_ERROR it gives to requests it
could not authenticate. A 4xx that *is* signed must verify, or it is UNKNOWN. Answers are not
checked for freshness (WeChat's SDKs do not either); callbacks are (see ``notify``).
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from paymesh.services.channel.adapters.wxpay import signing
from paymesh.services.channel.adapters.wxpay.config import WxpayConfig

USER_AGENT = "paymesh-wxpay/1 (+https://github.com/paymesh)"
# Error codes that say "WeChat had a problem", not "WeChat refused": the outcome is open.
SYSTEM_ERROR_CODES = frozenset({"SYSTEM_ERROR", "SYSTEMERROR", "BANK_ERROR", "BANKERROR",
                                "FREQUENCY_LIMITED", "FREQUENCY_LIMIT_EXCEED"})
_SIGNATURE_HEADERS = ("wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature",
                      "wechatpay-serial")


class AnswerKind(enum.Enum):
    """How far a call's answer can be trusted (see the module docstring)."""

    OK = "OK"
    REFUSED = "REFUSED"
    UNKNOWN = "UNKNOWN"
    UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True)
class Answer:
    """A classified answer: the verified JSON for OK, the error code for the others."""

    kind: AnswerKind
    status: int = 0
    data: Mapping[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""


class SignedTransport:
    """Sends APIv3 requests signed with the merchant key and verifies every answer."""

    def __init__(self, http: httpx.AsyncClient, clock: Callable[[], float] = time.time,
                 nonce: Callable[[], str] = signing.new_nonce) -> None:
        self._http = http
        self._clock = clock
        self._nonce = nonce

    async def call(self, config: WxpayConfig, method: str, path: str,
                   payload: Mapping[str, Any] | None = None) -> Answer:
        """Sends ``payload`` (JSON) to ``path`` (with any query) and classifies the answer."""
        url = httpx.URL(config.api_base + path)
        body = b"" if payload is None else json.dumps(
            payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": signing.authorization(
                private_key=config.private_key, mch_id=config.mch_id,
                serial_no=config.serial_no, method=method,
                canonical_url=url.raw_path.decode("ascii"), body=body,
                timestamp=int(self._clock()), nonce=self._nonce()),
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if config.public_key_id:
            # Public-key mode: asks WeChat to sign the answer with the WeChat Pay public key.
            headers["Wechatpay-Serial"] = config.public_key_id
        try:
            response = await self._http.request(method, url, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
                httpx.UnsupportedProtocol) as error:
            return Answer(AnswerKind.UNREACHABLE, message=f"WeChat Pay unreachable: {error!r}")
        except httpx.HTTPError as error:
            return Answer(AnswerKind.UNKNOWN,
                          message=f"no complete answer from WeChat Pay: {error!r}")
        return classify(config, response.status_code, response.headers, response.content)


def classify(config: WxpayConfig, status: int, headers: httpx.Headers, body: bytes) -> Answer:
    """Sorts one HTTP answer into its kind; see the module docstring for the rules."""
    signed = any(name in headers for name in _SIGNATURE_HEADERS)
    if 200 <= status < 300 or signed:
        problem = _signature_problem(config, headers, body)
        if problem:
            return Answer(AnswerKind.UNKNOWN, status, message=f"answer rejected: {problem}")
    data = _json_object(body)
    if 200 <= status < 300:
        if data is None:
            return Answer(AnswerKind.UNKNOWN, status, message="2xx answer is not a JSON object")
        return Answer(AnswerKind.OK, status, data)
    code = str((data or {}).get("code") or "")
    message = str((data or {}).get("message") or "")
    if status >= 500 or not code or code in SYSTEM_ERROR_CODES or status == 429:
        return Answer(AnswerKind.UNKNOWN, status, code=code or f"HTTP_{status}",
                      message=message or f"WeChat Pay answered HTTP {status}")
    return Answer(AnswerKind.REFUSED, status, data or {}, code=code, message=message)


def _signature_problem(config: WxpayConfig, headers: httpx.Headers, body: bytes) -> str:
    values = {}
    for name in _SIGNATURE_HEADERS:
        found = headers.get_list(name)
        if len(found) != 1:
            return f"{name} is {'missing' if not found else 'repeated'}"
        values[name] = found[0]
    signature_type = headers.get_list("wechatpay-signature-type")
    if signature_type and signature_type != [signing.SIGNATURE_TYPE]:
        return f"unsupported Wechatpay-Signature-Type {signature_type!r}"
    key = config.verifying_key(values["wechatpay-serial"])
    if key is None:
        return f"unknown Wechatpay-Serial {values['wechatpay-serial']!r}"
    if not signing.verify_wechat_signature(key.public_key, values["wechatpay-timestamp"],
                                           values["wechatpay-nonce"], body,
                                           values["wechatpay-signature"]):
        return "the signature does not verify"
    return ""


def _json_object(body: bytes) -> dict[str, Any] | None:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
