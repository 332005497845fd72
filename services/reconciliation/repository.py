"""Queries over the reconciliation database, one session (one transaction) at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from paymesh.services.reconciliation.models import (
    BatchState,
    MatchedAhead,
    MistakeState,
    PoolEntry,
    PoolState,
    ReconBatch,
    ReconMistake,
)

_OPEN_FLAG = case((ReconMistake.handle_state != MistakeState.HANDLED, 1), else_=0)


class ReconRepository:
    """Reads and writes batches, mistakes, pool entries and matched-ahead keys."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # batches

    async def batch(self, batch_id: str, lock: bool = False) -> ReconBatch | None:
        """The batch read afresh (locked FOR UPDATE when asked), or None."""
        query = (select(ReconBatch).where(ReconBatch.batch_id == batch_id)
                 .execution_options(populate_existing=True))
        if lock:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def batch_of(self, config_key: str, bill_date: str) -> ReconBatch | None:
        """The batch of (config, date) read afresh, or None."""
        query = (select(ReconBatch).where(ReconBatch.channel_config_key == config_key,
                                          ReconBatch.bill_date == bill_date)
                 .execution_options(populate_existing=True))
        return (await self._session.scalars(query)).one_or_none()

    def add(self, *rows: Any) -> None:
        self._session.add_all(rows)

    async def flush(self) -> None:
        await self._session.flush()

    async def take_batch(self, batch_id: str, attempts: int, values: dict[str, Any]) -> bool:
        """Moves the batch to ``values`` only if nobody took it since it had ``attempts``."""
        result = await self._session.execute(
            update(ReconBatch).where(ReconBatch.batch_id == batch_id,
                                     ReconBatch.attempts == attempts)
            .values(**values).execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1

    async def update_leased(self, batch_id: str, token: str, values: dict[str, Any]) -> bool:
        """Updates the batch only while this run (``token``) holds its lease."""
        result = await self._session.execute(
            update(ReconBatch).where(ReconBatch.batch_id == batch_id,
                                     ReconBatch.lease_owner == token,
                                     ReconBatch.state == BatchState.RUNNING)
            .values(**values).execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1

    async def last_sizes(self, config_key: str) -> int | None:
        """Rows (both sides) of the config's latest successful batch, or None."""
        query = (select(ReconBatch.bill_row_count + ReconBatch.platform_record_count)
                 .where(ReconBatch.channel_config_key == config_key,
                        ReconBatch.state == BatchState.SUCCESS)
                 .order_by(ReconBatch.bill_date.desc()).limit(1))
        value = (await self._session.execute(query)).scalar_one_or_none()
        return None if value is None else int(value)

    async def batches_page(self, config_key: str, date_from: str, date_to: str, state: str,
                           after: tuple[str, str] | None, limit: int) -> list[ReconBatch]:
        """Batches newest bill date first, after the cursor (bill_date, batch_id)."""
        query = select(ReconBatch)
        if config_key:
            query = query.where(ReconBatch.channel_config_key == config_key)
        if date_from:
            query = query.where(ReconBatch.bill_date >= date_from)
        if date_to:
            query = query.where(ReconBatch.bill_date <= date_to)
        if state:
            query = query.where(ReconBatch.state == state)
        if after is not None:
            query = query.where(or_(ReconBatch.bill_date < after[0],
                                    and_(ReconBatch.bill_date == after[0],
                                         ReconBatch.batch_id < after[1])))
        query = query.order_by(ReconBatch.bill_date.desc(), ReconBatch.batch_id.desc())
        return list((await self._session.scalars(query.limit(limit))).all())

    async def batch_days(self, config_key: str, since: str, before: str
                         ) -> list[tuple[str, str]]:
        """(bill_date, state) of the config's batches in [since, before), by date."""
        query = (select(ReconBatch.bill_date, ReconBatch.state)
                 .where(ReconBatch.channel_config_key == config_key,
                        ReconBatch.bill_date >= since, ReconBatch.bill_date < before)
                 .order_by(ReconBatch.bill_date))
        return [(str(d), str(s)) for d, s in (await self._session.execute(query)).all()]

    # mistakes

    async def mistake(self, mistake_id: str, lock: bool = False) -> ReconMistake | None:
        query = (select(ReconMistake).where(ReconMistake.mistake_id == mistake_id)
                 .execution_options(populate_existing=True))
        if lock:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def mistake_keys(self, batch_id: str) -> dict[tuple[int, str, str], str]:
        """(kind, record_key, type) → handle state of the batch's mistakes."""
        query = select(ReconMistake.kind, ReconMistake.record_key, ReconMistake.mistake_type,
                       ReconMistake.handle_state).where(ReconMistake.batch_id == batch_id)
        return {(int(k), str(r), str(t)): str(s)
                for k, r, t, s in (await self._session.execute(query)).all()}

    async def insert_mistakes(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._session.execute(insert(ReconMistake), list(rows))

    async def drop_open_mistakes(self, batch_id: str,
                                 keys: Sequence[tuple[int, str, str]]) -> None:
        """Deletes the batch's NOHANDLE mistakes with these keys (not found again)."""
        for kind, record_key, mistake_type in keys:
            await self._session.execute(delete(ReconMistake).where(
                ReconMistake.batch_id == batch_id, ReconMistake.kind == kind,
                ReconMistake.record_key == record_key,
                ReconMistake.mistake_type == mistake_type,
                ReconMistake.handle_state == MistakeState.NOHANDLE))

    async def count_mistakes(self, batch_id: str) -> tuple[int, int]:
        """(all, open) mistakes of a batch."""
        query = (select(func.count(), func.sum(_OPEN_FLAG))
                 .where(ReconMistake.batch_id == batch_id))
        total, opened = (await self._session.execute(query)).one()
        return int(total or 0), int(opened or 0)

    async def open_counts(self, batch_ids: Sequence[str]) -> dict[str, int]:
        """Open (not handled) mistakes per batch."""
        if not batch_ids:
            return {}
        query = (select(ReconMistake.batch_id, func.count())
                 .where(ReconMistake.batch_id.in_(list(batch_ids)),
                        ReconMistake.handle_state.in_(MistakeState.OPEN))
                 .group_by(ReconMistake.batch_id))
        return {str(b): int(n) for b, n in (await self._session.execute(query)).all()}

    async def mistake_summary(self, batch_id: str) -> list[tuple[Any, ...]]:
        """(type, kind, count, open, platform amount, channel amount, platform fee, channel
        fee) per type and kind."""
        query = (select(ReconMistake.mistake_type, ReconMistake.kind, func.count(),
                        func.sum(_OPEN_FLAG), func.sum(ReconMistake.platform_amount),
                        func.sum(ReconMistake.channel_amount),
                        func.sum(func.coalesce(ReconMistake.platform_channel_fee, 0)),
                        func.sum(ReconMistake.channel_fee))
                 .where(ReconMistake.batch_id == batch_id)
                 .group_by(ReconMistake.mistake_type, ReconMistake.kind))
        return [tuple(row) for row in (await self._session.execute(query)).all()]

    async def mistakes_page(self, batch_id: str, mistake_type: str, states: Sequence[str],
                            mch_no: str, after: str, limit: int) -> list[ReconMistake]:
        """Mistakes in id order (the order found), after the cursor."""
        query = select(ReconMistake)
        if batch_id:
            query = query.where(ReconMistake.batch_id == batch_id)
        if mistake_type:
            query = query.where(ReconMistake.mistake_type == mistake_type)
        if states:
            query = query.where(ReconMistake.handle_state.in_(list(states)))
        if mch_no:
            query = query.where(ReconMistake.mch_no == mch_no)
        if after:
            query = query.where(ReconMistake.mistake_id > after)
        query = query.order_by(ReconMistake.mistake_id).limit(limit)
        return list((await self._session.scalars(query)).all())

    async def move_mistake(self, mistake_id: str, from_state: str, values: dict[str, Any]
                           ) -> bool:
        """Updates the mistake only if it still is in ``from_state``."""
        result = await self._session.execute(
            update(ReconMistake).where(ReconMistake.mistake_id == mistake_id,
                                       ReconMistake.handle_state == from_state)
            .values(**values).execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1

    async def blocked_merchants(self) -> list[tuple[str, int, str]]:
        """(mch_no, open mistakes, earliest bill date) of merchants with open mistakes."""
        query = (select(ReconMistake.mch_no, func.count(), func.min(ReconMistake.bill_date))
                 .where(ReconMistake.handle_state.in_(MistakeState.OPEN),
                        ReconMistake.mch_no != "")
                 .group_by(ReconMistake.mch_no).order_by(ReconMistake.mch_no))
        return [(str(m), int(n), str(d)) for m, n, d in (await self._session.execute(query)).all()]

    # the carry-over pool

    @staticmethod
    def _open_for(config_key: str, batch_id: str) -> Any:
        """Pool entries this batch sees: waiting, or closed by an earlier run of itself."""
        return and_(PoolEntry.channel_config_key == config_key,
                    or_(PoolEntry.state == PoolState.WAITING,
                        PoolEntry.closed_batch_id == batch_id))

    async def pooled(self, config_key: str, batch_id: str, kind: int, keys: Sequence[str]
                     ) -> set[str]:
        query = select(PoolEntry.record_key).where(
            self._open_for(config_key, batch_id), PoolEntry.kind == kind,
            PoolEntry.record_key.in_(list(keys)))
        return {str(k) for k in (await self._session.scalars(query)).all()}

    async def pool_keys(self, config_key: str, kind: int, keys: Sequence[str]) -> set[str]:
        """Which keys have a pool entry in any state."""
        query = select(PoolEntry.record_key).where(
            PoolEntry.channel_config_key == config_key, PoolEntry.kind == kind,
            PoolEntry.record_key.in_(list(keys)))
        return {str(k) for k in (await self._session.scalars(query)).all()}

    async def expiring(self, config_key: str, batch_id: str, through: str, after_id: int,
                       limit: int) -> list[PoolEntry]:
        query = (select(PoolEntry).where(self._open_for(config_key, batch_id),
                                         PoolEntry.origin_date <= through,
                                         PoolEntry.id > after_id)
                 .order_by(PoolEntry.id).limit(limit))
        return list((await self._session.scalars(query)).all())

    async def reopen_pool(self, batch_id: str) -> None:
        """Undoes what an earlier run of the batch did to the pool (it is being redone)."""
        await self._session.execute(
            update(PoolEntry).where(PoolEntry.closed_batch_id == batch_id)
            .values(state=PoolState.WAITING, closed_batch_id=None)
            .execution_options(synchronize_session=False))
        await self._session.execute(
            delete(PoolEntry).where(PoolEntry.origin_batch_id == batch_id,
                                    PoolEntry.state == PoolState.WAITING))
        await self._session.execute(
            delete(MatchedAhead).where(MatchedAhead.batch_id == batch_id))

    async def insert_pool(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._session.execute(insert(PoolEntry), list(rows))

    async def close_pool(self, config_key: str, kind: int, keys: Sequence[str], state: str,
                         batch_id: str) -> None:
        """Marks waiting entries CLEARED or EXPIRED by this batch."""
        if keys:
            await self._session.execute(
                update(PoolEntry).where(PoolEntry.channel_config_key == config_key,
                                        PoolEntry.kind == kind,
                                        PoolEntry.record_key.in_(list(keys)),
                                        PoolEntry.state == PoolState.WAITING)
                .values(state=state, closed_batch_id=batch_id)
                .execution_options(synchronize_session=False))

    async def matched_ahead(self, config_key: str, batch_id: str, kind: int,
                            keys: Sequence[str]) -> set[str]:
        """Which keys another batch matched ahead."""
        query = select(MatchedAhead.record_key).where(
            MatchedAhead.channel_config_key == config_key, MatchedAhead.kind == kind,
            MatchedAhead.batch_id != batch_id, MatchedAhead.record_key.in_(list(keys)))
        return {str(k) for k in (await self._session.scalars(query)).all()}

    async def ahead_keys(self, config_key: str, kind: int, keys: Sequence[str]) -> set[str]:
        query = select(MatchedAhead.record_key).where(
            MatchedAhead.channel_config_key == config_key, MatchedAhead.kind == kind,
            MatchedAhead.record_key.in_(list(keys)))
        return {str(k) for k in (await self._session.scalars(query)).all()}

    async def insert_ahead(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            await self._session.execute(insert(MatchedAhead), list(rows))


def lease_expired(batch: ReconBatch, now: datetime) -> bool:
    """True when a RUNNING batch's run is presumed dead."""
    return batch.lease_until is None or batch.lease_until <= now
