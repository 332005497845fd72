"""Cashier links are signed per order and expire; the wallet is read from the User-Agent."""

from __future__ import annotations

import pytest

from paymesh.services.gateway.cashier import wallet_of
from paymesh.services.gateway.cashier_links import CashierLinkError, CashierLinks
from paymesh.services.gateway.cashier_pages import yuan

NOW = 1_800_000_000.0


def links(key: bytes = b"k" * 32) -> CashierLinks:
    return CashierLinks(key, "http://edge:9216/", clock=lambda: NOW)


def test_a_link_names_its_order_until_it_expires() -> None:
    token = links().token("P123", int(NOW) + 60)
    assert links().check(token) == "P123"
    assert links().url("P123", int(NOW) + 60) == f"http://edge:9216/cashier/{token}"
    expired = links().token("P123", int(NOW))
    with pytest.raises(CashierLinkError, match="expired"):
        links().check(expired)


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace("P123", "P124"),                     # another order
    lambda t: t.replace(str(int(NOW) + 60), str(int(NOW) + 6000)),  # a longer life
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),     # a bad signature
    lambda t: t.split(".", 1)[0],                            # truncated
])
def test_a_changed_link_is_refused(mangle: object) -> None:
    token = links().token("P123", int(NOW) + 60)
    with pytest.raises(CashierLinkError, match="not valid"):
        links().check(mangle(token))  # type: ignore[operator]


def test_a_link_from_another_deployment_is_refused() -> None:
    token = links(b"a" * 32).token("P123", int(NOW) + 60)
    with pytest.raises(CashierLinkError):
        links(b"b" * 32).check(token)


@pytest.mark.parametrize(("agent", "expected"), [
    ("Mozilla/5.0 (iPhone) AppleWebKit MicroMessenger/8.0.49 NetType/WIFI", "WX_JSAPI"),
    ("Mozilla/5.0 (Linux; Android 13) AlipayClient/10.5.36.8100", "ALI_JSAPI"),
    ("Mozilla/5.0 (iPhone) UnionPay/1.0 CloudPay", "YSF_JSAPI"),
    ("Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0", None),
])
def test_wallet_from_user_agent(agent: str, expected: str | None) -> None:
    found = wallet_of(agent)
    assert (found[0] if found else None) == expected


def test_amounts_are_shown_from_integer_minor_units() -> None:
    assert yuan(1234, "cny") == "¥12.34"
    assert yuan(5, "cny") == "¥0.05"
    assert yuan(100, "usd") == "USD 1.00"
