"""A local WeChat Pay APIv3 simulator that fails exactly where WeChat would (reference §6).

It generates its own keys per run, authenticates every request from its raw bytes (401
SIGN_ERROR otherwise), keeps a stateful book with WeChat's state names, signs every answer over
the bytes it sends, and delivers encrypted, signed callbacks with WeChat's retry schedule. Test
controls live under ``/__sim/`` (see :mod:`.control`). It also serves official-account web OAuth
(``/connect/oauth2/authorize``, ``/sns/oauth2/access_token``, see :mod:`.oauth`) and the trade
bill (``/v3/bill/tradebill`` and its download, generated from the book, or pre-made files from
``bills_dir`` / ``--bills-dir``: ``<bills_dir>/<mchid>/<YYYY-MM-DD>.csv`` served verbatim; see
:mod:`.bills`). It shares no code with the adapter.

    with WxpaySimulator(time_scale=0.001) as sim:
        params = sim.adapter_params()           # or adapter_params(isv=True, mode="certificate")
        ...                                     # the adapter pays with params
        sim.pay("P1797000000000000001")         # the payer pays: TRANSACTION.SUCCESS is sent
        sim.wait_for_delivery("P1797000000000000001")
"""

from __future__ import annotations

from paymesh.services.simulators.wxpay.simulator import WxpaySimulator

__all__ = ["WxpaySimulator"]
