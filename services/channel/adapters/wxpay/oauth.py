"""Who is paying inside WeChat: official-account web OAuth (网页授权, silent ``snsapi_base``).

The cashier sends the payer's browser to the authorize URL; WeChat returns it to ``redirect_url``
with ``code`` and ``state``; the code is exchanged, server to server, for the payer's openid under
the official account, which a WX_JSAPI order then carries.

Channel parameters used (the rest of the channel's are ignored here):

- ``appId``: the official account; ``appSecret``: its AppSecret (JeePay's field name). In ISV
  mode these are the service provider's own (``sp_appid``), not ``sub.subMchAppId``: the cashier
  continues the order with ``channelExtra.openid`` alone, which the partner API sends as
  ``payer.sp_openid`` paired with ``sp_appid``, and an openid of another appid is refused there.
  OAuth under the sub-merchant's account would need its AppSecret and paymesh's domain in its
  网页授权域名, or WeChat Open Platform component authorisation; neither is supported.
- ``oauthBase`` (default ``https://open.weixin.qq.com``) and ``oauthApiBase`` (default
  ``https://api.weixin.qq.com``): where the authorize page and the code exchange live, so a
  simulator can stand in.

A code is single-use and lives 5 minutes. WeChat's refusals of a code (40029 invalid, 40163
used, 42003 expired, ...) are INVALID_ARGUMENT on ``code``; refusals of the account (40013
invalid appid, 40125 invalid appsecret, 40164 caller IP not whitelisted, ...) are
CHANNEL_CONFIG_INVALID; no answer, a system error or a malformed answer is CHANNEL_UNAVAILABLE.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from paymesh.services.common.errors import DomainError, InvalidArgument

DEFAULT_OAUTH_BASE = "https://open.weixin.qq.com"
DEFAULT_OAUTH_API_BASE = "https://api.weixin.qq.com"
SCOPE = "snsapi_base"
# WeChat's rule for state: a-z A-Z 0-9, at most 128 bytes.
_STATE = re.compile(r"[A-Za-z0-9]{0,128}")
_CODE = re.compile(r"[\x21-\x7e]{1,512}")
# Refusals that say the channel configuration is wrong, not the payer's code.
_CONFIG_ERRCODES = {
    40013: "appId is not a valid official account appid",
    40125: "appSecret is not the AppSecret of appId",
    40001: "appSecret is not the AppSecret of appId",
    40164: "this server's IP is not in the official account's IP whitelist",
    41002: "appId is missing",
    41004: "appSecret is missing",
    48001: "the official account has no web OAuth permission (a verified service account "
           "is needed)",
}
# Refusals that say WeChat had a problem: try again later.
_BUSY_ERRCODES = frozenset({-1, 45009, 45011})
_CODE_ERRCODES = {
    40029: "the code is not valid for this official account (mistyped, or issued to another "
           "appid)",
    40163: "the code has already been used (a code works once)",
    42003: "the code has expired (a code lives 5 minutes)",
    41008: "the code is missing",
}


@dataclass(frozen=True)
class OAuthApp:
    """The official account that identifies payers, and where its OAuth lives."""

    app_id: str
    app_secret: str
    oauth_base: str
    oauth_api_base: str


def load_app(params: Mapping[str, Any]) -> OAuthApp:
    """The OAuth settings of a wxpay channel; CHANNEL_CONFIG_INVALID names a bad field."""
    return OAuthApp(app_id=_text(params, "appId"), app_secret=_text(params, "appSecret"),
                    oauth_base=_base(params, "oauthBase", DEFAULT_OAUTH_BASE),
                    oauth_api_base=_base(params, "oauthApiBase", DEFAULT_OAUTH_API_BASE))


def authorize_url(app: OAuthApp, redirect_url: str, state: str) -> str:
    """The silent authorize URL, its parameters in the order WeChat documents."""
    target = urlsplit(redirect_url)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise InvalidArgument("redirect_url", "redirect_url must be an absolute http(s) URL")
    if not _STATE.fullmatch(state):
        raise InvalidArgument("state", "WeChat takes a state of at most 128 letters and digits")
    return (f"{app.oauth_base}/connect/oauth2/authorize?appid={quote(app.app_id, safe='')}"
            f"&redirect_uri={quote(redirect_url, safe='')}&response_type=code&scope={SCOPE}"
            f"&state={state}#wechat_redirect")


class WebOAuth:
    """Exchanges OAuth codes for openids over the channel service's HTTP client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def openid(self, app: OAuthApp, code: str) -> str:
        """The payer's openid under ``app`` for a code WeChat returned to the cashier."""
        code = code.strip()
        if not _CODE.fullmatch(code):
            raise InvalidArgument("code", "the OAuth code is missing or malformed")
        try:
            response = await self._http.get(
                f"{app.oauth_api_base}/sns/oauth2/access_token",
                params={"appid": app.app_id, "secret": app.app_secret, "code": code,
                        "grant_type": "authorization_code"},
                headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            # The error's text is left out: it may carry the URL, secret included.
            raise _unavailable(f"WeChat OAuth could not be reached ({type(error).__name__}); "
                               "try again") from None
        data = _json_object(response.content)
        if data is None or response.status_code >= 500:
            raise _unavailable(f"WeChat OAuth answered HTTP {response.status_code} without a "
                               "usable body; try again")
        errcode = data.get("errcode")
        if errcode not in (None, 0):
            raise _refusal(errcode, str(data.get("errmsg") or ""))
        openid = data.get("openid")
        if not isinstance(openid, str) or not openid:
            raise _unavailable("WeChat OAuth answered without an openid")
        return openid


def _refusal(errcode: Any, errmsg: str) -> DomainError:
    said = f"WeChat: {errcode} {errmsg}".strip()
    if isinstance(errcode, int) and errcode in _CONFIG_ERRCODES:
        return DomainError("CHANNEL_CONFIG_INVALID",
                           f"wxpay OAuth: {_CONFIG_ERRCODES[errcode]} ({said})")
    if isinstance(errcode, int) and errcode in _BUSY_ERRCODES:
        return _unavailable(f"WeChat OAuth is busy; try again ({said})")
    reason = _CODE_ERRCODES.get(errcode if isinstance(errcode, int) else 0,
                                "WeChat refused the code")
    return InvalidArgument("code", f"{reason} ({said}); open the payment link again")


def _unavailable(message: str) -> DomainError:
    return DomainError("CHANNEL_UNAVAILABLE", message)


def _text(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise DomainError("CHANNEL_CONFIG_INVALID",
                          f"wxpay channel parameters need a non-empty string {name!r} for "
                          "WeChat OAuth (identifying the payer in the cashier)")
    return value.strip()


def _base(params: Mapping[str, Any], name: str, default: str) -> str:
    base = str(params.get(name) or default).rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise DomainError("CHANNEL_CONFIG_INVALID", f"{name} must be an http(s) URL")
    return base


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
