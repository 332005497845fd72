"""The simulated UnionPay's book: ACP transactions keyed by (merId, orderId), with ACP's codes.

States: ``PENDING`` (a QR code not yet paid, a barcode waiting for the password, a refund in
progress), ``SUCCESS``, ``FAIL``, ``REVERSED`` (冲正; also a tombstone for an orderId reversed
before it arrived), ``REVOKED`` (a consume undone by 消费撤销; its own query still says 00).
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

PENDING, SUCCESS, FAIL, REVERSED, REVOKED = "PENDING", "SUCCESS", "FAIL", "REVERSED", "REVOKED"
NO_NOTIFY_URL = "http://www.specialUrl.com"
BEIJING = timezone(timedelta(hours=8))
MESSAGES = {
    "00": "成功[0000000]", "01": "交易失败[1000001]", "05": "交易已受理，请稍后查询交易结果",
    "10": "报文格式错误", "11": "验证签名失败", "12": "重复交易", "13": "报文交易要素缺失",
    "31": "商户状态不正确", "32": "无此交易权限", "34": "查无此交易",
    "35": "原交易不存在或状态不正确", "36": "与原交易信息不符",
    "60": "交易失败，详情请咨询您的发卡行", "65": "余额不足",
}
WAITING_FOR_PASSWORD = "交易已受理，等待用户输入密码"
_ORDER_ID = re.compile(r"[0-9A-Za-z]{8,40}")
_TXN_TIME = re.compile(r"20[0-9]{12}")
_AMOUNT = re.compile(r"[1-9][0-9]{0,11}")
_QR_NO = re.compile(r"[0-9]{16,24}")
_ECHO = ("version", "encoding", "signMethod", "txnType", "txnSubType", "bizType", "accessType",
         "acqInsCode", "merId", "orderId", "txnTime", "txnAmt", "currencyCode", "reqReserved")


@dataclass
class Txn:
    """One ACP transaction as UnionPay's book holds it."""

    order_id: str
    txn_time: str
    txn_type: str
    txn_sub_type: str
    amount: int
    back_url: str
    query_id: str
    state: str
    resp_code: str
    resp_msg: str
    qr_code: str = ""
    orig_qry_id: str = ""
    req_reserved: str = ""
    refunded: int = 0
    pay_timeout: str = ""
    settled_at: float = 0.0  # when it succeeded (simulator clock), for the reconciliation file


@dataclass(frozen=True)
class Outcome:
    """The unsigned answer to a request, and the transaction to notify about, if any."""

    answer: dict[str, str]
    notify: Txn | None = None
    refund_pending: str = ""  # a refund orderId the engine should finish later


class BookError(Exception):
    """A control request the book cannot honour (no such order, wrong state)."""


