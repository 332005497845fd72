"""RunBatch over the real reconciliation database with fake peers: one mistake of every type
recorded exactly, idempotence and force, concurrent calls, crash safety under the lease, failure
states, and the carry-over pool across days."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import func, select, update

from paymesh.services.common.db import utc_now
from paymesh.services.common.errors import DomainError, InvalidArgument, NotFound
from paymesh.services.reconciliation import matcher as m
from paymesh.services.reconciliation.models import (
    MatchedAhead,
    PoolEntry,
    ReconBatch,
    ReconMistake,
)
from tests.reconciliation.conftest import (
    CONFIG_KEY,
    FAILED,
    PROCESSING,
    Recon,
    pay,
    refund,
    row,
    rpc_error,
)

DAY = "2024-06-01"


def fixture_day(recon: Recon) -> set[tuple[str, int, str]]:
    """A hand-built day with one mistake of every type (payments and refunds); the expected set."""
    gateway, channel = recon.fakes.gateway, recon.fakes.channel
    gateway.add(
        pay("P01", 1000, channel_fee=6), pay("P03", 3000, state=6, paid=False),
        pay("P04", 4000), pay("P05", 5000), pay("P06", 6000), pay("P07", 7000, channel_fee=42),
        refund("R01", "P01", 100), refund("R03", "P01", 300, state=1),
        refund("R04", "P01", 400), refund("R05", "P05", 500), refund("R06", "P06", 600),
        # Earlier days: waiting in the pool (put there by those days' batches below).
        pay("P00", 900, day="2024-05-29"), refund("R00", "P00", 90, day="2024-05-29"))
    channel.bills[DAY] = [
        row("P01", 1000, fee=6), row("P03", 3000), row("P04", 4000, status=FAILED),
        row("P05", 5100), row("P06", 5900), row("P07", 7000, fee=43), row("P99", 990),
        row("P01", 100, refund_order_id="R01"), row("P01", 300, refund_order_id="R03"),
        row("P01", 400, refund_order_id="R04", status=FAILED),
        row("P05", 600, refund_order_id="R05"), row("P06", 500, refund_order_id="R06"),
        row("P01", 50, refund_order_id="R99")]
    return {(m.BANK_MISS, 1, "P00"), (m.BANK_MISS, 2, "R00"), (m.PLATFORM_MISS, 1, "P99"),
            (m.PLATFORM_MISS, 2, "R99"), (m.SHORT_STATUS, 1, "P03"), (m.SHORT_STATUS, 2, "R03"),
            (m.OVER_STATUS, 1, "P04"), (m.OVER_STATUS, 2, "R04"), (m.SHORT_CASH, 1, "P05"),
            (m.SHORT_CASH, 2, "R05"), (m.OVER_CASH, 1, "P06"), (m.OVER_CASH, 2, "R06"),
            (m.FEE_MISMATCH, 1, "P07")}


async def run_days(recon: Recon, *days: str) -> None:
    for day in days:
        result = await recon.batches.run_batch(CONFIG_KEY, day)
        assert result.batch.state == "SUCCESS", result.batch.error_message


async def found(recon: Recon, batch_id: str | None = None) -> set[tuple[str, int, str]]:
    rows, _ = await recon.reports.mistakes(batch_id or "", "", [], "", 100, "")
    return {(r.mistake_type, r.kind, r.record_key) for r in rows}


async def count(recon: Recon, model: type, *where: object) -> int:
    async with recon.batches._sessions() as session:  # noqa: SLF001 - test inspection
        return int((await session.execute(select(func.count()).select_from(model)
                                          .where(*where))).scalar_one())


async def test_a_fixture_with_one_mistake_of_every_type_finds_exactly_those(recon: Recon) -> None:
    expected = fixture_day(recon)
    await run_days(recon, "2024-05-29", "2024-05-30", "2024-05-31")  # pools P00 and R00
    result = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert result.ran and result.batch.state == "SUCCESS"
    assert await found(recon, result.batch.batch_id) == expected
    batch = result.batch
    assert (batch.mistake_count, batch.matched_count) == (len(expected), 2)  # P01, R01
    assert (batch.bill_row_count, batch.platform_record_count) == (13, 11)
    assert (batch.channel_pay_count, batch.channel_pay_amount) == (6, 1000 + 3000 + 5100 +
                                                                   5900 + 7000 + 990)
    assert (batch.platform_pay_count, batch.platform_pay_amount) == (5, 23000)
    assert (batch.platform_refund_count, batch.platform_refund_amount) == (4, 1600)
    assert (batch.pool_added, batch.pool_expired, batch.pool_cleared) == (0, 2, 0)
    view, summary = await recon.reports.summary(batch.batch_id)
    assert view.open_mistakes == len(expected)
    by_type = {(s.mistake_type, s.kind): s for s in summary}
    assert by_type[(m.SHORT_CASH, 1)].platform_amount == 5000
    assert by_type[(m.SHORT_CASH, 1)].channel_amount == 5100
    assert by_type[(m.BANK_MISS, 2)].platform_amount == 90
    assert sum(s.count for s in summary) == len(expected)


async def test_a_finished_batch_is_returned_and_force_redoes_it_without_duplicates(
        recon: Recon) -> None:
    expected = fixture_day(recon)
    await run_days(recon, "2024-05-29")
    first = await recon.batches.run_batch(CONFIG_KEY, DAY)
    again = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert not again.ran and again.batch.batch_id == first.batch.batch_id
    assert recon.fakes.channel.calls.count(DAY) == 1
    # An operator handles one mistake; the channel's bill gets corrected for another.
    p05 = next(r for r in (await recon.reports.mistakes("", m.SHORT_CASH, [], "", 10, ""))[0]
               if r.record_key == "P05")
    await recon.handling.handle(p05.mistake_id, "PLATFORM_AUTHORITATIVE", "ops", "checked")
    recon.fakes.channel.bills[DAY][4] = row("P06", 6000)  # no longer an over-cash mistake
    forced = await recon.batches.run_batch(CONFIG_KEY, DAY, force=True)
    assert forced.ran and forced.batch.attempts == 2 and forced.batch.state == "SUCCESS"
    assert await found(recon, forced.batch.batch_id) == expected - {(m.OVER_CASH, 1, "P06")}
    kept = await recon.reports.mistake(p05.mistake_id)
    assert kept.handle_state == "HANDLED"  # the handled one is kept as it was
    assert await count(recon, ReconMistake) == len(expected) - 1
    assert await count(recon, PoolEntry, PoolEntry.state == "EXPIRED") == 2


async def test_concurrent_calls_run_the_batch_once(recon: Recon) -> None:
    fixture_day(recon)
    results = await asyncio.gather(*(recon.batches.run_batch(CONFIG_KEY, DAY)
                                     for _ in range(4)))
    assert sum(r.ran for r in results) == 1
    assert len({r.batch.batch_id for r in results}) == 1
    assert recon.fakes.channel.calls.count(DAY) == 1
    assert await count(recon, ReconBatch) == 1


async def test_a_batch_left_running_is_redone_after_its_lease_without_duplicates(
        recon: Recon) -> None:
    expected = fixture_day(recon)
    await run_days(recon, "2024-05-29")
    done = await recon.batches.run_batch(CONFIG_KEY, DAY)
    mistakes_before = await count(recon, ReconMistake)
    pool_before = await count(recon, PoolEntry)
    # As if a run had crashed: RUNNING, its lease still alive → not run again.
    async with recon.batches._sessions.begin() as session:  # noqa: SLF001
        await session.execute(update(ReconBatch).values(
            state="RUNNING", lease_owner="dead-process",
            lease_until=utc_now() + timedelta(seconds=30)))
    waiting = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert not waiting.ran and waiting.batch.state == "RUNNING"
    with pytest.raises(DomainError) as refused:
        await recon.batches.run_batch(CONFIG_KEY, DAY, force=True)
    assert refused.value.reason == "BATCH_RUNNING"
    # The lease expires: the next call redoes it.
    async with recon.batches._sessions.begin() as session:  # noqa: SLF001
        await session.execute(update(ReconBatch).values(lease_until=utc_now()
                                                        - timedelta(seconds=1)))
    redone = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert redone.ran and redone.batch.state == "SUCCESS" and redone.batch.attempts == 2
    assert redone.batch.batch_id == done.batch.batch_id
    assert await found(recon) == expected
    assert await count(recon, ReconMistake) == mistakes_before
    assert await count(recon, PoolEntry) == pool_before


async def test_a_run_that_dies_mid_way_writes_nothing_and_is_redone(recon: Recon) -> None:
    expected = fixture_day(recon)
    await run_days(recon, "2024-05-29")
    stop = asyncio.Event()

    class Stuck:
        """A gateway stream that never ends (the process will be 'killed' meanwhile)."""

        def StreamDayRecords(self, request: object, timeout: float | None = None) -> object:
            async def forever():  # type: ignore[no-untyped-def]
                await stop.wait()
                yield  # pragma: no cover
            return forever()

        def __getattr__(self, name: str) -> object:
            return getattr(recon.fakes.gateway, name)

    real = recon.batches._peers  # noqa: SLF001
    recon.batches._sources = lambda config, day: m_sources(real, Stuck(), config, day)  # noqa: SLF001
    runner = asyncio.create_task(recon.batches.run_batch(CONFIG_KEY, DAY))
    await asyncio.sleep(0.3)
    await recon.batches.close()  # the process dies: its run is cancelled mid-way
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert await count(recon, ReconMistake, ReconMistake.bill_date == DAY) == 0
    async with recon.batches._sessions.begin() as session:  # noqa: SLF001
        await session.execute(update(ReconBatch).where(ReconBatch.bill_date == DAY)
                              .values(lease_until=utc_now() - timedelta(seconds=1)))
    from paymesh.services.reconciliation.peers import GrpcSources
    recon.batches._sources = lambda config, day: GrpcSources(real, config, day)  # noqa: SLF001
    redone = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert redone.ran and redone.batch.state == "SUCCESS"
    assert await found(recon, redone.batch.batch_id) == expected


def m_sources(peers: object, gateway: object, config: object, day: str) -> object:
    from paymesh.services.reconciliation.peers import GrpcSources, Peers
    assert isinstance(peers, Peers)
    return GrpcSources(Peers(peers.merchant, peers.channel, gateway, peers.ledger),
                       config, day)  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "reason", "state"), [
    (grpc.StatusCode.FAILED_PRECONDITION, "BILL_NOT_READY", "ERROR"),
    (grpc.StatusCode.DATA_LOSS, "BILL_MALFORMED", "ERROR"),
    (grpc.StatusCode.UNAVAILABLE, "", "ERROR"),
    (grpc.StatusCode.UNIMPLEMENTED, "", "NOBILL"),
])
async def test_channel_failures_end_the_batch_and_only_errors_are_retried(
        recon: Recon, code: grpc.StatusCode, reason: str, state: str) -> None:
    recon.fakes.gateway.add(pay("P1", 100))
    recon.fakes.channel.errors[DAY] = rpc_error(code, reason, "no bill")
    first = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert first.batch.state == state
    assert first.batch.error_reason == (reason or code.name)
    assert await count(recon, PoolEntry) == 0 and await count(recon, ReconMistake) == 0
    del recon.fakes.channel.errors[DAY]
    recon.fakes.channel.bills[DAY] = [row("P1", 100)]
    paced = await recon.batches.run_batch(CONFIG_KEY, DAY, retry_after_seconds=600)
    assert not paced.ran  # the scheduler's pace: not yet
    again = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert again.ran == (state != "NOBILL")
    assert again.batch.state == ("NOBILL" if state == "NOBILL" else "SUCCESS")


async def test_a_gateway_failure_fails_the_batch(recon: Recon) -> None:
    recon.fakes.channel.bills[DAY] = [row("P1", 100)]
    recon.fakes.gateway.stream_error = rpc_error(grpc.StatusCode.UNAVAILABLE, "", "down")
    result = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert result.batch.state == "FAIL" and result.batch.error_reason == "GATEWAY_UNAVAILABLE"


async def test_pool_carry_over_cleared_by_a_late_row_or_expired_after_three_days(
        recon: Recon) -> None:
    gateway, channel = recon.fakes.gateway, recon.fakes.channel
    gateway.add(pay("P1", 100, day="2024-05-28", hour=23), pay("P2", 200, day="2024-05-28"))
    channel.bills["2024-05-28"] = []
    await run_days(recon, "2024-05-28")
    assert await count(recon, PoolEntry, PoolEntry.state == "WAITING") == 2
    channel.bills["2024-05-29"] = [row("P1", 100, day="2024-05-29", hour=0)]  # late row
    await run_days(recon, "2024-05-29", "2024-05-30")
    assert await count(recon, PoolEntry, PoolEntry.state == "CLEARED") == 1
    assert await found(recon) == set()
    result = await recon.batches.run_batch(CONFIG_KEY, "2024-05-31")
    assert await found(recon, result.batch.batch_id) == {(m.BANK_MISS, 1, "P2")}
    assert result.batch.pool_expired == 1
    assert await count(recon, PoolEntry, PoolEntry.state == "WAITING") == 0


async def test_a_success_dated_after_midnight_is_not_pooled_the_next_day(recon: Recon) -> None:
    start, end = m.day_window(DAY)
    recon.fakes.gateway.add(pay("P1", 100, create_time=end - 30, success_time=end + 2))
    recon.fakes.channel.bills[DAY] = [row("P1", 100, hour=23)]
    recon.fakes.channel.bills["2024-06-02"] = []
    await run_days(recon, DAY, "2024-06-02")
    assert await count(recon, MatchedAhead) == 1
    assert await count(recon, PoolEntry) == 0


async def test_bad_requests_are_refused(recon: Recon) -> None:
    with pytest.raises(InvalidArgument):
        await recon.batches.run_batch(CONFIG_KEY, "2024-6-1")
    with pytest.raises(InvalidArgument):
        await recon.batches.run_batch(CONFIG_KEY, "2999-01-01")
    with pytest.raises(InvalidArgument):
        await recon.batches.run_batch("", DAY)
    with pytest.raises(NotFound) as unknown:
        await recon.batches.run_batch("nobody.wxpay", DAY)
    assert unknown.value.reason == "CHANNEL_CONFIG_NOT_FOUND"


async def test_refunds_still_processing_at_the_channel_are_status_mismatches(
        recon: Recon) -> None:
    recon.fakes.gateway.add(pay("P1", 100), refund("R1", "P1", 100))
    recon.fakes.channel.bills[DAY] = [row("P1", 100),
                                      row("P1", 100, refund_order_id="R1", status=PROCESSING)]
    result = await recon.batches.run_batch(CONFIG_KEY, DAY)
    assert await found(recon, result.batch.batch_id) == {(m.OVER_STATUS, 2, "R1")}
