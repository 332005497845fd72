"""The sandbox pay page: a small self-contained HTML page the payer sees through the edge.

Every value shown is escaped; the page loads nothing from elsewhere.
"""

from __future__ import annotations

import html

from paymesh.services.channel.models import SandboxPayment, SandboxState

_STYLE = """
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#1f2328;margin:0;display:flex;justify-content:center}
main{background:#fff;margin:48px 16px;padding:28px 32px;border-radius:12px;max-width:420px;
width:100%;box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:15px;font-weight:600;color:#8a6d00;background:#fff8c5;display:inline-block;
padding:2px 10px;border-radius:10px;margin:0 0 16px}
.amount{font-size:36px;font-weight:700;margin:4px 0 20px}
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;margin:0 0 24px;font-size:14px}
dt{color:#656d76}dd{margin:0;word-break:break-all}
form{display:flex;gap:12px}
button{flex:1;padding:12px;font-size:16px;border:0;border-radius:8px;cursor:pointer;color:#fff}
.pay{background:#1a7f37}.fail{background:#cf222e}
.note{font-size:14px;padding:10px 12px;border-radius:8px;background:#f6f8fa}
"""


def format_amount(fen: int, currency: str) -> str:
    """An amount of minor units for people, by integer arithmetic: 1234 cny → ``¥12.34``."""
    sign = "-" if fen < 0 else ""
    major, minor = divmod(abs(fen), 100)
    if currency.lower() == "cny":
        return f"{sign}¥{major}.{minor:02d}"
    return f"{sign}{major}.{minor:02d} {currency.upper()}"


def render_pay_page(payment: SandboxPayment, note: str = "") -> bytes:
    """The page for one payment, with pay / fail buttons while it waits for the payer."""
    e = html.escape
    rows = [("Order", payment.pay_order_id), ("Way code", payment.way_code),
            ("State", payment.state)]
    details = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in rows)
    action = e(f"/sandbox/pay/{payment.token}")
    buttons = ""
    if payment.state == SandboxState.WAITING:
        buttons = (f'<form method="post" action="{action}">'
                   '<button class="pay" name="result" value="success">Pay</button>'
                   '<button class="fail" name="result" value="fail">Fail</button></form>')
    notice = f'<p class="note">{e(note)}</p>' if note else ""
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Sandbox payment · {e(payment.subject)}</title><style>{_STYLE}</style></head>"
        f'<body><main><h1>paymesh sandbox · no real money</h1><div>{e(payment.subject)}</div>'
        f'<div class="amount">{e(format_amount(payment.amount, payment.currency))}</div>'
        f"<dl>{details}</dl>{notice}{buttons}</main></body></html>")
    return page.encode("utf-8")


def decision_note(payment: SandboxPayment, callback_delivered: bool) -> str:
    """What the payer is told after a click."""
    outcome = "paid" if payment.state == SandboxState.SUCCESS else "failed"
    if callback_delivered:
        return f"The payment {outcome}; the platform acknowledged the callback."
    return (f"The payment {outcome}; the platform did not acknowledge the callback yet. "
            "The sandbox keeps retrying for about a minute.")
