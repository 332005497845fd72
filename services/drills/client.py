"""The drill's merchant client: signed calls through Envoy, retried while the outcome is unknown.

A call has three outcomes. ``ok``: HTTP 200 with ``code`` 0. ``refused``: a definite business
or parameter refusal (``code`` 9999 or 11), never retried. ``unknown``: no answer (connection
refused or reset, timeout), an HTTP 5xx from the edge, or ``code`` 10 (a system error): the
request may or may not have been carried out, so it is sent again, re-signed with a new
``reqTime`` (an exact repeat would be refused as a replay) and the same business keys
(``mchOrderNo``, ``mchRefundNo``), which the platform answers idempotently; after ``retry_for``
seconds the outcome stays unknown and the audit resolves it by a query.

Every attempt is recorded with its time, so a drill can tell when errors started and stopped.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from paymesh.services.client.merchant import MerchantCredentials, signed_params

OK, REFUSED, UNKNOWN = "ok", "refused", "unknown"
ATTEMPT_TIMEOUT = 20.0
FIRST_BACKOFF = 0.1
MAX_BACKOFF = 2.0


@dataclass
class OpStats:
    """One operation's figures: latency of answered calls, errors by kind, retries."""

    name: str
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    retries: int = 0
    unknown: int = 0  # calls whose outcome stayed unknown after every retry

    def percentile(self, fraction: float) -> float | None:
        """Latency in ms at ``fraction`` (0.5, 0.99) of the answered calls; None if none."""
        done = sorted(self.latencies)
        if not done:
            return None
        return done[min(len(done) - 1, int(len(done) * fraction))] * 1000


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt: when it ended, which operation, whether it got a definite answer."""

    at: float  # time.monotonic()
    op: str
    ok: bool
    kind: str = ""  # the error kind when not ok


@dataclass
class Stats:
    """Every operation's figures and the attempt log of one drill."""

    ops: dict[str, OpStats] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)

    def of(self, name: str) -> OpStats:
        if name not in self.ops:
            self.ops[name] = OpStats(name)
        return self.ops[name]


@dataclass(frozen=True)
class Answer:
    """The outcome of one logical call (after its retries)."""

    outcome: str  # ok, refused or unknown
    data: dict[str, Any] = field(default_factory=dict)
    msg: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome == OK


class DrillClient:
    """Signed merchant calls and sandbox page clicks, with retries of unknown outcomes."""

    def __init__(self, rest_url: str, credentials: MerchantCredentials, http: httpx.AsyncClient,
                 stats: Stats, retry_for: float = 30.0) -> None:
        self.rest_url = rest_url.rstrip("/")
        self.credentials = credentials
        self.http = http
        self.stats = stats
        self.retry_for = retry_for

    async def merchant(self, op: str, path: str, params: dict[str, Any]) -> Answer:
        """POSTs ``params`` signed to ``path``; see the module docs for the outcomes."""
        async def attempt() -> httpx.Response:
            body = signed_params(self.credentials, params)
            return await self.http.post(self.rest_url + path, json=body,
                                        timeout=ATTEMPT_TIMEOUT)
        return await self._call(op, attempt, envelope=True)

    async def page(self, op: str, url: str, result: str) -> Answer:
        """The payer's click on the sandbox pay page (JSON answer)."""
        async def attempt() -> httpx.Response:
            return await self.http.post(url, data={"result": result},
                                        headers={"accept": "application/json"},
                                        timeout=ATTEMPT_TIMEOUT)
        return await self._call(op, attempt, envelope=False)

    async def post_json(self, op: str, url: str, body: dict[str, Any]) -> Answer:
        """A JSON POST outside the merchant API (a channel simulator's payer control)."""
        async def attempt() -> httpx.Response:
            return await self.http.post(url, json=body, timeout=ATTEMPT_TIMEOUT)
        return await self._call(op, attempt, envelope=False)

    async def _call(self, op: str, attempt: Any, *, envelope: bool) -> Answer:
        stats = self.stats.of(op)
        deadline = time.monotonic() + self.retry_for
        backoff = FIRST_BACKOFF
        while True:
            began = time.monotonic()
            kind, answer = await self._once(attempt, envelope)
            ended = time.monotonic()
            self.stats.attempts.append(Attempt(ended, op, not kind, kind))
            if answer is not None and answer.outcome == OK:
                stats.latencies.append(ended - began)
                return answer
            if answer is not None:  # refused: definite
                stats.refused += 1
                return answer
            stats.errors[kind] += 1
            if ended + backoff > deadline:
                stats.unknown += 1
                return Answer(UNKNOWN, msg=kind)
            stats.retries += 1
            await asyncio.sleep(backoff)
            backoff = min(MAX_BACKOFF, backoff * 2)

    @staticmethod
    async def _once(attempt: Any, envelope: bool) -> tuple[str, Answer | None]:
        """("", answer) for a definite answer, (error kind, None) for an unknown outcome."""
        try:
            response: httpx.Response = await attempt()
        except httpx.TimeoutException:
            return "timeout", None
        except httpx.TransportError as error:
            return f"transport: {type(error).__name__}", None
        if response.status_code >= 500:
            return f"http {response.status_code}", None
        try:
            body = response.json()
        except ValueError:
            return f"http {response.status_code}, not JSON", None
        if not envelope:
            if response.status_code != 200:
                return "", Answer(REFUSED, body if isinstance(body, dict) else {},
                                  str(body)[:200])
            return "", Answer(OK, body)
        code = body.get("code") if isinstance(body, dict) else None
        if code == 0:
            return "", Answer(OK, body.get("data") or {})
        if code == 10 or response.status_code != 200:
            return f"code {code}, http {response.status_code}", None
        return "", Answer(REFUSED, msg=str(body.get("msg", ""))[:200])
