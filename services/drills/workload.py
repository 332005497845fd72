"""The drill's load: an open model (a fixed arrival rate per stage) of payment journeys, and the
client's book of everything it saw.

Each arrival starts one journey, whatever the journeys already running are doing (k6's
constant-arrival-rate, not a closed loop): a unified order with a new ``mchOrderNo``; then, by a
seeded draw, the payer pays it or fails it on the sandbox page (the sandbox then calls the
gateway back, signed, through Envoy), the merchant closes it, or it is left open; the client
queries it until it shows the state the client expects; and some paid orders are refunded, in
full or in part, and the refund queried. An arrival that finds ``max_in_flight`` journeys
running is dropped and counted: the generator, not the mesh, was the bottleneck.

The book records, per order and refund, the ids and amounts the client got and what the client
knows about its final state. What the client could not learn (an outcome still unknown after
its retries) it asks once the load is over, by ``mchOrderNo`` / ``mchRefundNo``, as a merchant
would; the audit then compares the book with the platform.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from paymesh.services.drills.client import OK, REFUSED, UNKNOWN, DrillClient
from paymesh.services.drills.endpoint import PAY_PATH, REFUND_PATH

# JeePay state codes.
INIT, PAYING, PAID, FAILED, CANCELLED, REFUNDED, CLOSED = range(7)
REFUND_INIT, REFUND_PAYING, REFUND_DONE, REFUND_FAILED, REFUND_CLOSED = range(5)
SETTLE_SECONDS = 15.0  # how long a journey queries for the state it expects
QUERY_PAUSE = 0.3


@dataclass(frozen=True)
class Mix:
    """Shares of the journeys; what is left of pay + fail + close stays open (paying)."""

    pay: float = 0.7
    fail: float = 0.1
    close: float = 0.1
    refund: float = 0.3  # of the paid orders
    full_refund: float = 0.5  # of the refunds
    max_amount: int = 100_000  # fen


@dataclass
class ClientRefund:
    """A refund as the client saw it."""

    mch_refund_no: str
    amount: int
    outcome: str = ""  # ok, refused, unknown, or absent (the platform never had it)
    refund_order_id: str = ""
    state: int | None = None  # the last state an answer showed
    settled_at: float | None = None  # time.time() when the client saw it final

    @property
    def expected(self) -> frozenset[int] | None:
        """Final states the client accepts; None when it does not know the refund exists."""
        if self.outcome != OK:
            return None
        if self.state in (REFUND_DONE, REFUND_FAILED):
            return frozenset({self.state})
        if self.state == REFUND_INIT:  # stored, the channel not asked yet: the sweep closes it
            return frozenset({REFUND_INIT, REFUND_PAYING, REFUND_DONE, REFUND_FAILED,
                              REFUND_CLOSED})
        return frozenset({REFUND_PAYING, REFUND_DONE, REFUND_FAILED})


@dataclass
class ClientOrder:
    """A pay order as the client saw it."""

    mch_order_no: str
    way_code: str
    amount: int
    intent: str  # pay, fail, close or open
    created: str = ""  # ok, refused, unknown, or absent (the platform never had it)
    pay_order_id: str = ""
    order_state: int | None = None  # orderState of the unified order's answer
    pay_data: str = ""
    decision: str = ""  # the payer's click (or the close): ok, refused, unknown
    seen_state: int | None = None  # the last state a query showed
    refunds: list[ClientRefund] = field(default_factory=list)
    asked_at: float = 0.0  # time.monotonic() when the unified order was first sent
    answered_at: float = 0.0  # time.monotonic() when it was answered (or given up)
    settled_at: float | None = None  # time.time() when a query showed the expected state

    def refunded(self) -> int:
        """Fen the client knows were refunded."""
        return sum(r.amount for r in self.refunds if r.state == REFUND_DONE)

    @property
    def expected(self) -> frozenset[int] | None:
        """Final states the client accepts; None when it does not know the order exists."""
        if self.created != OK:
            return None
        if self.order_state in (FAILED, PAID):  # the channel decided at once
            base = self.order_state
        elif self.order_state == INIT:  # the channel was unreachable every time it was asked
            return frozenset({INIT, CLOSED})
        elif self.intent == "pay" and self.decision == OK:
            base = PAID
        elif self.intent == "fail" and self.decision == OK:
            base = FAILED
        elif self.intent == "close" and self.decision == OK:
            return frozenset({CLOSED})
        elif self.intent == "open" and not self.pay_data:
            # The channel's answer never came: it may never have had the order, which the
            # sweep's query then fails.
            return frozenset({PAYING, FAILED})
        elif self.intent == "open":
            return frozenset({PAYING})
        else:  # the payer's click or the close has an unknown outcome or was refused
            return frozenset({PAYING, PAID, FAILED, CLOSED, REFUNDED})
        if base == PAID and any(r.expected is not None and r.state != REFUND_DONE
                                for r in self.refunds):
            return frozenset({PAID, REFUNDED})  # a refund still open may take it all
        if base == PAID and self.refunded() == self.amount:
            return frozenset({REFUNDED})
        return frozenset({base})


@dataclass
class Book:
    """Everything the client saw, by mchOrderNo."""

    orders: dict[str, ClientOrder] = field(default_factory=dict)

    def refunds(self) -> list[tuple[ClientOrder, ClientRefund]]:
        return [(o, r) for o in self.orders.values() for r in o.refunds]


@dataclass
class StageResult:
    """One stage: the rate asked for and what the generator achieved."""

    rate: float
    seconds: float
    started: float  # time.monotonic()
    ended: float = 0.0
    launched: int = 0
    dropped: int = 0
    max_lag: float = 0.0  # how late the generator started an arrival, seconds

    @property
    def achieved(self) -> float:
        elapsed = self.ended - self.started
        return self.launched / elapsed if elapsed > 0 else 0.0


def parse_stages(text: str) -> list[tuple[float, float]]:
    """``"20:30,40:30"`` → [(20.0, 30.0), (40.0, 30.0)]: rate per second, seconds."""
    stages = []
    for piece in text.split(","):
        rate, sep, seconds = piece.strip().partition(":")
        try:
            pair = (float(rate), float(seconds))
        except ValueError:
            raise ValueError(f"a stage is RATE:SECONDS, got {piece!r}") from None
        if not sep or not (0 < pair[0] <= 10_000 and 0 < pair[1] <= 86_400):
            raise ValueError(f"a stage is RATE:SECONDS with a positive rate and duration, "
                             f"got {piece!r}")
        stages.append(pair)
    if not stages:
        raise ValueError("no stage given")
    return stages


# How the payer pays an order: (client, order, "success" or "fail") → outcome.
Payer = Callable[[DrillClient, ClientOrder, str], Awaitable[str]]


async def pay_on_sandbox_page(client: DrillClient, order: ClientOrder, result: str) -> str:
    """The payer clicks Pay or Fail on the sandbox page; the sandbox calls the gateway back."""
    if not order.pay_data.startswith("http"):
        return REFUSED
    answer = await client.page("pay page", order.pay_data, result)
    return answer.outcome


class Workload:
    """Journeys at a fixed arrival rate, recorded in a book."""

    def __init__(self, client: DrillClient, notify_base: str, *, way_codes: tuple[str, ...],
                 mix: Mix = Mix(), seed: int | None = None, payer: Payer = pay_on_sandbox_page,
                 max_in_flight: int = 2000, label: str = "D") -> None:
        self.client = client
        self.notify_base = notify_base
        self.way_codes = way_codes
        self.mix = mix
        self.seed = secrets.randbits(32) if seed is None else seed
        self.random = random.Random(self.seed)
        self.payer = payer
        self.max_in_flight = max_in_flight
        self.book = Book()
        self.stages: list[StageResult] = []
        self._prefix = f"{label}{secrets.token_hex(3).upper()}"
        self._count = 0
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, stages: list[tuple[float, float]]) -> None:
        """Every stage in turn at its rate; returns once the last arrival is launched."""
        loop = asyncio.get_running_loop()
        for rate, seconds in stages:
            stage = StageResult(rate, seconds, time.monotonic())
            self.stages.append(stage)
            began = loop.time()
            for index in range(int(rate * seconds)):
                due = began + index / rate
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())
                stage.max_lag = max(stage.max_lag, loop.time() - due)
                if len(self._running) >= self.max_in_flight:
                    stage.dropped += 1
                    continue
                stage.launched += 1
                task = asyncio.create_task(self._journey(self._new_order()))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            if began + seconds > loop.time():
                await asyncio.sleep(began + seconds - loop.time())
            stage.ended = time.monotonic()

    async def drain(self, timeout: float) -> int:
        """Waits for running journeys (at most ``timeout`` s); how many were still running."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=timeout)
        left = len(self._running)
        for task in list(self._running):
            task.cancel()
        return left

    def _new_order(self) -> ClientOrder:
        self._count += 1
        draw, mix = self.random.random(), self.mix
        intent = ("pay" if draw < mix.pay else "fail" if draw < mix.pay + mix.fail
                  else "close" if draw < mix.pay + mix.fail + mix.close else "open")
        order = ClientOrder(f"{self._prefix}{self._count:07d}",
                            self.random.choice(self.way_codes),
                            self.random.randint(1, mix.max_amount), intent)
        self.book.orders[order.mch_order_no] = order
        return order

    async def _journey(self, order: ClientOrder) -> None:
        if not await self._create(order):
            return
        if order.order_state in (INIT, FAILED):
            return
        if order.intent in ("pay", "fail") and order.order_state == PAYING:
            order.decision = await self.payer(self.client, order,
                                              "success" if order.intent == "pay" else "fail")
        elif order.intent == "close" and order.order_state == PAYING:
            closed = await self.client.merchant("close", "/api/pay/close",
                                                {"payOrderId": order.pay_order_id})
            order.decision = closed.outcome
        wanted = order.expected or frozenset()
        await self._query_until(order, wanted)
        if (order.seen_state == PAID and order.intent == "pay"
                and self.random.random() < self.mix.refund):
            await self._refund(order)

    async def _create(self, order: ClientOrder) -> bool:
        params = {"mchOrderNo": order.mch_order_no, "wayCode": order.way_code,
                  "amount": order.amount, "currency": "cny", "subject": "drill",
                  "body": f"drill order {order.mch_order_no}",
                  "notifyUrl": self.notify_base + PAY_PATH}
        order.asked_at = time.monotonic()
        deadline = order.asked_at + self.client.retry_for
        while True:
            answer = await self.client.merchant("unified order", "/api/pay/unifiedOrder", params)
            order.answered_at = time.monotonic()
            order.created = answer.outcome
            if not answer.ok:
                return False
            order.pay_order_id = str(answer.data.get("payOrderId", ""))
            order.order_state = int(answer.data.get("orderState", -1))
            order.pay_data = str(answer.data.get("payData") or "")
            # INIT: no channel could be reached; the same request drives the order again.
            if order.order_state != INIT or time.monotonic() > deadline:
                return True
            await asyncio.sleep(1.0)

    async def _query_until(self, order: ClientOrder, wanted: frozenset[int]) -> None:
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            answer = await self.client.merchant("query", "/api/pay/query",
                                                {"payOrderId": order.pay_order_id})
            if answer.ok:
                order.seen_state = int(answer.data.get("state", -1))
            if order.seen_state in wanted:
                order.settled_at = time.time()
                return
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(QUERY_PAUSE)

    async def _refund(self, order: ClientOrder) -> None:
        full = self.random.random() < self.mix.full_refund or order.amount == 1
        amount = order.amount if full else self.random.randint(1, order.amount - 1)
        refund = ClientRefund(f"{order.mch_order_no}R1", amount)
        order.refunds.append(refund)
        answer = await self.client.merchant("refund", "/api/refund/refundOrder", {
            "payOrderId": order.pay_order_id, "mchRefundNo": refund.mch_refund_no,
            "refundAmount": amount, "currency": "cny", "refundReason": "drill",
            "notifyUrl": self.notify_base + REFUND_PATH})
        refund.outcome = answer.outcome
        if not answer.ok:
            return
        refund.refund_order_id = str(answer.data.get("refundOrderId", ""))
        refund.state = int(answer.data.get("state", -1))
        deadline = time.monotonic() + SETTLE_SECONDS
        while refund.state not in (REFUND_DONE, REFUND_FAILED) and time.monotonic() < deadline:
            await asyncio.sleep(QUERY_PAUSE * 3)
            queried = await self.client.merchant("refund query", "/api/refund/query",
                                                 {"refundOrderId": refund.refund_order_id})
            if queried.ok:
                refund.state = int(queried.data.get("state", -1))
        if refund.state in (REFUND_DONE, REFUND_FAILED):
            refund.settled_at = time.time()
        if refund.state == REFUND_DONE:
            await self._query_until(order, order.expected or frozenset())

    async def resolve_unknowns(self) -> int:
        """Asks, by the merchant's own numbers, about every order and refund whose outcome the
        client never learned (no answer after its retries, or a journey the drain had to
        cancel mid-call); returns how many it resolved."""
        resolved = 0
        for order in self.book.orders.values():
            if order.created in ("", UNKNOWN):
                answer = await self.client.merchant("query", "/api/pay/query",
                                                    {"mchOrderNo": order.mch_order_no})
                if answer.ok:
                    order.created = OK
                    order.pay_order_id = str(answer.data.get("payOrderId", ""))
                    order.seen_state = order.order_state = int(answer.data.get("state", -1))
                    order.intent = "open" if order.order_state == PAYING else order.intent
                    resolved += 1
                elif answer.outcome == REFUSED:  # "not found": never created
                    order.created = "absent"
                    resolved += 1
            for refund in order.refunds:
                if refund.outcome in ("", UNKNOWN):
                    answer = await self.client.merchant("refund query", "/api/refund/query",
                                                        {"mchRefundNo": refund.mch_refund_no})
                    if answer.ok:
                        refund.outcome = OK
                        refund.refund_order_id = str(answer.data.get("refundOrderId", ""))
                        refund.state = int(answer.data.get("state", -1))
                        resolved += 1
                    elif answer.outcome == REFUSED:
                        refund.outcome = "absent"
                        resolved += 1
        return resolved
