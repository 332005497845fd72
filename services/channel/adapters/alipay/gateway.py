"""Talking to Alipay's one gateway URL: signed requests out, verified answers back.

A server call POSTs ``application/x-www-form-urlencoded;charset=utf-8`` with the common
parameters in the query string and ``biz_content`` in the body, as Alipay's official SDK does
(the signature covers both). An answer is trusted only once its ``<method>_response`` text, cut
out of the raw body exactly, verifies under Alipay's public key; anything less leaves the
outcome unknown. Page, wap and app payments make no server call: the signed parameters go to the
payer's browser or app instead (:meth:`AlipayGateway.signed`).
"""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

import httpx

from paymesh.services.channel.adapters.alipay import signing
from paymesh.services.channel.adapters.alipay.params import AlipayParams
from paymesh.services.channel.adapters.base import ChannelState

# Alipay's wall clock: timestamps and time_expire are Beijing time.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")
FORM_TYPE = "application/x-www-form-urlencoded;charset=utf-8"


class Unsettled(Exception):
    """A call whose outcome is not known (UNKNOWN) or which never reached Alipay (SYS_ERROR)."""

    def __init__(self, state: ChannelState, err_code: str, err_msg: str) -> None:
        super().__init__(err_msg)
        self.state = state
        self.err_code = err_code
        self.err_msg = err_msg


@dataclass(frozen=True)
class Answer:
    """A verified answer of the gateway: its gateway code and the method's fields."""

    code: str
    fields: dict[str, Any]

    @property
    def ok(self) -> bool:
        """Alipay's success code; a signed answer can still be a business refusal."""
        return self.code == "10000"

    @property
    def sub_code(self) -> str:
        """The business reason of a refusal, e.g. ``ACQ.TRADE_NOT_EXIST``."""
        return str(self.fields.get("sub_code") or "")

    @property
    def err_code(self) -> str:
        """The most precise code Alipay gave: sub_code, else the gateway code."""
        return self.sub_code or self.code

    @property
    def err_msg(self) -> str:
        """Alipay's readable reason."""
        return str(self.fields.get("sub_msg") or self.fields.get("msg") or "")

    def text(self, name: str) -> str:
        """A string field of the answer, "" when absent."""
        value = self.fields.get(name)
        return value if isinstance(value, str) else ""


