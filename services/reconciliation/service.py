"""Running a batch: claimed under a lease, matched, and its findings written in one transaction.

A batch per (channel config, bill date). RunBatch claims it in a short transaction (inserting it,
or taking it over when it ended ERROR/FAIL, when its lease expired, or when forced), then runs the
matcher outside any transaction while a background task renews the lease, and finally writes
every mistake, pool change and total in ONE transaction guarded by the lease token. A crash
anywhere before that commit leaves the batch RUNNING with nothing else written; once its lease
expires the next RunBatch redoes it. A redo first reopens what the earlier run did to the pool,
keeps the mistakes already being handled or handled, and drops the open ones it does not find
again, so nothing is duplicated (mistakes are unique per batch, record and type).

States: SUCCESS (matched), NOBILL (the channel has no bills: DownloadBill UNIMPLEMENTED), ERROR
(any other refusal or failure of the channel service: BILL_NOT_READY, BILL_MALFORMED,
CHANNEL_UNAVAILABLE), FAIL (the gateway's side or paymesh itself failed). ERROR and FAIL are run
again by the next RunBatch (the scheduler retries them); SUCCESS and NOBILL only when forced.

The run itself is a task of the service, not of the RPC: a caller that stops waiting does not
stop it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.common.db import run_transaction, utc_now
from paymesh.services.common.errors import DomainError, InvalidArgument, reason_of
from paymesh.services.common.ids import SnowflakeIds
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.models import BatchState, ReconBatch
from paymesh.services.reconciliation.peers import (
    ChannelConfig,
    GrpcSources,
    Peers,
    resolve_config,
)
from paymesh.services.reconciliation.repository import ReconRepository, lease_expired
from paymesh.services.reconciliation.writer import write_outcome

log = logging.getLogger(__name__)
LEASE_SECONDS = 60.0
DEFAULT_PARTITIONS = 32  # a config's first batch, before its size is known
SourcesFactory = Callable[[ChannelConfig, str], m.MatchSources]


class LeaseLost(Exception):
    """Another run took the batch over (this one's lease had expired)."""


@dataclass(frozen=True)
class RunResult:
    """The batch as a RunBatch call leaves it, and whether that call ran it."""

    batch: ReconBatch
    ran: bool


@dataclass(frozen=True)
class _Claim:
    batch: ReconBatch
    token: str | None  # set when this call runs the batch


def china_today(now: datetime | None = None) -> date:
    """Today's date in China Standard Time (UTC+8), the bills' calendar."""
    return ((now or utc_now()) + m.CHINA).date()


def parse_bill_date(value: str, field: str = "bill_date") -> str:
    """A "YYYY-MM-DD" date, normalized; InvalidArgument naming the field otherwise."""
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidArgument(field, f"{field} must be a date YYYY-MM-DD, got {value!r}") from None


class BatchService:
    """Runs reconciliation batches of one reconciliation database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], peers: Peers,
                 tmp_root: Path | None = None, lease_seconds: float = LEASE_SECONDS,
                 partitions: int | None = None,
                 sources: SourcesFactory | None = None) -> None:
        self._sessions = sessions
        self._peers = peers
        self._tmp_root = tmp_root
        self._lease = timedelta(seconds=lease_seconds)
        self._partitions = partitions
        self._sources = sources or (lambda config, day: GrpcSources(peers, config, day))
        self._ids = SnowflakeIds()
        self._running: dict[str, asyncio.Task[ReconBatch]] = {}

    async def run_batch(self, config_key: str, bill_date: str, force: bool = False,
                        retry_after_seconds: int = 0) -> RunResult:
        """RunBatch: see the module docs. Waits for the run and returns the batch."""
        if not config_key:
            raise InvalidArgument("channel_config_key", "channel_config_key is required")
        bill_date = parse_bill_date(bill_date)
        if date.fromisoformat(bill_date) > china_today():
            raise InvalidArgument("bill_date", f"bill_date must not be after today (UTC+8), "
                                  f"got {bill_date}")
        if retry_after_seconds < 0:
            raise InvalidArgument("retry_after_seconds", "retry_after_seconds must be ≥ 0")
        config = await resolve_config(self._peers, config_key)
        claim = await self._claim(config, bill_date, force, retry_after_seconds)
        if claim.token is None:
            return RunResult(claim.batch, False)
        task = asyncio.create_task(self._execute(claim.batch.batch_id, claim.token, config,
                                                 bill_date))
        self._running[claim.batch.batch_id] = task
        task.add_done_callback(lambda _: self._running.pop(claim.batch.batch_id, None))
        return RunResult(await asyncio.shield(task), True)

    async def close(self) -> None:
        """Stops runs in flight (their batches stay RUNNING until their lease expires)."""
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)

    async def _claim(self, config: ChannelConfig, bill_date: str, force: bool,
                     retry_after: int) -> _Claim:
        token = secrets.token_hex(16)

        async def work() -> _Claim | None:
            now = utc_now()
            lease = {"state": BatchState.RUNNING, "lease_owner": token,
                     "lease_until": now + self._lease, "started_at": now, "finished_at": None,
                     "error_reason": "", "error_message": "", "updated_at": now,
                     "if_code": config.if_code, "mch_no": config.mch_no}
            async with self._sessions.begin() as session:
                repo = ReconRepository(session)
                batch = await repo.batch_of(config.key, bill_date)
                if batch is None:
                    batch = ReconBatch(batch_id=f"RB{self._ids.next()}",
                                       channel_config_key=config.key, bill_date=bill_date,
                                       attempts=1, created_at=now, **lease)
                    repo.add(batch)
                    await repo.flush()
                    return _Claim(batch, token)
                if not self._may_take(batch, now, force, retry_after):
                    return _Claim(batch, None)
                if not await repo.take_batch(batch.batch_id, batch.attempts,
                                             {**lease, "attempts": batch.attempts + 1}):
                    return None  # another call took it a moment ago: look again
                return _Claim(await repo.batch(batch.batch_id) or batch, token)

        for _ in range(5):
            try:
                claim = await run_transaction(work)
            except IntegrityError:
                continue  # a concurrent call inserted the batch first
            if claim is not None:
                return claim
        raise DomainError("BATCH_RUNNING", f"the batch of {config.key} {bill_date} is being "
                          "claimed by another call; try again", code=grpc.StatusCode.ABORTED)

    @staticmethod
    def _may_take(batch: ReconBatch, now: datetime, force: bool, retry_after: int) -> bool:
        if batch.state == BatchState.RUNNING:
            if not lease_expired(batch, now):
                if force:
                    raise DomainError("BATCH_RUNNING", f"batch {batch.batch_id} is running; "
                                      "force applies once it ends",
                                      code=grpc.StatusCode.FAILED_PRECONDITION)
                return False
            log.warning("batch %s: the run holding it stopped renewing its lease; redoing it",
                        batch.batch_id)
            return True
        if force:
            return True
        if batch.state in BatchState.FINISHED:
            return False
        ended = batch.finished_at or batch.updated_at
        return not (retry_after and ended + timedelta(seconds=retry_after) > now)

    async def _partitions_for(self, config_key: str) -> int:
        if self._partitions is not None:
            return self._partitions
        async with self._sessions() as session:
            rows = await ReconRepository(session).last_sizes(config_key)
        return DEFAULT_PARTITIONS if rows is None else m.estimate_partitions(rows)

    async def _execute(self, batch_id: str, token: str, config: ChannelConfig,
                       bill_date: str) -> ReconBatch:
        keeper = asyncio.create_task(self._keep_lease(batch_id, token))
        outcome: m.MatchOutcome | None = None
        try:
            matcher = m.Matcher(bill_date, self._sources(config, bill_date),
                                PoolView(self._sessions, config.key, batch_id),
                                await self._partitions_for(config.key), self._tmp_root,
                                config_key=config.key)
            try:
                outcome = await matcher.run()
            except m.SourceFailed as failure:
                state, reason, message = _classify(failure)
                log.warning("batch %s (%s %s) ended %s: %s %s", batch_id, config.key, bill_date,
                            state, reason, message)
                return await self._end(batch_id, token, state, reason, message)
            except Exception as error:  # noqa: BLE001 - recorded on the batch, retried later
                log.exception("batch %s failed", batch_id)
                return await self._end(batch_id, token, BatchState.FAIL, "INTERNAL",
                                       f"{type(error).__name__}: {error}")
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            return await self._commit(batch_id, token, config, bill_date, outcome)
        finally:
            keeper.cancel()
            if outcome is not None:
                outcome.cleanup()

    async def _keep_lease(self, batch_id: str, token: str) -> None:
        interval = self._lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            try:
                async with self._sessions.begin() as session:
                    kept = await ReconRepository(session).update_leased(
                        batch_id, token, {"lease_until": utc_now() + self._lease})
                if not kept:
                    log.warning("batch %s: lease lost to another run", batch_id)
                    return
            except Exception:  # noqa: BLE001 - the next renewal tries again
                log.exception("batch %s: renewing the lease failed", batch_id)

    async def _end(self, batch_id: str, token: str, state: str, reason: str,
                   message: str) -> ReconBatch:
        now = utc_now()

        async def work() -> ReconBatch:
            async with self._sessions.begin() as session:
                repo = ReconRepository(session)
                await repo.update_leased(batch_id, token, {
                    "state": state, "error_reason": reason[:64], "error_message": message[:512],
                    "lease_owner": None, "lease_until": None, "finished_at": now,
                    "updated_at": now})
                batch = await repo.batch(batch_id)
                assert batch is not None
                return batch

        return await run_transaction(work)

    async def _commit(self, batch_id: str, token: str, config: ChannelConfig, bill_date: str,
                      outcome: m.MatchOutcome) -> ReconBatch:
        async def work() -> ReconBatch:
            async with self._sessions.begin() as session:
                repo = ReconRepository(session)
                batch = await repo.batch(batch_id, lock=True)
                if batch is None or batch.lease_owner != token \
                        or batch.state != BatchState.RUNNING:
                    raise LeaseLost(batch_id)
                await write_outcome(repo, batch, config, outcome, self._ids)
                total, _ = await repo.count_mistakes(batch_id)
                stats, now = outcome.stats, utc_now()
                await repo.update_leased(batch_id, token, {
                    "state": BatchState.SUCCESS, "lease_owner": None, "lease_until": None,
                    "finished_at": now, "updated_at": now, "mistake_count": total,
                    **_totals(stats)})
                done = await repo.batch(batch_id)
                assert done is not None
                return done

        began = time.perf_counter()
        try:
            batch = await run_transaction(work)
        except LeaseLost:
            log.warning("batch %s: lease lost before commit; the run that took over wins",
                        batch_id)
            async with self._sessions() as session:
                current = await ReconRepository(session).batch(batch_id)
            assert current is not None
            return current
        stats = outcome.stats
        log.info("batch %s (%s %s): %d bill rows, %d platform records, %d matched, %d mistakes, "
                 "pool +%d -%d expired %d, %d rows of other configs; streams %.2f s (bill "
                 "%.2f s, platform %.2f s), join %.2f s, commit %.2f s", batch_id, config.key,
                 bill_date, stats.bill_rows, stats.platform_records, stats.matched,
                 stats.mistakes, stats.pool_added, stats.pool_cleared, stats.pool_expired,
                 stats.other_configs, stats.spill_seconds, stats.bill_seconds,
                 stats.platform_seconds, stats.join_seconds, time.perf_counter() - began)
        return batch


def _totals(stats: m.MatchStats) -> dict[str, int]:
    p, c = stats.platform, stats.channel
    return {"platform_pay_count": p.pay_count, "platform_pay_amount": p.pay_amount,
            "platform_refund_count": p.refund_count, "platform_refund_amount": p.refund_amount,
            "platform_fee": p.fee, "channel_pay_count": c.pay_count,
            "channel_pay_amount": c.pay_amount, "channel_refund_count": c.refund_count,
            "channel_refund_amount": c.refund_amount, "channel_fee": c.fee,
            "matched_count": stats.matched, "bill_row_count": stats.bill_rows,
            "platform_record_count": stats.platform_records, "pool_added": stats.pool_added,
            "pool_cleared": stats.pool_cleared, "pool_expired": stats.pool_expired}


def _classify(failure: m.SourceFailed) -> tuple[str, str, str]:
    """(state, reason, message) of a batch whose source failed."""
    error = failure.error
    if isinstance(error, grpc.aio.AioRpcError):
        reason = reason_of(error) or error.code().name
        message = error.details() or ""
        if failure.side == "channel":
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                return BatchState.NOBILL, reason, message
            return BatchState.ERROR, reason, message
        return BatchState.FAIL, f"GATEWAY_{reason}"[:64], message
    state = BatchState.ERROR if failure.side == "channel" else BatchState.FAIL
    return state, "INTERNAL", f"{failure.side}: {type(error).__name__}: {error}"


class PoolView:
    """The matcher's CarryOver over the database, as one batch sees it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], config_key: str,
                 batch_id: str) -> None:
        self._sessions = sessions
        self._config = config_key
        self._batch = batch_id

    async def _by_kind(self, keys: Sequence[tuple[int, str]], query: Any
                       ) -> set[tuple[int, str]]:
        found: set[tuple[int, str]] = set()
        async with self._sessions() as session:
            repo = ReconRepository(session)
            for kind in (m.PAY, m.REFUND):
                wanted = [key for k, key in keys if k == kind]
                if wanted:
                    found |= {(kind, key) for key in await query(repo, kind, wanted)}
        return found

    async def pooled(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        return await self._by_kind(keys, lambda repo, kind, wanted: repo.pooled(
            self._config, self._batch, kind, wanted))

    async def matched_ahead(self, keys: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        return await self._by_kind(keys, lambda repo, kind, wanted: repo.matched_ahead(
            self._config, self._batch, kind, wanted))

    async def expiring(self, through: str) -> AsyncIterator[list[m.Row]]:
        after = 0
        while True:
            async with self._sessions() as session:
                entries = await ReconRepository(session).expiring(
                    self._config, self._batch, through, after, 1000)
            if not entries:
                return
            after = entries[-1].id
            yield [(e.record_key, e.kind, e.platform_state, e.amount, e.fee_amount,
                    e.channel_fee, e.success_time, e.pay_order_id, e.mch_no, e.currency,
                    e.record_config_key, e.channel_order_no) for e in entries]

