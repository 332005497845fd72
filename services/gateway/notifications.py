"""Merchant notifications (商户通知): which orders are notified, when, and how often.

When: the outbox's ``pay.succeeded``, ``pay.failed``, ``refund.succeeded`` and ``refund.failed``
events. Pay failures are notified too (JeePay only notifies pay success, defect §13 #10). An
order or refund without a notifyUrl gets no record (as in JeePay); one that has one gets exactly
one record per (order id, type), whose signed fields are frozen at creation, so every retry sends
the same bytes. The first attempt is made at once, in the background so a slow merchant never
holds up the outbox.

Schedule (delays after each failed attempt, each scaled by PAYMESH_NOTIFY_SCHEDULE_SCALE):

======================  ===========================================================
attempts 1 to 6         0, 30, 60, 90, 120, 150 s apart — JeePay's (0:00 … 7:30)
attempts 7 to 14        5 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 12 h apart
======================  ===========================================================

14 attempts over about 27 h 52 min; after the last failed one the record is failed (state 3).

Who attempts: the gateway runs a small loop that wakes every second (or earlier, when the next
attempt is due sooner) and starts every due attempt, so notifications are retried even when no
jobs process runs; the jobs process may also call ``deliver_due`` through the RPC. Both are safe
together and across replicas, because an attempt is claimed by a conditional UPDATE first (see
notify_repository). The claim is a short lease (``LEASE``), renewed while the attempt waits for a
slot and is being sent, so a slow merchant keeps its attempt and a crashed replica's attempt is
made again soon: a replica that dies mid-attempt leaves the attempt counted but unlogged, and the
record is due again when the lease ends, within ``LEASE``. A graceful stop gives the attempts it
interrupts back at once (still counted).

What is sent: the order's query data (§4.2; the refund's for a refund), signed, with the state
the event reports. A payment's ``pay.succeeded`` notification says paid (2) with its success time
even when the order was fully refunded (5) before the outbox delivered the event; the refund's
own notification tells the refund.

Resend (operators): a failed record gets one more allowed attempt and is sending again; a sending
record is attempted now (then follows its schedule); a successful record is sent once more
anyway, because merchants do lose acknowledged notifications — it stays successful whatever the
answer, since the merchant did acknowledge it once. Every resend is logged like any attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx

from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import DomainError, NotFound
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.gateway.models import PayOrder, PayOrderState
from paymesh.services.gateway.notify_delivery import Outcome, failed, post_form, refused
from paymesh.services.gateway.notify_delivery import signed_form as build_form
from paymesh.services.gateway.notify_models import (
    NotifyAttempt,
    NotifyOrderType,
    NotifyRecord,
    NotifyState,
)
from paymesh.services.gateway.notify_repository import NotifyRepository
from paymesh.services.gateway.notify_targets import resolves_private
from paymesh.services.gateway.orders import query_data
from paymesh.services.gateway.outbox import (
    PAY_FAILED,
    PAY_SUCCEEDED,
    REFUND_FAILED,
    REFUND_SUCCEEDED,
)
from paymesh.services.gateway.pay_context import PayContextCache
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.refunds import refund_data
from paymesh.services.gateway.repository import PayOrderRepository

log = logging.getLogger(__name__)
SCHEDULE_SECONDS = (30, 60, 90, 120, 150, 300, 600, 1800, 3600, 7200, 14400, 28800, 43200)
ATTEMPT_LIMIT = len(SCHEDULE_SECONDS) + 1
TOPICS = {PAY_SUCCEEDED: NotifyOrderType.PAY, PAY_FAILED: NotifyOrderType.PAY,
          REFUND_SUCCEEDED: NotifyOrderType.REFUND, REFUND_FAILED: NotifyOrderType.REFUND}
LEASE = timedelta(seconds=10)  # renewed every RENEW_SECONDS while the attempt runs
RENEW_SECONDS = LEASE.total_seconds() / 3
IDLE_SECONDS = 1.0
BATCH = 200
CONCURRENCY = 32


def pay_notify_data(order: PayOrder, event: str) -> dict[str, object]:
    """The body of a pay notification: the order's query data in the state ``event`` reports
    (``pay.succeeded``: paid, 2, with its success time, also once refunded; ``pay.failed``:
    failed, 3, with no success time)."""
    data = query_data(order)
    if event == PAY_SUCCEEDED:
        data["state"] = PayOrderState.SUCCESS
    elif event == PAY_FAILED:
        data["state"] = PayOrderState.FAIL
        data["successTime"] = None
    return data


def retry_delay(attempts_made: int, scale: float = 1.0) -> timedelta:
    """How long to wait after the ``attempts_made``-th attempt failed (≥ 1)."""
    index = min(max(attempts_made, 1), len(SCHEDULE_SECONDS)) - 1
    return timedelta(seconds=SCHEDULE_SECONDS[index] * scale)


def next_state(number: int, limit: int, outcome: Outcome,
               delivered_before: bool) -> tuple[int, timedelta | None]:
    """The record's state after attempt ``number`` of ``limit``, and the delay to the next one."""
    if outcome.acknowledged or delivered_before:
        return NotifyState.SUCCESS, None
    if outcome.refused or number >= limit:
        return NotifyState.FAILED, None
    return NotifyState.SENDING, retry_delay(number)


