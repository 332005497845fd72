"""Alipay's web authorisation (网页授权) for ``auth_base``, and ``alipay.system.oauth.token``.

``GET /oauth2/publicAppAuthorize.htm?app_id=&scope=auth_base&redirect_uri=&state=`` stands for
the page the Alipay app opens: the payer (``payer_user_id``, settable by ``/__sim/oauth``) is
already logged in and ``auth_base`` asks nothing, so it answers 302 to ``redirect_uri`` with
``auth_code``, ``app_id``, ``source=alipay_wallet``, ``scope`` and ``state``, as Alipay does
(the parameter is ``auth_code``, never ``code``). The simulator does not check ``redirect_uri``
against a registered callback domain.

The token method takes ``grant_type=authorization_code`` and ``code`` as top-level request
parameters (not in ``biz_content``). A code is good once, for :data:`CODE_LIFETIME` seconds of the
simulator's clock, and only for the app it was issued to; otherwise the answer is the
``error_response`` 40002 ``isv.code-invalid``. A success carries no ``code`` field, as on the
real gateway, and per ``id_type`` a ``user_id``, an ``open_id`` (per app) or both.
"""

from __future__ import annotations

import hashlib
import html
import secrets
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from paymesh.services.simulators.alipay.book import Refusal, beijing
from paymesh.services.simulators.alipay.methods import DEFAULT_BUYER, Caller

TOKEN_METHOD = "alipay.system.oauth.token"
AUTHORIZE_PATH = "/oauth2/publicAppAuthorize.htm"
CODE_LIFETIME = 300.0
TOKEN_LIFETIME = 1_296_000
ID_TYPES = ("both", "user_id", "open_id")
_SCOPES = ("auth_base", "auth_user")


@dataclass(frozen=True)
class IssuedCode:
    """An ``auth_code`` handed to the payer's browser, not yet exchanged."""

    app_id: str
    user_id: str
    scope: str
    issued_at: float


@dataclass(frozen=True)
class Redirect:
    """The authorisation page's answer: a 302 ``location``, or an error page (``status``)."""

    status: int
    location: str = ""
    error: str = ""

    def page(self) -> bytes:
        """The error page Alipay shows instead of redirecting."""
        return (f"<!doctype html><html><head><meta charset='utf-8'><title>支付宝 (simulator)"
                f"</title></head><body><p id=\"error\">{html.escape(self.error)}</p></body>"
                "</html>").encode()


class OAuth:
    """Issues and redeems authorisation codes; its own lock, so the HTTP thread may call it."""

    def __init__(self, apps: Collection[str], clock: Callable[[], float]) -> None:
        self.apps = apps
        self.clock = clock
        self.payer_user_id = DEFAULT_BUYER
        self.id_type = "both"
        self._codes: dict[str, IssuedCode] = {}
        self._lock = threading.Lock()

    def authorize(self, query: dict[str, str]) -> Redirect:
        """The payer opens the authorisation link: back to ``redirect_uri`` with a new code."""
        app_id = query.get("app_id", "")
        if app_id not in self.apps:
            return Redirect(400, error=f"invalid-app-id: 无效的app_id {app_id!r}")
        scope = query.get("scope", "")
        if scope not in _SCOPES:
            return Redirect(400, error=f"invalid-scope: 无效的scope {scope!r}")
        redirect_uri = query.get("redirect_uri", "")
        if not redirect_uri.startswith(("https://", "http://")):
            return Redirect(400, error="invalid-redirect-uri: redirect_uri 必须是 http(s) 地址")
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = IssuedCode(app_id, self.payer_user_id, scope, self.clock())
        back = urlencode({"auth_code": code, "app_id": app_id, "source": "alipay_wallet",
                          "scope": scope, "state": query.get("state", "")})
        return Redirect(302, redirect_uri + ("&" if "?" in redirect_uri else "?") + back)

    def token(self, caller: Caller, params: dict[str, str]) -> dict[str, Any]:
        """The fields of ``alipay_system_oauth_token_response``, or a :class:`Refusal`."""
        if params.get("grant_type") != "authorization_code":
            raise Refusal("isv.grant-type-invalid",
                          "grant_type 无效 (the simulator takes authorization_code only)",
                          code="40002")
        code = params.get("code", "")
        if not code:
            raise Refusal("isv.missing-parameter", "缺少必选参数 code", code="40001")
        now = self.clock()
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.app_id != caller.app_id:
                raise Refusal("isv.code-invalid", "授权码code无效", code="40002")
            del self._codes[code]
        if now - issued.issued_at > CODE_LIFETIME:
            raise Refusal("isv.code-invalid", "授权码code无效 (已过期)", code="40002")
        fields: dict[str, Any] = {
            "access_token": "authbseB" + secrets.token_hex(16),
            "auth_start": beijing(now), "expires_in": TOKEN_LIFETIME,
            "re_expires_in": TOKEN_LIFETIME, "refresh_token": "authbseB" + secrets.token_hex(16)}
        if self.id_type in ("both", "user_id"):
            fields["user_id"] = issued.user_id
        if self.id_type in ("both", "open_id"):
            fields["open_id"] = open_id(caller.app_id, issued.user_id)
        return fields

    def configure(self, user_id: str | None, id_type: str | None) -> dict[str, str]:
        """Who logs in next, and which ids token answers carry (``/__sim/oauth``)."""
        if id_type is not None:
            if id_type not in ID_TYPES:
                raise ValueError(f"id_type must be one of {', '.join(ID_TYPES)}")
            self.id_type = id_type
        if user_id is not None:
            self.payer_user_id = user_id
        return {"user_id": self.payer_user_id, "id_type": self.id_type}


def open_id(app_id: str, user_id: str) -> str:
    """A stable per-app OpenID shaped like Alipay's (never starts with ``2088``)."""
    return "0" + hashlib.sha256(f"{app_id}:{user_id}".encode()).hexdigest()[:46]
