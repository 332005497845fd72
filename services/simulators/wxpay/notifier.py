"""Callback delivery as WeChat does it (§1.4, §1.5, §6.7).

Each notification is a JSON envelope whose resource is AES-256-GCM encrypted with the merchant's
APIv3 key, signed over ``timestamp\\nnonce\\nbody\\n``. Only HTTP 200 or 204 counts as received;
anything else (another status, a refused connection, a timeout) is retried after 15 s, 15 s, 30 s,
3 min, 10 min, 20 min, 30 min, 30 min, 30 min, 60 min, 3 h, 3 h, 3 h, 6 h, 6 h — each multiplied
by the simulator's time scale. Every attempt is signed afresh; the body stays the same.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paymesh.services.simulators.wxpay.book import rfc3339
from paymesh.services.simulators.wxpay.keys import SimKeys, random_text, seal, sign_sha256_rsa

RETRY_SCHEDULE = (15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600,
                  10800, 10800, 10800, 21600, 21600)
SUMMARIES = {"TRANSACTION.SUCCESS": "支付成功", "REFUND.SUCCESS": "退款成功",
             "REFUND.ABNORMAL": "退款异常", "REFUND.CLOSED": "退款关闭"}
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
ATTEMPT_TIMEOUT_SECONDS = 5.0
# Deliver straight to the receiver: a proxy from the environment has no business on loopback.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True)
class Notification:
    """One event for one URL; ``ref`` is the order or refund number it is about."""

    event_id: str
    event_type: str
    ref: str
    url: str
    body: bytes


class Notifier:
    """Builds, signs and delivers callbacks, and keeps the delivery log."""

    def __init__(self, keys: SimKeys, clock: Callable[[], float], time_scale: float) -> None:
        self._keys = keys
        self._clock = clock
        self.time_scale = time_scale
        self.signer = "publickey"
        self._log: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def envelope(self, event_type: str, resource: dict[str, Any], *,
                 api_v3_key: str | None = None) -> bytes:
        """The callback body: the resource encrypted with the APIv3 key (or another key)."""
        original = "refund" if event_type.startswith("REFUND.") else "transaction"
        nonce = random_text(12)
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        envelope = {
            "id": "EV-" + secrets.token_hex(12), "create_time": rfc3339(self._clock()),
            "resource_type": "encrypt-resource", "event_type": event_type,
            "summary": SUMMARIES.get(event_type, ""),
            "resource": {"original_type": original, "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": seal(api_v3_key or self._keys.api_v3_key, nonce, original,
                                            plaintext.encode("utf-8")),
                         "associated_data": original, "nonce": nonce}}
        return json.dumps(envelope, ensure_ascii=False).encode("utf-8")

    def headers(self, body: bytes, *, signer: str | None = None, timestamp: int | None = None,
                serial: str | None = None) -> dict[str, str]:
        """Signed Wechatpay-* headers over ``body``; the arguments make deliberate forgeries."""
        real_serial, key = self._keys.signer(signer or self.signer)
        stamp = str(int(self._clock()) if timestamp is None else timestamp)
        nonce = secrets.token_hex(16)
        message = f"{stamp}\n{nonce}\n".encode() + body + b"\n"
        return {"Content-Type": "application/json", "User-Agent": "Mozilla/4.0",
                "Wechatpay-Timestamp": stamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": sign_sha256_rsa(key, message),
                "Wechatpay-Serial": serial or real_serial,
                "Wechatpay-Signature-Type": SIGNATURE_TYPE}

    def deliver(self, event_type: str, ref: str, url: str, resource: dict[str, Any]) -> None:
        """Starts delivering in the background, with the retry schedule."""
        if not url:
            return
        body = self.envelope(event_type, resource)
        note = Notification(json.loads(body)["id"], event_type, ref, url, body)
        threading.Thread(target=self._deliver_with_retries, args=(note,), daemon=True,
                         name=f"wxpay-sim-notify-{ref}").start()

    def send_once(self, note: Notification, headers: dict[str, str]) -> int | None:
        """One attempt with the given headers, logged; the receiver's status or None."""
        status, error = self._post(note.url, note.body, headers)
        with self._lock:
            attempt = 1 + sum(1 for e in self._log if e["event_id"] == note.event_id)
            self._log.append({"event_id": note.event_id, "event_type": note.event_type,
                              "ref": note.ref, "url": note.url, "attempt": attempt,
                              "status": status, "error": error, "at": self._clock(),
                              "received": status in (200, 204)})
        return status

    def log(self) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]

    def stop(self) -> None:
        """Abandons pending retries (the simulator is shutting down)."""
        self._stopping.set()

    def _deliver_with_retries(self, note: Notification) -> None:
        for delay in (0, *RETRY_SCHEDULE):
            if delay and self._stopping.wait(delay * self.time_scale):
                return
            if self._stopping.is_set():
                return
            if self.send_once(note, self.headers(note.body)) in (200, 204):
                return

    @staticmethod
    def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=ATTEMPT_TIMEOUT_SECONDS) as response:
                response.read()
                return response.status, ""
        except urllib.error.HTTPError as error:
            error.read()
            return error.code, ""
        except (OSError, ValueError) as error:
            return None, repr(error)
