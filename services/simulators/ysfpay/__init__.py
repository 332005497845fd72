"""A local, honest simulator of UnionPay's ACP 5.1.0 gateway (云闪付, ifCode ``ysfpay``).

Per run it makes a root CA, a middle CA, UnionPay's signing certificate (issued by them) and the
merchant's key and certificate. It verifies every request's ``signature`` with the merchant
certificate named by ``certId``, answers raw ``k=v&…`` texts signed by UnionPay's key and
carrying ``signPubKeyCert``, keeps a stateful book (``book``) and delivers signed back
notifications to ``backUrl`` until one gets HTTP 200 (``notifier``).

Endpoints: ``POST /gateway/api/backTransReq.do``, ``/gateway/api/queryTrans.do`` and ``/``
(file transfer).
Test controls (JSON bodies; also Python methods of :class:`YsfpaySimulator`):

- ``POST /__sim/pay {"orderId"}``: the payer pays a QR code or finishes a password wait;
- ``POST /__sim/fail {"orderId", "respCode"}``: the payment or a refund fails;
- ``POST /__sim/barcode {"mode": "success"|"password"|"fail", "respCode"}``: next barcodes;
- ``POST /__sim/refund-mode {"mode": "auto"|"hold"}``, ``POST /__sim/refund/finish {"orderId"}``;
- ``POST /__sim/fault {"kind", "count", "seconds"}``: ``5xx`` (502, not processed), ``delay``
  (processed, answered after ``seconds``), ``drop`` (processed, connection closed unanswered),
  ``tamper`` (respCode altered after signing), ``rogue`` (signed by a certificate not issued by
  the root), ``expired`` (expired certificate), ``unsigned``;
- ``POST /__sim/notify {"orderId", "variant", "send"}``: a notification of the transaction,
  ``valid``, ``rogue``, ``expired``, ``tampered`` (txnAmt altered), ``stale`` (txnTime two days
  old, validly signed) or ``unsigned``; answers ``{"body": …}`` and delivers it when ``send``;
- ``POST /__sim/bill-mistake {"kind", "orderId", "fen", "settleDate"}``: make the day's
  reconciliation file disagree with the platform (``amount``, ``fee``, ``status``, ``extra``,
  ``missing``), cut its last row short (``truncate``) or forget them all (``clear``);
- ``POST /__sim/advance {"seconds"}``: moves the simulator clock (bill readiness);
- ``GET /__sim/book``, ``GET /__sim/deliveries``.

The reconciliation file (对账文件) of a day is served by ACP file transfer (txnType 76) at
``fileTransUrl`` (``/``), from the book, with a fee of ``fee_rate`` (default 0.006): see
``bills``.

Run: ``python -m paymesh.services.simulators.ysfpay [--port N] [--time-scale X]
[--fee-rate R] [--bill-delay S]``.
"""

from __future__ import annotations

from paymesh.services.simulators.ysfpay.simulator import YsfpaySimulator

__all__ = ["YsfpaySimulator"]
