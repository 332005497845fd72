"""Who the payer is inside the Alipay app: web authorisation (网页授权) with ``auth_base``.

The cashier sends the payer's browser to :func:`authorisation_url`; Alipay asks nothing of the
payer for ``auth_base`` and returns to ``redirect_uri`` with ``auth_code`` (Alipay's name, not
``code``), ``app_id``, ``scope``, ``source`` and ``state``. :func:`payer_id` then exchanges the
code through ``alipay.system.oauth.token`` (``grant_type=authorization_code``), signed and
verified like every other call, for the payer's id:

- ``user_id`` (``2088`` + 12 digits) for apps on user ids, or
- ``open_id`` for apps Alipay has moved to OpenID (only that field then comes back).

Whichever the verified answer carries is returned, ``user_id`` first; ALI_JSAPI pay already
sends a ``2088…`` id as ``buyer_id`` and anything else as ``buyer_open_id``. A code is single-use
and short-lived: a reused, expired or foreign one is Alipay's ``isv.code-invalid``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from paymesh.services.channel.adapters.alipay.gateway import AlipayGateway, Unsettled
from paymesh.services.channel.adapters.alipay.params import AlipayParams
from paymesh.services.common.errors import DomainError, InvalidArgument

TOKEN_METHOD = "alipay.system.oauth.token"
AUTHORIZE_PATH = "/oauth2/publicAppAuthorize.htm"
# Refusals about the channel's configuration rather than the payer's code.
_CONFIG_REFUSALS = frozenset({
    "isv.invalid-app-id", "isv.invalid-signature", "isv.invalid-signature-type",
    "isv.missing-app-id", "isv.missing-signature", "isv.invalid-method",
    "isv.insufficient-isv-permissions", "aop.invalid-auth-token", "isv.app-unbind-partner",
})


def authorisation_url(cfg: AlipayParams, redirect_url: str, state: str) -> str:
    """The ``auth_base`` authorisation link for the payer's browser (inside the Alipay app)."""
    if not redirect_url.startswith(("https://", "http://")):
        raise InvalidArgument("redirect_url", "the redirect URL must be an http(s) URL")
    query = urlencode({"app_id": cfg.app_id, "scope": "auth_base",
                       "redirect_uri": redirect_url, "state": state}, quote_via=quote)
    return f"{cfg.oauth_base}{AUTHORIZE_PATH}?{query}"


async def payer_id(gateway: AlipayGateway, cfg: AlipayParams, code: str) -> str:
    """The payer's ``user_id`` or ``open_id`` for an ``auth_code``.

    INVALID_ARGUMENT (field ``code``) when Alipay refuses the code; CHANNEL_CONFIG_INVALID when
    it refuses the app itself; CHANNEL_UNAVAILABLE when no trustworthy answer came.
    """
    code = code.strip()
    if not code:
        raise InvalidArgument("code", "the Alipay auth_code is empty")
    try:
        answer = await gateway.call(cfg, TOKEN_METHOD, {},
                                    text={"grant_type": "authorization_code", "code": code})
    except Unsettled as unsettled:
        raise DomainError("CHANNEL_UNAVAILABLE",
                          f"Alipay could not identify the payer now ({unsettled.err_code}: "
                          f"{unsettled.err_msg}); try again") from None
    # A success carries no code at all; a refusal always carries code and sub_code.
    if answer.code not in ("", "10000") or answer.sub_code:
        reason = f"{answer.err_msg} ({answer.err_code})"
        if answer.sub_code in _CONFIG_REFUSALS or answer.code == "20001":
            raise DomainError("CHANNEL_CONFIG_INVALID",
                              f"Alipay refused this app's token request: {reason}")
        if answer.sub_code.startswith("isp."):
            raise DomainError("CHANNEL_UNAVAILABLE",
                              f"Alipay could not identify the payer now: {reason}; try again")
        raise InvalidArgument("code", f"Alipay refused the auth_code: {reason}; a code works "
                                      "once and for a few minutes, so authorise again")
    payer = answer.text("user_id") or answer.text("open_id")
    if not payer:
        raise DomainError("CHANNEL_UNAVAILABLE",
                          "Alipay's token answer named neither user_id nor open_id")
    return payer
