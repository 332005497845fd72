"""The WeChat Pay APIv3 simulator: lifecycle, request handling and the controls tests use."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from paymesh.services.simulators.wxpay import control
from paymesh.services.simulators.wxpay.api import ApiError, MerchantApi
from paymesh.services.simulators.wxpay.auth import (
    AuthFailure,
    MerchantCredential,
    RequestAuthenticator,
)
from paymesh.services.simulators.wxpay.bills import DOWNLOAD_PATH, BillMistake, TradeBills
from paymesh.services.simulators.wxpay.book import Book, SimOrder, SimRefund
from paymesh.services.simulators.wxpay.keys import SimKeys
from paymesh.services.simulators.wxpay.notifier import Notifier
from paymesh.services.simulators.wxpay.oauth import OAuthRefusal, OAuthServer
from paymesh.services.simulators.wxpay.server import Fault, FaultPlan, Reply, SimHttpServer, error


class WxpaySimulator:
    """A local WeChat Pay APIv3 with fresh keys, a stateful book and real callbacks.

    Use it as a context manager (``with WxpaySimulator(time_scale=0.001) as sim:``); its
    ``base_url`` and ``adapter_params()`` configure the adapter. ``time_scale`` compresses the
    callback retry schedule (0.001 turns 15 s into 15 ms). ``fee_rate`` is the merchant
    account's fee rate in its bills (0.006 = 0.6 %); ``bills_dir`` holds pre-made bills served
    verbatim, ``<bills_dir>/<mchid>/<YYYY-MM-DD>.csv`` (see :mod:`.bills`).
    """

    def __init__(self, *, port: int = 0, time_scale: float = 1.0,
                 keys: SimKeys | None = None, fee_rate: str | Decimal = "0.006",
                 bills_dir: str | None = None) -> None:
        self.keys = keys or SimKeys()
        self.book = Book()
        self.lock = threading.RLock()
        self.bills = TradeBills(self.book, self.lock, self.now, lambda: self.base_url,
                                Decimal(fee_rate), bills_dir)
        self.clock_offset = 0.0
        self.faults = FaultPlan()
        self.notifier = Notifier(self.keys, self.now, time_scale)
        self.oauth = OAuthServer({self.keys.app_id: self.keys.app_secret,
                                  self.keys.sub_app_id: self.keys.sub_app_secret}, self.now)
        self.api = MerchantApi(self.keys, self.book, self.lock, self.notifier, self.now,
                               openid_app=self.oauth.app_of)
        self._auth = RequestAuthenticator([MerchantCredential(
            self.keys.mch_id, self.keys.merchant_serial, self.keys.merchant_key.public_key())])
        self._server = SimHttpServer(self, port)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Where the simulator listens, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def adapter_params(self, *, isv: bool = False, mode: str = "both") -> dict[str, Any]:
        """The channel parameters an adapter needs (see ``SimKeys.adapter_params``)."""
        return self.keys.adapter_params(self.base_url, isv=isv, mode=mode)

    def start(self) -> WxpaySimulator:
        """Starts serving in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="wxpay-simulator")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and abandons pending callback retries."""
        self.notifier.stop()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WxpaySimulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()

    def now(self) -> float:
        """The simulator's clock: real time plus whatever tests advanced it by."""
        return time.time() + self.clock_offset

    def serve_v3(self, method: str, target: str, authorization: str | None,
                 body: bytes) -> Reply:
        """Authenticates one merchant request from its raw bytes, then carries it out."""
        mch_id = self._auth.authenticate(authorization, method, target, body, self.now())
        if isinstance(mch_id, AuthFailure):
            return error(401, "SIGN_ERROR", mch_id.message, signed=False)
        path, _, query = target.partition("?")
        try:
            if method == "GET" and path in ("/v3/bill/tradebill", DOWNLOAD_PATH):
                return self._serve_bill(path, query, mch_id)
            status, data = self.api.handle(method, path, query, body, mch_id)
        except ApiError as refusal:
            return error(refusal.status, refusal.code, refusal.message)
        return Reply(status, data)

    def _serve_bill(self, path: str, query: str, mch_id: str) -> Reply:
        args = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if path == DOWNLOAD_PATH:
            return Reply(200, signed=False, bill=self.bills.download(args, mch_id))
        sub_mch_id = args.get("sub_mchid", "")
        if sub_mch_id and sub_mch_id != self.keys.sub_mch_id:
            raise ApiError(403, "NO_AUTH", "特约商户号未与服务商建立受理关系")
        return Reply(200, self.bills.request(args, mch_id, sub_mch_id))

    def serve_oauth(self, method: str, target: str) -> tuple[int, dict[str, Any] | None, str]:
        """Web OAuth (see :mod:`.oauth`): ``(status, JSON or None, Location)``."""
        path, _, query = target.partition("?")
        try:
            if method == "GET" and path == "/connect/oauth2/authorize":
                return 302, None, self.oauth.authorize(query)
            if method == "GET" and path == "/sns/oauth2/access_token":
                return 200, self.oauth.access_token(query), ""
        except OAuthRefusal as refusal:
            return refusal.status, refusal.body(), ""
        return 404, {"errcode": 404, "errmsg": "not found"}, ""

    def control(self, method: str, target: str, body: bytes) -> tuple[int, Any]:
        """A ``/__sim/`` test-control request (see :mod:`.control`)."""
        return control.handle(self, method, target, body)

    # Test controls, also reachable over HTTP under /__sim/.

    def pay(self, out_trade_no: str, openid: str = "") -> dict[str, Any]:
        """The payer pays (or finishes entering the password): SUCCESS, then the callback."""
        with self.lock:
            order = self._order(out_trade_no)
            if order.trade_state not in ("NOTPAY", "USERPAYING"):
                raise ApiError(400, "INVALID_REQUEST", f"订单状态为{order.trade_state},不能支付")
            if openid:
                order.payer = {("sp_openid" if order.sub_mch_id else "openid"): openid}
            order.move("SUCCESS", self.now())
            transaction = order.transaction()
        self.notifier.deliver("TRANSACTION.SUCCESS", out_trade_no, order.notify_url, transaction)
        return transaction

    def fail(self, out_trade_no: str) -> dict[str, Any]:
        """The payment fails (wrong password, insufficient balance): PAYERROR, no callback."""
        with self.lock:
            order = self._order(out_trade_no)
            if order.trade_state not in ("NOTPAY", "USERPAYING"):
                raise ApiError(400, "INVALID_REQUEST", f"订单状态为{order.trade_state},不能失败")
            order.move("PAYERROR", self.now())
            return order.transaction()

    def ask_password(self) -> None:
        """The next barcode payment waits for the payer's password (USERPAYING)."""
        with self.lock:
            self.api.codepay_outcomes.append("USERPAYING")

    def finish_refund(self, out_refund_no: str, status: str = "SUCCESS") -> dict[str, Any]:
        """A PROCESSING refund ends as SUCCESS, ABNORMAL or CLOSED, then the callback."""
        if status not in ("SUCCESS", "ABNORMAL", "CLOSED"):
            raise ApiError(400, "PARAM_ERROR", "status must be SUCCESS, ABNORMAL or CLOSED")
        with self.lock:
            refund = self._refund(out_refund_no)
            self.api.finish_refund(refund, status)
            return refund.answer()

    def inject(self, kind: str, *, path: str = "", count: int = 1, seconds: float = 0.0,
               process: bool = True) -> None:
        """Bends the next matching answer(s); kinds in ``server.FAULT_KINDS``."""
        self.faults.add(Fault(kind, path, count, seconds, process))

    def send_callback(self, ref: str, variant: str = "normal", *, signer: str = "") -> int | None:
        """Sends one callback about an order (or a refund) now, once; the receiver's status."""
        return control.send_variant(self, ref, variant, signer)

    def close_bill_day(self, day: str = "") -> str:
        """Makes the bill of ``day`` (YYYY-MM-DD, default the simulator's Beijing today)
        downloadable now, as if WeChat had finished it; returns the day."""
        return self.bills.close_day(day)

    def plant_bill_mistake(self, kind: str, ref: str, *, day: str = "",
                           amount: int | None = None, fee: int | None = None,
                           status: str = "") -> BillMistake:
        """Makes the bills disagree about order or refund ``ref``: kinds ``amount``, ``fee``,
        ``status``, ``omit``, ``extra`` (see :mod:`.bills`)."""
        return self.bills.plant(BillMistake(kind, ref, day, amount, fee, status))

    def order(self, out_trade_no: str) -> dict[str, Any]:
        """The order as a query would show it."""
        with self.lock:
            return self._order(out_trade_no).transaction()

    def deliveries(self, ref: str = "") -> list[dict[str, Any]]:
        """The delivery log (every attempt), optionally for one order or refund number."""
        return [e for e in self.notifier.log() if not ref or e["ref"] == ref]

    def wait_for_delivery(self, ref: str, *, timeout: float = 5.0, received: bool = True,
                          attempts: int = 1) -> list[dict[str, Any]]:
        """Waits (bounded) until ``ref`` has ``attempts`` attempts or, if ``received``, a
        received one; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.deliveries(ref)
            if (received and any(e["received"] for e in log)) or \
                    (not received and len(log) >= attempts):
                return log
            time.sleep(0.01)
        raise TimeoutError(f"no such delivery for {ref} within {timeout} s: {self.deliveries(ref)}")

    def _order(self, out_trade_no: str) -> SimOrder:
        order = self.book.find_order(out_trade_no)
        if order is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def _refund(self, out_refund_no: str) -> SimRefund:
        refund = self.book.find_refund(out_refund_no)
        if refund is None:
            raise ApiError(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return refund
