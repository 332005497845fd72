"""The simulated UnionPay gateway: lifecycle, signing of what it sends, and the test controls."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

from paymesh.services.simulators.ysfpay import pki
from paymesh.services.simulators.ysfpay.bills import (
    DEFAULT_FEE_RATE,
    DEFAULT_READY_DELAY,
    FILE_TRANS,
    Reconciliation,
)
from paymesh.services.simulators.ysfpay.book import (
    BEIJING,
    FAIL,
    SUCCESS,
    AcpBook,
    BookError,
    Outcome,
    Txn,
)
from paymesh.services.simulators.ysfpay.handler import make_handler
from paymesh.services.simulators.ysfpay.notifier import Notifier

FAULTS = frozenset({"5xx", "delay", "drop", "tamper", "rogue", "expired", "unsigned"})
VARIANTS = frozenset({"valid", "rogue", "expired", "tampered", "stale", "unsigned"})
REFUND_DELAY_SECONDS = 30.0  # simulated time between accepting a refund and finishing it


@dataclass(frozen=True)
class Fault:
    """A fault injected into the next gateway answer."""

    kind: str
    seconds: float = 0.0


class YsfpaySimulator:
    """UnionPay's ACP gateway on 127.0.0.1, with fresh keys and certificates per instance."""

    def __init__(self, port: int = 0, *, time_scale: float = 1.0, mer_id: str = "777290058110097",
                 acq_org_code: str = "48020000", ser_prov_id: str = "A0000001",
                 clock: Callable[[], float] = time.time, fee_rate: str = DEFAULT_FEE_RATE,
                 bill_delay: float = DEFAULT_READY_DELAY) -> None:
        self.pki = pki.generate_pki()
        self._wall = clock
        self._offset = 0.0
        self.book = AcpBook(mer_id, acq_org_code, ser_prov_id, self.now)
        self.reconciliation = Reconciliation(self.book, self.now, fee_rate, bill_delay)
        self.notifier = Notifier(time_scale)
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the gateway listens, e.g. ``http://127.0.0.1:43125`` (apiBase)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> YsfpaySimulator:
        """Serves in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="ysfpay-sim",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and ends pending notification retries."""
        self.notifier.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> YsfpaySimulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def now(self) -> float:
        """The simulator's clock: ``clock`` plus whatever tests advanced it by."""
        return self._wall() + self._offset

    def advance(self, seconds: float) -> float:
        """Moves the simulator clock forward (bill readiness, settlement days); the new time."""
        self._offset += seconds
        return self.now()

    def adapter_params(self, key_form: str = "pfx") -> dict[str, Any]:
        """The ysfpay channel parameters for this run: the .pfx form, or ``pem`` (key + certId)."""
        params: dict[str, Any] = {
            "apiBase": self.base_url, "fileTransUrl": self.base_url + FILE_TRANS,
            "acqOrgCode": self.book.acq_ins_code,
            "serProvId": self.book.ser_prov_id, "certId": self.pki.merchant.cert_id,
            "ysfpayRootCert": self.pki.root.cert_pem,
            "ysfpayMiddleCert": self.pki.middle.cert_pem, "sub": {"merId": self.book.mer_id}}
        if key_form == "pem":
            params["privateKey"] = self.pki.merchant_key_pem()
        else:
            params["isvPrivateCertFile"] = self.pki.merchant_pfx_base64()
            params["isvPrivateCertPwd"] = pki.PFX_PASSWORD
        return params

    # Test controls (also reachable over HTTP under /__sim/).

    def pay(self, order_id: str) -> dict[str, object]:
        """The payer scans the QR code or enters the password: success, then the notification."""
        return self._decide(order_id, SUCCESS, "00")

    def fail(self, order_id: str, resp_code: str = "60") -> dict[str, object]:
        """The payment (or a refund) fails with ``resp_code``; no notification, as ACP does."""
        return self._decide(order_id, FAIL, resp_code)

    def finish_refund(self, order_id: str) -> dict[str, object]:
        """A refund held by refund mode ``hold`` succeeds and is notified."""
        return self._decide(order_id, SUCCESS, "00")

    def set_barcode_mode(self, mode: str, resp_code: str = "60") -> None:
        """Next barcode consumes: ``success``, ``password`` (answer 05, wait) or ``fail``."""
        if mode not in ("success", "password", "fail"):
            raise BookError("barcode mode must be success, password or fail")
        self.book.barcode_mode, self.book.barcode_fail_code = mode, resp_code

    def set_refund_mode(self, mode: str) -> None:
        """Refunds finish by themselves (``auto``) or wait for a control (``hold``)."""
        if mode not in ("auto", "hold"):
            raise BookError("refund mode must be auto or hold")
        self.book.refund_mode = mode

    def fault(self, kind: str, count: int = 1, seconds: float = 0.0) -> None:
        """Spoils the next ``count`` gateway answers: see FAULTS and the package docstring."""
        if kind not in FAULTS:
            raise BookError(f"fault must be one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.extend(Fault(kind, seconds) for _ in range(count))

    def notification(self, order_id: str, variant: str = "valid", send: bool = False) -> bytes:
        """The back notification of a transaction as a form body; ``send`` also delivers it."""
        if variant not in VARIANTS:
            raise BookError(f"variant must be one of {sorted(VARIANTS)}")
        txn = self.book.get(order_id)
        body = self._notification_body(txn, variant)
        if send:
            self.notifier.deliver(order_id, variant, txn.back_url, body)
        return body

    def snapshot(self) -> list[dict[str, object]]:
        """The book: every transaction and its state."""
        return self.book.snapshot()

    def deliveries(self) -> list[dict[str, object]]:
        """The delivery log: every notification attempt and its answer."""
        return self.notifier.log()

    # Used by the HTTP handler.

    def next_fault(self) -> Fault | None:
        """The fault to apply to the answer being made, if any."""
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def signed(self, fields: dict[str, str], fault: Fault | None = None) -> dict[str, str]:
        """``fields`` signed as UnionPay signs, then spoiled as ``fault`` says."""
        signer = {"rogue": self.pki.rogue, "expired": self.pki.expired}.get(
            fault.kind if fault else "", self.pki.unionpay)
        out = {**fields, "signMethod": "01", "certId": signer.cert_id,
               "signPubKeyCert": signer.cert_pem}
        out["signature"] = pki.sign(out, signer)
        if fault is not None and fault.kind == "tamper":
            out["respCode"] = "00" if out.get("respCode") != "00" else "05"
        if fault is not None and fault.kind == "unsigned":
            del out["signature"]
        return out

    def after(self, outcome: Outcome) -> None:
        """Side effects of an answered request: notifications and refunds finishing later."""
        if outcome.notify is not None:
            self._notify(outcome.notify)
        if outcome.refund_pending:
            order_id = outcome.refund_pending
            self.notifier.later(REFUND_DELAY_SECONDS, lambda: self._finish_quietly(order_id))

    def control(self, action: str, args: dict[str, Any]) -> object:
        """One /__sim/ control request; BookError or KeyError for bad ones."""
        if action == "pay":
            return self.pay(str(args["orderId"]))
        if action == "fail":
            return self.fail(str(args["orderId"]), str(args.get("respCode", "60")))
        if action == "refund/finish":
            return self.finish_refund(str(args["orderId"]))
        if action == "barcode":
            self.set_barcode_mode(str(args["mode"]), str(args.get("respCode", "60")))
        elif action == "refund-mode":
            self.set_refund_mode(str(args["mode"]))
        elif action == "fault":
            self.fault(str(args["kind"]), int(args.get("count", 1)),
                       float(args.get("seconds", 0.0)))
        elif action == "bill-mistake":
            return self.reconciliation.plant(args)
        elif action == "advance":
            return {"now": self.advance(float(args["seconds"]))}
        elif action == "notify":
            body = self.notification(str(args["orderId"]), str(args.get("variant", "valid")),
                                     bool(args.get("send", True)))
            return {"body": body.decode("utf-8")}
        else:
            raise BookError(f"unknown control {action!r}")
        return {"ok": True}

    def _decide(self, order_id: str, state: str, code: str) -> dict[str, object]:
        txn = self.book.decide(order_id, state, code)
        if state == SUCCESS:
            self._notify(txn)
        return asdict(txn)

    def _finish_quietly(self, order_id: str) -> None:
        try:
            self.finish_refund(order_id)
        except BookError:
            pass  # decided by a control in the meantime

    def _notify(self, txn: Txn) -> None:
        if txn.back_url:
            self.notifier.deliver(txn.order_id, "valid", txn.back_url,
                                  self._notification_body(txn, "valid"))

    def _notification_body(self, txn: Txn, variant: str) -> bytes:
        now = datetime.fromtimestamp(self.now(), BEIJING)
        txn_time = txn.txn_time
        if variant == "stale":
            sent = datetime.strptime(txn_time, "%Y%m%d%H%M%S") - timedelta(days=2)
            txn_time = sent.strftime("%Y%m%d%H%M%S")
        fields = {
            "version": "5.1.0", "encoding": "UTF-8", "txnType": txn.txn_type,
            "txnSubType": txn.txn_sub_type, "bizType": "000000", "accessType": "1",
            "acqInsCode": self.book.acq_ins_code, "merId": self.book.mer_id,
            "orderId": txn.order_id, "txnTime": txn_time, "txnAmt": str(txn.amount),
            "currencyCode": "156", "queryId": txn.query_id, "respCode": txn.resp_code,
            "respMsg": txn.resp_msg, "traceNo": txn.query_id[-6:],
            "traceTime": f"{now:%m%d%H%M%S}", "settleAmt": str(txn.amount),
            "settleCurrencyCode": "156", "settleDate": f"{now:%m%d}"}
        if txn.orig_qry_id:
            fields["origQryId"] = txn.orig_qry_id
        if txn.req_reserved:
            fields["reqReserved"] = txn.req_reserved
        fault = Fault(variant) if variant in ("rogue", "expired", "unsigned") else None
        signed = self.signed(fields, fault)
        if variant == "tampered":
            signed["txnAmt"] = str(txn.amount + 100)
        return urlencode(signed).encode("utf-8")
