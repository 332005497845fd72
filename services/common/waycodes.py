"""JeePay's wayCodes (支付方式) and channel interface codes, with what each wayCode needs."""

from __future__ import annotations

# Payer-presented codes scanned by the shop (被扫): they need channelExtra.authCode.
BARCODE_WAY_CODES = frozenset({"AUTO_BAR", "ALI_BAR", "WX_BAR", "YSF_BAR", "UP_BAR"})
def classify_barcode(auth_code: str) -> str | None:
    """The wayCode of a payer's code scanned for AUTO_BAR (聚合条码), or None when unknown.

    WeChat: 18 digits starting 10-15; Alipay: 16-24 digits starting 25-30; UnionPay: 19 digits
    starting 62. The prefixes do not overlap, so at most one rule matches.
    """
    if not auth_code.isascii() or not auth_code.isdigit():
        return None
    prefix, length = int(auth_code[:2]), len(auth_code)
    if length == 18 and 10 <= prefix <= 15:
        return "WX_BAR"
    if 16 <= length <= 24 and 25 <= prefix <= 30:
        return "ALI_BAR"
    if length == 19 and prefix == 62:
        return "YSF_BAR"
    return None


# Shop-presented QR codes (主扫): the pay data is QR content.
QR_WAY_CODES = frozenset({"ALI_QR", "ALI_OC", "WX_NATIVE", "UP_QR", "QR_CASHIER"})

WAY_CODES = frozenset({
    "QR_CASHIER", "AUTO_BAR",
    "ALI_BAR", "ALI_JSAPI", "ALI_LITE", "ALI_APP", "ALI_WAP", "ALI_PC", "ALI_QR", "ALI_OC",
    "WX_BAR", "WX_JSAPI", "WX_LITE", "WX_APP", "WX_H5", "WX_NATIVE",
    "YSF_BAR", "YSF_JSAPI",
    "UP_APP", "UP_WAP", "UP_QR", "UP_BAR", "UP_B2B", "UP_PC", "UP_JSAPI",
    "PP_PC",
    "STRIPE_CARD",
})

# Card payments through Stripe for international merchants; the only wayCode not in JeePay.
STRIPE_WAY_CODES = frozenset({"STRIPE_CARD"})

# Channel interface codes (ifCode). sandbox is paymesh's built-in test channel.
IF_CODES = frozenset({"sandbox", "wxpay", "alipay", "ysfpay", "stripe"})