class AcpBook:
    """The gateway's business rules, for one acquirer, service provider and sub-merchant."""

    def __init__(self, mer_id: str, acq_ins_code: str, ser_prov_id: str,
                 clock: Callable[[], float]) -> None:
        self.mer_id, self.acq_ins_code, self.ser_prov_id = mer_id, acq_ins_code, ser_prov_id
        self._clock = clock
        self._lock = threading.RLock()
        self._txns: dict[str, Txn] = {}
        self.barcode_mode, self.barcode_fail_code, self.refund_mode = "success", "60", "auto"

    def handle(self, f: dict[str, str]) -> Outcome:
        """The answer to a request whose signature is already verified."""
        answer = {k: f[k] for k in _ECHO if k in f}
        problem = self._check(f)
        if problem:
            return Outcome(_with_code(answer, problem))
        kind = (f["txnType"], f["txnSubType"])
        handler = {("01", "06"): self._consume, ("01", "07"): self._apply_qr,
                   ("00", "00"): self._query, ("31", "00"): self._undo, ("04", "00"): self._refund,
                   ("99", "01"): self._reverse}.get(kind)
        if handler is None:
            return Outcome(_with_code(answer, "32"))
        with self._lock:
            return handler(f, answer)

    def _check(self, f: dict[str, str]) -> str:
        if any(not f.get(k) for k in ("txnType", "txnSubType", "bizType", "accessType", "merId",
                                      "orderId", "txnTime")):
            return "13"
        if not _ORDER_ID.fullmatch(f["orderId"]) or not _TXN_TIME.fullmatch(f["txnTime"]):
            return "10"
        if "txnAmt" in f and not _AMOUNT.fullmatch(f["txnAmt"]):
            return "10"
        if (f["accessType"] != "1" or f.get("acqInsCode") != self.acq_ins_code
                or f["merId"] != self.mer_id):
            return "31"
        if f.get("reserved") != f"{{serProvId={self.ser_prov_id}}}":
            return "32"
        return ""

    def _consume(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        if not _QR_NO.fullmatch(f.get("qrNo", "")) or not f.get("backUrl") or "txnAmt" not in f:
            return Outcome(_with_code(answer, "13"))
        if f["orderId"] in self._txns:
            return Outcome(_with_code(answer, "12"))
        txn = self._new(f, PENDING, "05")
        if self.barcode_mode == "success":
            self._settle(txn, SUCCESS, "00")
        elif self.barcode_mode == "fail":
            self._settle(txn, FAIL, self.barcode_fail_code)
        else:
            txn.resp_msg = WAITING_FOR_PASSWORD
        answer.update(queryId=txn.query_id)
        return Outcome(_with_code(answer, txn.resp_code, txn.resp_msg),
                       notify=txn if txn.state == SUCCESS else None)

    def _apply_qr(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        if not f.get("backUrl") or "txnAmt" not in f:
            return Outcome(_with_code(answer, "13"))
        known = self._txns.get(f["orderId"])
        if known is not None:
            same = (known.txn_sub_type, known.amount, known.txn_time) == (
                "07", int(f["txnAmt"]), f["txnTime"])
            if not same or known.state != PENDING:
                return Outcome(_with_code(answer, "12"))
            return Outcome(_with_code({**answer, "qrCode": known.qr_code}, "00"))
        txn = self._new(f, PENDING, "05")
        txn.qr_code = f"https://qr.95516.com/00010000/{secrets.randbelow(10**20):020d}"
        txn.pay_timeout = f.get("payTimeout", "")
        return Outcome(_with_code({**answer, "qrCode": txn.qr_code}, "00"))

    def _query(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        txn = self._txns.get(f["orderId"])
        if txn is None or txn.txn_time != f["txnTime"]:
            return Outcome(_with_code(answer, "34"))
        code = "00" if txn.state == REVOKED else txn.resp_code
        msg = MESSAGES["00"] if txn.state == REVOKED else txn.resp_msg
        answer.update(queryId=txn.query_id, txnAmt=str(txn.amount), origRespCode=code,
                      origRespMsg=msg, currencyCode="156")
        return Outcome(_with_code(answer, "00"))

    def _undo(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        original = self._by_query_id(f.get("origQryId", ""))
        if f["orderId"] in self._txns:
            return Outcome(_with_code(answer, "12"))
        if original is None or original.txn_type != "01" or original.state != SUCCESS \
                or original.refunded:
            return Outcome(_with_code(answer, "35"))
        if f.get("txnAmt") != str(original.amount):
            return Outcome(_with_code(answer, "36"))
        undo = self._new(f, SUCCESS, "00")
        undo.orig_qry_id = original.query_id
        original.state = REVOKED
        answer.update(queryId=undo.query_id, origQryId=original.query_id)
        return Outcome(_with_code(answer, "00"),
                       notify=undo if undo.back_url != NO_NOTIFY_URL else None)

    def _refund(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        original = self._by_query_id(f.get("origQryId", ""))
        if not f.get("backUrl") or "txnAmt" not in f:
            return Outcome(_with_code(answer, "13"))
        if f["orderId"] in self._txns:
            return Outcome(_with_code(answer, "12"))
        if original is None or original.txn_type != "01" or original.state != SUCCESS:
            return Outcome(_with_code(answer, "35"))
        if original.refunded + int(f["txnAmt"]) > original.amount:
            return Outcome(_with_code(answer, "36", "退货金额超过原交易可退金额"))
        refund = self._new(f, PENDING, "05")
        refund.orig_qry_id, refund.req_reserved = original.query_id, f.get("reqReserved", "")
        original.refunded += refund.amount
        answer.update(queryId=refund.query_id, origQryId=original.query_id)
        pending = refund.order_id if self.refund_mode == "auto" else ""
        return Outcome(_with_code(answer, "00"), refund_pending=pending)

    def _reverse(self, f: dict[str, str], answer: dict[str, str]) -> Outcome:
        txn = self._txns.get(f["orderId"])
        if txn is None:  # a lost request: the tombstone makes a late arrival a duplicate
            txn = self._new({**f, "txnType": "01", "txnAmt": "0"}, REVERSED, "01")
        elif txn.txn_time != f["txnTime"] or txn.txn_type != "01":
            return Outcome(_with_code(answer, "36"))
        elif txn.state in (PENDING, SUCCESS):
            self._settle(txn, REVERSED, "01", "交易已冲正")
        elif txn.state == REVOKED:
            return Outcome(_with_code(answer, "35"))
        return Outcome(_with_code(answer, "00"))

    def decide(self, order_id: str, state: str, code: str) -> Txn:
        """Ends a pending transaction (the payer paid, failed, or a refund ended)."""
        with self._lock:
            txn = self._txns.get(order_id)
            if txn is None:
                raise BookError(f"no transaction {order_id}")
            if txn.state != PENDING:
                raise BookError(f"transaction {order_id} is {txn.state}, not PENDING")
            if txn.pay_timeout and state == SUCCESS and \
                    _txn_time_now(self._clock()) > txn.pay_timeout:
                raise BookError(f"the QR code of {order_id} expired at {txn.pay_timeout}")
            self._settle(txn, state, code)
            if txn.txn_type == "04" and state != SUCCESS:
                original = self._by_query_id(txn.orig_qry_id)
                if original is not None:
                    original.refunded -= txn.amount
            return txn

    def get(self, order_id: str) -> Txn:
        """A transaction by orderId; BookError when there is none."""
        with self._lock:
            txn = self._txns.get(order_id)
            if txn is None:
                raise BookError(f"no transaction {order_id}")
            return txn

    def transactions(self) -> list[Txn]:
        """Every transaction (the objects themselves), for the reconciliation file."""
        with self._lock:
            return list(self._txns.values())

    def snapshot(self) -> list[dict[str, object]]:
        """Every transaction, for tests and the /__sim/book endpoint."""
        with self._lock:
            return [asdict(txn) for txn in self._txns.values()]

    def _new(self, f: dict[str, str], state: str, code: str) -> Txn:
        now = datetime.fromtimestamp(self._clock(), BEIJING)
        txn = Txn(order_id=f["orderId"], txn_time=f["txnTime"], txn_type=f["txnType"],
                  txn_sub_type=f["txnSubType"], amount=int(f.get("txnAmt", "0")),
                  back_url=f.get("backUrl", ""), state=state, resp_code=code,
                  resp_msg=MESSAGES.get(code, ""),
                  query_id=f"{now:%m%d%H%M%S}{secrets.randbelow(10**11):011d}",
                  settled_at=now.timestamp() if state == SUCCESS else 0.0)
        self._txns[txn.order_id] = txn
        return txn

    def _settle(self, txn: Txn, state: str, code: str, msg: str = "") -> None:
        txn.state, txn.resp_code, txn.resp_msg = state, code, msg or MESSAGES.get(code, "失败")
        if state == SUCCESS:
            txn.settled_at = self._clock()

    def _by_query_id(self, query_id: str) -> Txn | None:
        return next((t for t in self._txns.values() if query_id and t.query_id == query_id), None)


def _with_code(answer: dict[str, str], code: str, msg: str = "") -> dict[str, str]:
    return {**answer, "respCode": code, "respMsg": msg or MESSAGES.get(code, "失败")}


def _txn_time_now(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BEIJING).strftime("%Y%m%d%H%M%S")
