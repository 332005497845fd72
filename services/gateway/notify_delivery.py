"""One delivery of a merchant notification: the signed form, the POST and the success rule.

The body is JeePay's: the query fields of the order (§4.2) or refund (§4.5), null and empty
values dropped, plus ``reqTime`` (ms) and ``sign``, sent as ``application/x-www-form-urlencoded``.
paymesh's success rule is stricter on the status and kinder on the body than JeePay's: HTTP 2xx
**and** the body, trimmed, equal to ``SUCCESS`` ignoring case (JeePay ignores the status and does
not trim, so ``"success\\n"`` fails there).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from paymesh.services.common import signing
from paymesh.services.gateway.notify_targets import PRIVATE_TARGET

HTTP_TIMEOUT_SECONDS = 10.0
EXCERPT_CHARS = 256
# The sign type of notifications. Apps record no preferred sign type (the request's signType
# is not kept either), and every JeePay SDK verifies MD5, so notifications are signed with MD5.
NOTIFY_SIGN_TYPE = "MD5"


def signed_form(data: Mapping[str, object], secret: str, req_time_ms: int) -> dict[str, str]:
    """The notification's fields: ``data`` without null/empty values, ``reqTime``, ``sign``."""
    form = {key: str(value) for key, value in data.items() if value is not None and value != ""}
    form["reqTime"] = str(req_time_ms)
    form["sign"] = signing.sign(form, secret, NOTIFY_SIGN_TYPE)
    return form


def is_acknowledged(http_status: int, body: str) -> bool:
    """The merchant took the notification: 2xx and ``SUCCESS`` (trimmed, any case)."""
    return 200 <= http_status < 300 and body.strip().lower() == "success"


@dataclass(frozen=True)
class Outcome:
    """What one attempt got back."""

    http_status: int  # 0 when no answer came
    latency_ms: int
    excerpt: str
    acknowledged: bool = False
    error: str | None = None
    refused: bool = False  # not sent: the target is a private address


def refused() -> Outcome:
    """The attempt that was not made because the URL points inward."""
    return Outcome(0, 0, "", error=PRIVATE_TARGET, refused=True)


def failed(error: BaseException, started: float) -> Outcome:
    """An attempt that got no answer."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return Outcome(0, _elapsed_ms(started), "", error=text[:EXCERPT_CHARS])


async def post_form(client: httpx.AsyncClient, url: str, form: Mapping[str, str]) -> Outcome:
    """POSTs the form once (no redirects followed) and reports what came back."""
    started = time.monotonic()
    try:
        response = await client.post(url, data=dict(form), timeout=HTTP_TIMEOUT_SECONDS,
                                     follow_redirects=False)
    except httpx.HTTPError as error:
        return failed(error, started)
    body = response.text
    return Outcome(response.status_code, _elapsed_ms(started), body[:EXCERPT_CHARS],
                   acknowledged=is_acknowledged(response.status_code, body))


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
