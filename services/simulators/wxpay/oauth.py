"""Official-account web OAuth (网页授权) as the WeChat app and ``api.weixin.qq.com`` do it.

``GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code&scope=&state=`` stands
in for the WeChat app after the payer consents: it checks the request and answers 302 to
``redirect_uri`` with ``code`` and ``state`` added. The test-only query parameter ``sim_openid``
chooses whom the code identifies; without it the payer is one fixed user, whose openid differs per
appid as WeChat's do. Refusals are HTTP 400 ``{"errcode","errmsg"}`` (WeChat shows them as a page).

``GET /sns/oauth2/access_token?appid=&secret=&code=&grant_type=authorization_code`` exchanges a
code: HTTP 200 ``{"access_token","expires_in":7200,"refresh_token","openid","scope"}``, or HTTP
200 with WeChat's ``{"errcode","errmsg"}``: 40013 invalid appid, 40125 invalid appsecret, 40029
invalid code (unknown, or issued to another appid), 40163 code been used, 42003 code expired
(after 5 minutes of the simulator's clock), 40002 invalid grant_type, 41002/41004/41008 missing
appid/secret/code. A code works once, even when the exchange was refused for another reason.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

CODE_TTL_SECONDS = 300
SCOPES = frozenset({"snsapi_base", "snsapi_userinfo"})
_OPENID = re.compile(r"[A-Za-z0-9_\-]{1,128}")
_FIXED_USER = "payer"


class OAuthRefusal(Exception):
    """An error answer: HTTP status and WeChat's ``{"errcode","errmsg"}``."""

    def __init__(self, status: int, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.status, self.errcode, self.errmsg = status, errcode, errmsg

    def body(self) -> dict[str, Any]:
        """WeChat's error JSON, with a request id in the message as WeChat writes it."""
        return {"errcode": self.errcode, "errmsg": f"{self.errmsg}, rid: {secrets.token_hex(12)}"}


@dataclass
class _Code:
    app_id: str
    openid: str
    scope: str
    issued_at: float
    used: bool = False


class OAuthServer:
    """The simulator's official accounts (appid → secret), issued codes and openids."""

    def __init__(self, apps: Mapping[str, str], clock: Callable[[], float]) -> None:
        self._apps = dict(apps)
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._openid_apps: dict[str, str] = {}

    def authorize(self, query: str) -> str:
        """The ``Location`` the WeChat app sends the browser to; OAuthRefusal otherwise."""
        args = _args(query)
        app_id, redirect_uri, scope = (args.get(k, "") for k in ("appid", "redirect_uri",
                                                                   "scope"))
        if not app_id:
            raise OAuthRefusal(400, 10012, "appid不能为空")
        if app_id not in self._apps:
            raise OAuthRefusal(400, 40013, "invalid appid")
        if not redirect_uri:
            raise OAuthRefusal(400, 10011, "redirect_uri不能为空")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            raise OAuthRefusal(400, 10003, "redirect_uri参数错误")
        if args.get("response_type") != "code":
            raise OAuthRefusal(400, 10008, "response_type必须为code")
        if not scope:
            raise OAuthRefusal(400, 10010, "scope不能为空")
        if scope not in SCOPES:
            raise OAuthRefusal(400, 10005, "此公众号并没有这些scope的权限")
        openid = args.get("sim_openid") or _openid_of(app_id, _FIXED_USER)
        if not _OPENID.fullmatch(openid):
            raise OAuthRefusal(400, 10008, "sim_openid must be 1 to 128 of A-Z a-z 0-9 _ -")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(app_id, openid, scope, self._clock())
            self._openid_apps[openid] = app_id
        added = urlencode({"code": code, "state": args.get("state", "")})
        query_part = f"{target.query}&{added}" if target.query else added
        return urlunsplit((target.scheme, target.netloc, target.path, query_part, ""))

    def access_token(self, query: str) -> dict[str, Any]:
        """The exchange of a code for the payer's openid; OAuthRefusal otherwise."""
        args = _args(query)
        app_id, secret, code = (args.get(k, "") for k in ("appid", "secret", "code"))
        if not app_id:
            raise OAuthRefusal(200, 41002, "appid missing")
        if app_id not in self._apps:
            raise OAuthRefusal(200, 40013, "invalid appid")
        if not secret:
            raise OAuthRefusal(200, 41004, "appsecret missing")
        if not secrets.compare_digest(secret.encode(), self._apps[app_id].encode()):
            raise OAuthRefusal(200, 40125, "invalid appsecret")
        if not code:
            raise OAuthRefusal(200, 41008, "missing code")
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.app_id != app_id:
                raise OAuthRefusal(200, 40029, "invalid code")
            if issued.used:
                raise OAuthRefusal(200, 40163, "code been used")
            issued.used = True
        if args.get("grant_type") != "authorization_code":
            raise OAuthRefusal(200, 40002, "invalid grant_type")
        if self._clock() - issued.issued_at > CODE_TTL_SECONDS:
            raise OAuthRefusal(200, 42003, "code expired")
        return {"access_token": secrets.token_urlsafe(48), "expires_in": 7200,
                "refresh_token": secrets.token_urlsafe(48), "openid": issued.openid,
                "scope": issued.scope}

    def app_of(self, openid: str) -> str | None:
        """The appid an OAuth code named ``openid`` under, or None for an openid never issued."""
        with self._lock:
            return self._openid_apps.get(openid)


def _openid_of(app_id: str, user: str) -> str:
    """A WeChat-like openid (28 characters starting with ``o``), one per user and appid."""
    digest = hashlib.sha256(f"{app_id}:{user}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode("ascii")[:27]


def _args(query: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
