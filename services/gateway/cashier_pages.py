"""The cashier's HTML: small, self-contained pages, every value escaped."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape

from paymesh.services.gateway.models import PayOrder

HTML = "text/html; charset=utf-8"
_STYLE = """body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#1f2328;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:2rem 1rem;padding:1.5rem 2rem;border-radius:12px;max-width:26rem;
width:100%;box-shadow:0 1px 3px rgba(0,0,0,.08)}h1{font-size:1.1rem;margin:0 0 .5rem}
.amount{font-size:2rem;font-weight:600;margin:.5rem 0 1rem}p{line-height:1.5}
.muted{color:#656d76;font-size:.9rem}"""


@dataclass(frozen=True)
class Page:
    """An HTTP answer of the cashier: a page, or a redirect when ``location`` is set."""

    status: int
    body: bytes
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)


def yuan(amount: int, currency: str) -> str:
    """Integer minor units as a display amount: 1234 cny → ¥12.34."""
    sign = "¥" if currency == "cny" else f"{currency.upper()} "
    return f"{sign}{amount // 100}.{amount % 100:02d}"


def _page(status: int, title: str, inner: str) -> Page:
    body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{inner}</main></body></html>")
    return Page(status, body.encode("utf-8"))


def message(status: int, title: str, text: str, order: PayOrder | None = None) -> Page:
    """A page that explains something to the payer (no action possible here)."""
    amount = (f"<div class=\"amount\">{escape(yuan(order.amount, order.currency))}</div>"
              f"<p class=\"muted\">{escape(order.subject)}</p>") if order else ""
    return _page(status, title, f"<h1>{escape(title)}</h1>{amount}<p>{escape(text)}</p>")


def redirect(location: str) -> Page:
    return Page(302, b"", "text/plain", {"location": location})


def wallet_pay(order: PayOrder, pay_data_type: str, pay_data: str) -> Page:
    """The page that hands the payment to the payer's wallet (WeChat, Alipay) in its own app."""
    if pay_data_type == "payurl":
        return redirect(pay_data)
    # A JSON string literal, kept from closing the <script> element early.
    data = json.dumps(pay_data).replace("</", "<\\/")
    if pay_data_type == "wxapp":
        call = ("function go(){WeixinJSBridge.invoke('getBrandWCPayRequest',JSON.parse(DATA),"
                "function(r){document.getElementById('s').textContent=r.err_msg;});}"
                "if(typeof WeixinJSBridge==='undefined'){document.addEventListener("
                "'WeixinJSBridgeReady',go,false);}else{go();}")
    elif pay_data_type == "aliapp":
        call = ("function go(){AlipayJSBridge.call('tradePay',{tradeNO:DATA},function(r){"
                "document.getElementById('s').textContent=r.resultCode;});}"
                "if(window.AlipayJSBridge){go();}else{document.addEventListener("
                "'AlipayJSBridgeReady',go,false);}")
    else:
        call = "document.getElementById('s').textContent=DATA;"
    script = f"<script>var DATA={data};{call}</script>"
    return _page(200, "Pay", f"<h1>{escape(order.subject)}</h1><div class=\"amount\">"
                             f"{escape(yuan(order.amount, order.currency))}</div>"
                             f"<p id=\"s\" class=\"muted\">Opening your wallet…</p>{script}")
