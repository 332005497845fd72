"""Notification persistence. Every attempt is claimed by one conditional UPDATE.

A claim moves ``attempts`` forward by one and ``next_attempt_at`` to the end of a lease, but only
while the record still shows the attempt count (and, for a scheduled attempt, the due time) the
claimer read. Two gateway replicas that read the same due record therefore cannot both send it:
the second UPDATE matches no row. The claimer renews its lease by another UPDATE guarded by the
attempt number and the lease it holds, so a renewal never touches a finished attempt. The outcome
is written with the attempt's log row in one transaction, again guarded by the attempt number, so
a stale attempt never overwrites a newer one.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common.db import sessions, utc_now
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.gateway.notify_models import NotifyAttempt, NotifyRecord, NotifyState

Cursor = tuple[datetime, str]


def encode_cursor(record: NotifyRecord) -> str:
    """The opaque page token that resumes a listing after this record."""
    raw = json.dumps([record.created_at.isoformat(), record.notify_id]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_cursor(token: str) -> Cursor:
    """The position an ``encode_cursor`` token names; anything else is refused."""
    try:
        created_at, notify_id = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        return datetime.fromisoformat(created_at), str(notify_id)
    except (ValueError, TypeError, binascii.Error, UnicodeEncodeError):
        raise InvalidArgument("page.page_token", "page_token is not a valid cursor") from None


class NotifyRepository:
    """Records, claims and the attempt log of merchant notifications."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    async def create(self, record: NotifyRecord) -> bool:
        """Stores a new record; False when (order_id, order_type, event) already has one."""
        try:
            async with self._sessions.begin() as session:
                session.add(record)
            return True
        except IntegrityError:
            return False

    async def exists(self, order_id: str, order_type: int, event: str) -> bool:
        async with self._sessions() as session:
            found = await session.execute(
                select(NotifyRecord.notify_id)
                .where(NotifyRecord.order_id == order_id, NotifyRecord.order_type == order_type,
                       NotifyRecord.event.in_((event, ""))))
            return found.first() is not None

    async def get(self, notify_id: str) -> NotifyRecord | None:
        async with self._sessions() as session:
            return await session.get(NotifyRecord, notify_id)

    async def due(self, now: datetime, limit: int) -> Sequence[NotifyRecord]:
        """Records still sending whose next attempt is due, earliest first."""
        async with self._sessions() as session:
            return (await session.execute(
                select(NotifyRecord)
                .where(NotifyRecord.state == NotifyState.SENDING,
                       NotifyRecord.next_attempt_at <= now)
                .order_by(NotifyRecord.next_attempt_at).limit(limit))).scalars().all()

    async def next_due_at(self) -> datetime | None:
        """When the earliest record still sending is due."""
        async with self._sessions() as session:
            value: datetime | None = (await session.execute(
                select(func.min(NotifyRecord.next_attempt_at))  # typed: UTC-aware datetime
                .where(NotifyRecord.state == NotifyState.SENDING))).scalar_one_or_none()
        return value

    async def claim_due(self, record: NotifyRecord, now: datetime, lease_until: datetime) -> bool:
        """Takes the record's next scheduled attempt; False when somebody else took it."""
        return await self._claim(
            [NotifyRecord.state == NotifyState.SENDING, NotifyRecord.next_attempt_at <= now,
             NotifyRecord.attempts < NotifyRecord.attempt_limit],
            record, now, lease_until, {})

    async def claim_resend(self, record: NotifyRecord, now: datetime,
                           lease_until: datetime) -> bool:
        """Takes one extra attempt now, whatever the schedule says (see Notifications.resend)."""
        limit: Any = (record.attempt_limit + 1 if record.state != NotifyState.SENDING
                      else max(record.attempt_limit, record.attempts + 1))
        state = NotifyState.SUCCESS if record.state == NotifyState.SUCCESS else NotifyState.SENDING
        return await self._claim([NotifyRecord.state == record.state], record, now, lease_until,
                                 {"attempt_limit": limit, "state": state})

    async def _claim(self, guards: list[Any], record: NotifyRecord, now: datetime,
                     lease_until: datetime, extra: dict[str, Any]) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(NotifyRecord)
                .where(NotifyRecord.notify_id == record.notify_id,
                       NotifyRecord.attempts == record.attempts, *guards)
                .values(attempts=NotifyRecord.attempts + 1, next_attempt_at=lease_until,
                        last_attempt_at=now, updated_at=now, **extra))
            return bool(result.rowcount)

    async def renew(self, notify_id: str, attempt: int, lease_until: datetime,
                    new_until: datetime) -> bool:
        """Moves the lease of claimed attempt ``attempt`` from ``lease_until`` to ``new_until``
        (earlier gives it back); False when the attempt has finished or another was claimed."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(NotifyRecord)
                .where(NotifyRecord.notify_id == notify_id, NotifyRecord.attempts == attempt,
                       NotifyRecord.next_attempt_at == lease_until)
                .values(next_attempt_at=new_until))
            return bool(result.rowcount)

    async def finish(self, attempt: NotifyAttempt, **changes: Any) -> bool:
        """Logs the attempt and applies its outcome, unless a newer attempt was claimed since."""
        changes["updated_at"] = utc_now()
        async with self._sessions.begin() as session:
            session.add(attempt)
            result = await session.execute(
                update(NotifyRecord)
                .where(NotifyRecord.notify_id == attempt.notify_id,
                       NotifyRecord.attempts == attempt.attempt)
                .values(**changes))
            return bool(result.rowcount)

    async def give_up(self, record: NotifyRecord) -> bool:
        """Marks failed a record whose last claimed attempt never reported (a crashed replica)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(NotifyRecord)
                .where(NotifyRecord.notify_id == record.notify_id,
                       NotifyRecord.state == NotifyState.SENDING,
                       NotifyRecord.attempts == record.attempts,
                       NotifyRecord.attempts >= NotifyRecord.attempt_limit)
                .values(state=NotifyState.FAILED, next_attempt_at=None, updated_at=utc_now()))
            return bool(result.rowcount)

    async def page(self, order_id: str, state: int, limit: int,
                   after: Cursor | None) -> Sequence[NotifyRecord]:
        """Newest first; ``order_id``/``state`` filter when set (empty / 0 for all)."""
        query = select(NotifyRecord)
        if order_id:
            query = query.where(NotifyRecord.order_id == order_id)
        if state:
            query = query.where(NotifyRecord.state == state)
        if after is not None:
            created_at, notify_id = after
            query = query.where(or_(NotifyRecord.created_at < created_at,
                                    and_(NotifyRecord.created_at == created_at,
                                         NotifyRecord.notify_id < notify_id)))
        query = query.order_by(NotifyRecord.created_at.desc(),
                               NotifyRecord.notify_id.desc()).limit(limit)
        async with self._sessions() as session:
            return (await session.execute(query)).scalars().all()

    async def attempts_of(self, notify_id: str) -> Sequence[NotifyAttempt]:
        """The attempt log of one record, oldest first."""
        async with self._sessions() as session:
            return (await session.execute(
                select(NotifyAttempt).where(NotifyAttempt.notify_id == notify_id)
                .order_by(NotifyAttempt.attempt, NotifyAttempt.id))).scalars().all()
