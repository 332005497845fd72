"""Asynchronous notifications (异步通知), delivered the way Alipay delivers them.

A form POST signed with the simulator's Alipay key over every field but ``sign`` and
``sign_type`` (empty values kept). Delivery is done only when the answer body is exactly the
seven bytes ``success``; otherwise it is retried at Alipay's pauses — 4 min, 10 min, 10 min,
1 h, 2 h, 6 h, 15 h — multiplied by the simulator's time scale. ``notify_id`` stays the same
across the retries of one notification; ``notify_time`` is the time of each attempt.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from paymesh.services.simulators.alipay.book import BEIJING, Trade, beijing, to_yuan
from paymesh.services.simulators.alipay.crypto import KeyPair, signed_notification_text

# Seconds before each attempt: the first at once, then Alipay's retry pauses.
SCHEDULE: tuple[float, ...] = (0, 240, 600, 600, 3600, 7200, 21600, 54000)
SELLER_ID = "2088102119685838"
ATTEMPT_TIMEOUT_SECONDS = 3.0
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class Notifier:
    """Signs and delivers notifications; keeps the delivery log and each trade's last form."""

    def __init__(self, key: KeyPair, clock: Callable[[], float], time_scale: float,
                 stop: threading.Event) -> None:
        self._key = key
        self._clock = clock
        self._scale = time_scale
        self._stop = stop
        self._lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.last_forms: dict[str, dict[str, str]] = {}

    def form_for(self, trade: Trade, extra: dict[str, str]) -> dict[str, str]:
        """The unsigned fields of a ``trade_status_sync`` notification about ``trade``."""
        amount = to_yuan(trade.fen)
        form = {
            "notify_type": "trade_status_sync", "notify_id": secrets.token_hex(17),
            "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
            "app_id": trade.app_id, "auth_app_id": trade.auth_app_id, "seller_id": SELLER_ID,
            "trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no,
            "trade_status": trade.status, "total_amount": amount, "subject": trade.subject,
            "body": trade.body, "gmt_create": trade.created_at, "point_amount": "0.00",
        }
        if trade.paid_at:
            form.update(gmt_payment=trade.paid_at, receipt_amount=amount, invoice_amount=amount,
                        buyer_pay_amount=amount, buyer_id=trade.buyer_id,
                        fund_bill_list=json.dumps([{"amount": amount,
                                                    "fundChannel": "ALIPAYACCOUNT"}]))
        form.update(extra)
        return form

    def sign(self, form: dict[str, str], key: KeyPair | None = None) -> dict[str, str]:
        """The form stamped with the current ``notify_time`` and signed."""
        stamped = {k: v for k, v in form.items() if k != "sign"}
        stamped.setdefault("notify_time", beijing(self._clock()))
        text = signed_notification_text(stamped)
        stamped["sign"] = (key or self._key).sign(text.encode("utf-8"))
        return stamped

    def deliver(self, trade: Trade, extra: dict[str, str]) -> None:
        """Starts delivering a notification about ``trade`` in the background."""
        if not trade.notify_url:
            return
        form = self.form_for(trade, extra)
        thread = threading.Thread(target=self._run, args=(trade.notify_url, form),
                                  name=f"alipay-notify-{trade.out_trade_no}", daemon=True)
        thread.start()

    def _run(self, url: str, form: dict[str, str]) -> None:
        for attempt, pause in enumerate(SCHEDULE, start=1):
            if self._stop.wait(pause * self._scale):
                return
            signed = self.sign({**form, "notify_time": beijing(self._clock())})
            if self.send(url, signed, attempt=attempt):
                return

    def send(self, url: str, form: dict[str, str], *, attempt: int = 1,
             variant: str = "") -> bool:
        """One attempt; True when the receiver acknowledged with exactly ``success``."""
        self.last_forms[form["out_trade_no"]] = form
        request = urllib.request.Request(url, data=urlencode(form).encode("utf-8"),
                                         headers={"Content-Type": FORM_TYPE}, method="POST")
        status, body = 0, b""
        try:
            with urllib.request.urlopen(request, timeout=ATTEMPT_TIMEOUT_SECONDS) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except OSError as error:
            body = f"<{type(error).__name__}>".encode()
        acknowledged = body == b"success"
        with self._lock:
            self.log.append({"notify_id": form["notify_id"], "out_trade_no": form["out_trade_no"],
                             "trade_status": form.get("trade_status", ""), "attempt": attempt,
                             "variant": variant, "url": url, "status": status,
                             "body": body.decode("utf-8", "replace"), "acknowledged": acknowledged,
                             "at": time.time(), "form": urlencode(form)})
        return acknowledged

    def entries(self) -> list[dict[str, Any]]:
        """A copy of the delivery log."""
        with self._lock:
            return list(self.log)

    def variant(self, out_trade_no: str, kind: str, other_key: Callable[[], KeyPair]
                ) -> dict[str, str]:
        """The last notification of a trade, replayed as a test asks.

        ``duplicate`` resends it byte for byte; ``stale`` re-signs it a day old; ``tamper``
        changes ``total_amount`` after signing; ``other_app`` re-signs it for another merchant's
        app; ``wrongkey`` signs it with a key that is not Alipay's.
        """
        form = dict(self.last_forms[out_trade_no])
        if kind == "duplicate":
            return form
        if kind == "stale":
            day_ago = datetime.fromtimestamp(self._clock() - 86400, BEIJING)
            return self.sign({**form, "notify_time": day_ago.strftime("%Y-%m-%d %H:%M:%S")})
        if kind == "tamper":
            return {**form, "total_amount": "0.01" if form["total_amount"] != "0.01" else "0.02"}
        if kind == "other_app":
            return self.sign({**form, "app_id": "2021000000009999",
                              "auth_app_id": "2021000000009999"})
        if kind == "wrongkey":
            return self.sign(form, other_key())
        raise ValueError(f"unknown notification variant {kind!r}")