class Notifications:
    """Creates notification records from outbox events and delivers them on schedule."""

    def __init__(self, records: NotifyRepository, orders: PayOrderRepository,
                 refunds: RefundRepository, contexts: PayContextCache, *,
                 schedule_scale: float = 1.0, client: httpx.AsyncClient | None = None,
                 ids: SnowflakeIds | None = None) -> None:
        self._records = records
        self._orders = orders
        self._refunds = refunds
        self._contexts = contexts
        self._scale = schedule_scale
        self._client = client or httpx.AsyncClient(trust_env=False)
        self._ids = ids or SnowflakeIds()
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._in_flight: dict[str, asyncio.Task[bool | None]] = {}
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None

    async def on_event(self, topic: str, order_id: str) -> None:
        """Outbox consumer: creates the record of the order's event once and starts its first
        attempt. A record made before records named their event stands for any event."""
        order_type = TOPICS.get(topic)
        if order_type is None or await self._records.exists(order_id, order_type, topic):
            return
        record = await self._new_record(order_type, order_id, topic)
        if record is not None and await self._records.create(record):
            self._start(record)

    async def _new_record(self, order_type: int, order_id: str, event: str
                          ) -> NotifyRecord | None:
        data: dict[str, object]
        if order_type == NotifyOrderType.PAY:
            order = await self._orders.get(order_id)
            if order is None or not order.notify_url:
                return None
            data, url, mch_order_no = pay_notify_data(order, event), order.notify_url, \
                order.mch_order_no
        else:
            refund = await self._refunds.get(order_id)
            if refund is None or not refund.notify_url:
                return None
            data, url, mch_order_no = refund_data(refund), refund.notify_url, refund.mch_refund_no
        app_id, mch_no = str(data["appId"]), str(data["mchNo"])
        context = await self._contexts.get(app_id)  # raises while the merchant service is down
        if context is None:
            log.warning("no app %s for the notification of %s; not notified", app_id, order_id)
            return None
        now = utc_now()
        form = build_form(data, context.secret, int(now.timestamp() * 1000))
        return NotifyRecord(
            notify_id=f"N{self._ids.next()}", order_id=order_id, order_type=order_type,
            event=event, mch_no=mch_no, app_id=app_id, mch_order_no=mch_order_no, notify_url=url,
            params_json=json.dumps(form, ensure_ascii=False), state=NotifyState.SENDING,
            attempts=0, attempt_limit=ATTEMPT_LIMIT, next_attempt_at=now, created_at=now,
            updated_at=now)

    async def deliver_due(self, limit: int) -> tuple[int, int]:
        """Makes every attempt that is due now (at most ``limit``): (attempted, succeeded)."""
        due = await self._records.due(utc_now(), limit)
        results = await asyncio.gather(*(self._start(record) for record in due))
        return (sum(result is not None for result in results),
                sum(result is True for result in results))

    async def resend(self, notify_id: str) -> NotifyRecord:
        """One extra attempt now, whatever the record's state (see the module docstring)."""
        for _ in range(5):
            record = await self._records.get(notify_id)
            if record is None:
                raise NotFound("NOTIFY_NOT_FOUND", f"notification {notify_id} not found")
            now = utc_now()
            if await self._records.claim_resend(record, now, now + LEASE):
                delivered_before = record.state == NotifyState.SUCCESS
                await self._attempt(record, record.attempts + 1, delivered_before, now + LEASE)
                return await self._records.get(notify_id) or record
            await asyncio.sleep(0.05)  # an attempt was claimed meanwhile: read again
        raise DomainError("NOTIFY_BUSY", f"notification {notify_id} is being attempted; "
                          "retry in a moment")

    def _start(self, record: NotifyRecord) -> asyncio.Task[bool | None]:
        """The record's due attempt as a task; one per record at a time in this process."""
        running = self._in_flight.get(record.notify_id)
        if running is not None:
            return running
        task = asyncio.create_task(self._attempt_due(record), name=f"notify-{record.notify_id}")
        self._in_flight[record.notify_id] = task
        task.add_done_callback(lambda _: self._in_flight.pop(record.notify_id, None))
        return task

    async def _attempt_due(self, record: NotifyRecord) -> bool | None:
        """The scheduled attempt: True/False when made, None when another claimed it."""
        try:
            if record.attempts >= record.attempt_limit:
                await self._records.give_up(record)
                return None
            now = utc_now()
            if not await self._records.claim_due(record, now, now + LEASE):
                return None
            return await self._attempt(record, record.attempts + 1, False, now + LEASE)
        except Exception:  # noqa: BLE001 - a database hiccup: the lease makes it due again
            log.exception("notification %s attempt failed", record.notify_id)
            return None

    async def _attempt(self, record: NotifyRecord, number: int, delivered_before: bool,
                       leased_until: datetime) -> bool:
        """Sends the claimed attempt ``number`` and records what happened."""
        at = utc_now()
        async with self._leased(record.notify_id, number, leased_until):
            async with self._slots:
                outcome = await self._send(record)
        current = await self._records.get(record.notify_id)
        limit = current.attempt_limit if current is not None else record.attempt_limit
        state, delay = next_state(number, limit, outcome, delivered_before)
        attempt = NotifyAttempt(
            notify_id=record.notify_id, attempt=number, at=at, http_status=outcome.http_status,
            latency_ms=outcome.latency_ms, response_excerpt=outcome.excerpt,
            error=outcome.error)
        next_at = None if delay is None else utc_now() + delay * self._scale
        await self._records.finish(attempt, state=state, next_attempt_at=next_at)
        if next_at is not None:
            self._wake.set()
        return outcome.acknowledged

    @contextlib.asynccontextmanager
    async def _leased(self, notify_id: str, number: int, until: datetime
                      ) -> AsyncIterator[None]:
        """Keeps the claim of attempt ``number`` while the body runs; gives it back at once
        when the body is cancelled (the gateway stopping)."""
        lease = [until]

        async def renew() -> None:
            while True:
                await asyncio.sleep(RENEW_SECONDS)
                longer = utc_now() + LEASE
                try:
                    if not await self._records.renew(notify_id, number, lease[0], longer):
                        return  # finished or taken over meanwhile
                    lease[0] = longer
                except Exception:  # noqa: BLE001 - tried again; at worst the lease ends
                    log.exception("notification %s lease could not be renewed", notify_id)

        renewal = asyncio.create_task(renew(), name=f"notify-lease-{notify_id}")
        try:
            yield
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):  # else the lease ends on its own
                await self._records.renew(notify_id, number, lease[0], utc_now())
            raise
        finally:
            renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewal

    async def _send(self, record: NotifyRecord) -> Outcome:
        started = time.monotonic()
        try:
            if await resolves_private(record.notify_url):
                context = await self._contexts.get(record.app_id)
                if context is None or not context.allow_private_notify_url:
                    return refused()
        except (OSError, TimeoutError) as error:
            return failed(error, started)
        form: dict[str, str] = json.loads(record.params_json)
        return await post_form(self._client, record.notify_url, form)

    def start(self) -> None:
        """Starts the retry loop (the gateway's own; see the module docstring)."""
        self._loop = asyncio.create_task(self._run(), name="notifications")

    async def stop(self) -> None:
        tasks = [task for task in (self._loop, *self._in_flight.values()) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._client.aclose()

    async def _run(self) -> None:
        while True:
            wait = IDLE_SECONDS
            try:
                for record in await self._records.due(utc_now(), BATCH):
                    self._start(record)
                next_at = await self._records.next_due_at()
                if next_at is not None:
                    wait = min(IDLE_SECONDS, max(0.02, (next_at - utc_now()).total_seconds()))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
                log.exception("notification loop failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
