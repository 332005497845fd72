"""Alipay OpenAPI (支付宝开放平台), RSA2, as the ``alipay`` channel adapter.

See :mod:`.adapter` for the wayCodes, :mod:`.params` for the channel parameters, :mod:`.signing`
for the three signature texts, :mod:`.notifications` for asynchronous notifications and
:mod:`.bill` for the daily trade bill.
"""

from __future__ import annotations

from paymesh.services.channel.adapters.alipay.adapter import AlipayAdapter

__all__ = ["AlipayAdapter"]
