"""UnionPay / 云闪付 (ifCode ``ysfpay``) over ACP 5.1.0, in ISV (acquirer) mode.

Every request is a form POST to ``{apiBase}/gateway/api/backTransReq.do`` (queries:
``queryTrans.do``) carrying ``version=5.1.0``, ``encoding=UTF-8``, ``signMethod=01``, ``certId``,
``accessType=1`` (acquirer access) with ``acqInsCode`` = ``acqOrgCode``, ``merId`` = the
sub-merchant's ``sub.merId`` and ``reserved={serProvId=…}``, signed as described in ``acp``.
Answers are raw ``k=v&…`` texts; an answer that is not HTTP 200, does not parse, whose
``signPubKeyCert`` does not chain to the configured root or whose ``signature`` does not verify is
an UNKNOWN outcome, never a success or a failure. Parameters: see ``params``; codes: see ``codes``.

Transactions (``bizType=000000``, ``channelType=08``, the 二维码 product):

===========================  ====================  ==============================================
paymesh operation            txnType/txnSubType    notes
===========================  ====================  ==============================================
pay YSF_BAR, UP_BAR (被扫)    01/06                 ``qrNo`` = channelExtra.authCode, ``termId``;
                                                   ``00`` → CONFIRM_SUCCESS, ``05`` (waiting for
                                                   the payer's password) → WAITING
pay UP_QR (主扫)              01/07                 ``00`` → WAITING with payDataType ``codeUrl``
                                                   = ``qrCode``; ``payTimeout`` from expire_at
query, query_refund          00/00                 by orderId + txnTime; ``origRespCode`` decides;
                                                   ``34`` (no such transaction) → CONFIRM_FAIL
close                        99/01 (冲正)           ACP has no close; a QR code otherwise lives
                                                   until payTimeout. Decision: query first; paid →
                                                   CONFIRM_FAIL ``ORDER_PAID``; failed →
                                                   CONFIRM_SUCCESS; pending or not found → the
                                                   reversal of the original orderId + txnTime,
                                                   after which the code can no longer be paid
cancel (barcode)             31/00 (消费撤销)        when the query says paid: undo with
                                                   ``origQryId``, orderId = payOrderId + ``C``,
                                                   backUrl ACP's no-notification URL; a ``00``
                                                   answer is taken as done (same-day undo). When
                                                   pending or not found: reversal 99/01 as close
refund                       04/00 (退货)           ``origQryId`` = channel order no (queried when
                                                   absent), ``reqReserved`` = payOrderId;
                                                   ``00`` = accepted → WAITING; the result comes
                                                   by notification or query_refund
download_bill                76/01 (文件传输)        ``fileType=00``, ``settleDate`` MMDD, to
                                                   ``fileTransUrl``: the day's ZM file (see
                                                   ``bill``)
===========================  ====================  ==============================================

``txnTime`` (Beijing time) of pay, query and refund is derived from the paymesh order id, whose
snowflake number carries its creation time; so order ids must be paymesh's (letter prefix and
snowflake number). Duplicates (``12``) are resolved by a query. Back notifications: txnType
``01`` → kind PAY, ``04`` → kind REFUND (``reqReserved`` names the pay order); ack_ok = HTTP 200
``ok``, ack_retry = HTTP 500; a notification older than 24 h (by txnTime) is refused as stale.

Choices where the reference is silent: the 二维码 sub-types (06/07), reversal as close, 24 h
notification window, serProvId in ``reserved``, the signing certificate's CN checked against
``ysfpayCertCn`` (default 中国银联股份有限公司). Not implemented: sensitive-field encryption
(``encryptCertId``; no card numbers are sent), the SM2/SM3 methods (``12``).
"""

from __future__ import annotations

from paymesh.services.channel.adapters.ysfpay.adapter import YsfpayAdapter

Adapter = YsfpayAdapter

__all__ = ["Adapter", "YsfpayAdapter"]
