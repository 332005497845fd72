"""Back notifications as UnionPay delivers them: form POSTs to backUrl until one gets HTTP 200.

The schedule (first attempt at once, then after 1, 2, 4, 8 and 16 minutes) is an assumption in
the spirit of UnionPay's documentation; ``time_scale`` compresses it (0.001 turns minutes into
tens of milliseconds). Every attempt is written to the delivery log.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

RETRY_SCHEDULE_SECONDS = (0.0, 60.0, 120.0, 240.0, 480.0, 960.0)
FORM = "application/x-www-form-urlencoded;charset=UTF-8"
ATTEMPT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt and what the receiver answered (HTTP status, or 0 with the error)."""

    order_id: str
    variant: str
    attempt: int
    url: str
    status: int
    error: str
    acknowledged: bool
    body: str


class Notifier:
    """Delivers notifications on background threads and keeps the log of every attempt."""

    def __init__(self, time_scale: float) -> None:
        self._scale = time_scale
        self._lock = threading.Lock()
        self._log: list[Attempt] = []
        self._stopped = threading.Event()

    def deliver(self, order_id: str, variant: str, url: str, body: bytes) -> None:
        """Starts delivering ``body`` to ``url`` in the background."""
        threading.Thread(target=self._run, args=(order_id, variant, url, body),
                         name=f"ysfpay-notify-{order_id}", daemon=True).start()

    def later(self, delay_seconds: float, action: Callable[[], None]) -> None:
        """Runs ``action`` after ``delay_seconds`` of simulated time (scaled), unless stopped."""
        def run() -> None:
            if not self._stopped.wait(delay_seconds * self._scale):
                action()
        threading.Thread(target=run, name="ysfpay-later", daemon=True).start()

    def log(self) -> list[dict[str, object]]:
        """Every attempt so far, oldest first."""
        with self._lock:
            return [asdict(entry) for entry in self._log]

    def stop(self) -> None:
        """Ends pending retries and timers."""
        self._stopped.set()

    def _run(self, order_id: str, variant: str, url: str, body: bytes) -> None:
        for number, delay in enumerate(RETRY_SCHEDULE_SECONDS, start=1):
            if self._stopped.wait(delay * self._scale):
                return
            status, error = _post(url, body)
            with self._lock:
                self._log.append(Attempt(order_id, variant, number, url, status, error,
                                         status == 200, body.decode("utf-8")))
            if status == 200:
                return


def _post(url: str, body: bytes) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": FORM})
    try:
        with urllib.request.urlopen(request, timeout=ATTEMPT_TIMEOUT_SECONDS) as response:
            response.read()
            return int(response.status), ""
    except urllib.error.HTTPError as error:
        return int(error.code), ""
    except (OSError, ValueError) as error:
        return 0, f"{type(error).__name__}: {error}"