class AlipayGateway:
    """Builds, signs and sends OpenAPI requests with one shared async HTTP client."""

    def __init__(self, http: httpx.AsyncClient, clock: Callable[[], float] = time.time) -> None:
        self._http = http
        self._clock = clock

    def signed(self, cfg: AlipayParams, method: str, biz: Mapping[str, Any], *,
               notify_url: str = "", return_url: str = "",
               text: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every parameter of a request to ``method``, ``sign`` included.

        ``text`` holds a method's own top-level parameters (``grant_type`` and ``code`` of
        ``alipay.system.oauth.token``); an empty ``biz`` sends no ``biz_content``.
        """
        params = {
            "app_id": cfg.app_id, "method": method, "format": "JSON", "charset": "utf-8",
            "sign_type": "RSA2", "timestamp": beijing_time(self._clock()), "version": "1.0",
            "notify_url": notify_url, "return_url": return_url,
            "app_auth_token": cfg.app_auth_token,
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":"))
            if biz else "",
            **(text or {}),
        }
        params = {k: v for k, v in params.items() if v != ""}
        params["sign"] = signing.sign(signing.request_content(params), cfg.private_key)
        return params

    async def call(self, cfg: AlipayParams, method: str, biz: Mapping[str, Any], *,
                   notify_url: str = "", text: Mapping[str, str] | None = None) -> Answer:
        """Sends one request and returns Alipay's verified answer.

        Raises :class:`Unsettled` when the outcome cannot be known: SYS_ERROR when the
        connection could not be made (nothing was sent), UNKNOWN on a timeout or broken
        connection, a non-200 status, gateway code 20000, or an answer that is malformed,
        unsigned or fails verification.
        """
        params = self.signed(cfg, method, biz, notify_url=notify_url, text=text)
        # As the official SDK: the method's own parameters in the body, common ones in the URL.
        body = {name: params.pop(name) for name in ("biz_content", *(text or {}))
                if name in params}
        separator = "&" if "?" in cfg.api_base else "?"
        url = cfg.api_base + separator + urlencode(params)
        try:
            response = await self._http.post(
                url, content=urlencode(body).encode("utf-8"),
                headers={"content-type": FORM_TYPE, "accept": "application/json"})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            raise Unsettled(ChannelState.SYS_ERROR, "CHANNEL_UNREACHABLE",
                            f"could not connect to the Alipay gateway: {type(error).__name__}"
                            ) from None
        except httpx.TimeoutException:
            raise Unsettled(ChannelState.UNKNOWN, "CHANNEL_TIMEOUT",
                            f"{method}: no answer in time; the outcome is unknown") from None
        except httpx.TransportError as error:
            raise Unsettled(ChannelState.UNKNOWN, "CHANNEL_CONNECTION_BROKEN",
                            f"{method}: the connection broke ({type(error).__name__}); "
                            "the outcome is unknown") from None
        return self._verified(cfg, method, response)

    def _verified(self, cfg: AlipayParams, method: str, response: httpx.Response) -> Answer:
        if response.status_code != 200:
            raise Unsettled(ChannelState.UNKNOWN, f"CHANNEL_HTTP_{response.status_code}",
                            f"{method}: the gateway answered HTTP {response.status_code}")
        try:
            raw = response.content.decode("utf-8")
        except UnicodeDecodeError:
            raw = ""
        cut = (signing.response_object(raw, method.replace(".", "_") + "_response")
               or signing.response_object(raw, "error_response"))
        if cut is None:
            raise Unsettled(ChannelState.UNKNOWN, "CHANNEL_ANSWER_MALFORMED",
                            f"{method}: the answer holds no response object")
        inner, signature = cut
        fields: dict[str, Any] = json.loads(inner)
        code = str(fields.get("code") or "")
        if not signature:
            raise Unsettled(ChannelState.UNKNOWN, "CHANNEL_ANSWER_UNSIGNED",
                            f"{method}: unsigned answer (code {code} "
                            f"{fields.get('sub_code', '')}), not trusted")
        if not signing.verify(inner.encode("utf-8"), signature, cfg.alipay_public_key):
            raise Unsettled(ChannelState.UNKNOWN, "CHANNEL_SIGN_INVALID",
                            f"{method}: the answer's signature does not verify under "
                            "alipayPublicKey; it is not trusted")
        answer = Answer(code, fields)
        if code == "20000":
            raise Unsettled(ChannelState.UNKNOWN, answer.err_code,
                            f"{method}: Alipay system error, outcome unknown: {answer.err_msg}")
        return answer


def page_url(cfg: AlipayParams, params: Mapping[str, str]) -> str:
    """The gateway URL a browser opens for page/wap pay: every signed parameter in the query."""
    separator = "&" if "?" in cfg.api_base else "?"
    return cfg.api_base + separator + urlencode(params)


def page_form(cfg: AlipayParams, params: Mapping[str, str]) -> str:
    """An auto-submitting HTML form posting page/wap pay to the gateway (payDataType form)."""
    query = {k: v for k, v in params.items() if k != "biz_content"}
    action = html.escape(page_url(cfg, query), quote=True)
    biz = html.escape(params["biz_content"], quote=True)
    return (f'<form name="punchout_form" method="post" action="{action}">\n'
            f'<input type="hidden" name="biz_content" value="{biz}">\n'
            '<input type="submit" value="Pay" style="display:none">\n</form>\n'
            "<script>document.forms[0].submit();</script>")


def order_string(params: Mapping[str, str]) -> str:
    """The signed order string the Alipay app SDK takes (app pay): URL-encoded ``k=v&…``."""
    return urlencode(sorted(params.items()))


def beijing_time(epoch_seconds: float) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time, Alipay's format for timestamps."""
    return datetime.fromtimestamp(epoch_seconds, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
