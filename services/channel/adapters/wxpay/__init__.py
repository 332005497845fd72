"""WeChat Pay APIv3 (ifCode ``wxpay``): direct merchants and service providers (ISV).

WayCodes and what the payer gets back:

- WX_NATIVE → ``native``; payDataType ``codeUrl`` (``weixin://wxpay/bizpayurl?...``).
- WX_JSAPI, WX_LITE → ``jsapi``; channelExtra ``openid`` (and ``isSubOpenId`` 0/1 for an ISV);
  payDataType ``wxapp``: JSON ``appId, timeStamp, nonceStr, package, signType, paySign``.
- WX_H5 → ``h5`` (needs the order's client IP); payDataType ``payurl``: the ``h5_url``.
- WX_APP → ``app``; payDataType ``wxapp``: JSON ``appid, partnerid, prepayid, package,
  noncestr, timestamp, sign``.
- WX_BAR → ``codepay``; channelExtra ``authCode`` (optional ``storeId``); payDataType ``none``;
  ``USERPAYING`` → WAITING: the gateway polls, then calls ``cancel`` (reverse).

Payer identification (cashier): official-account web OAuth, ``snsapi_base``; parameters
``appSecret``, ``oauthBase`` and ``oauthApiBase``, see :mod:`.oauth`.

Bills: the day's ``ALL`` trade bill, SHA-1 checked and read lazily (:mod:`.bill_download`,
:mod:`.bill`).

Channel parameters: see :mod:`.config`. Every answer is verified (§1.3); an answer that does not
verify is UNKNOWN, never success or failure. Callbacks: :mod:`.notify`; acknowledged with HTTP 204
(empty), or HTTP 500 ``{"code":"FAIL","message":"失败"}`` to have WeChat retry.
"""

from __future__ import annotations

from paymesh.services.channel.adapters.wxpay.adapter import WxpayAdapter

__all__ = ["WxpayAdapter"]
