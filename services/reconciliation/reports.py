"""Reading reconciliation: batches, mistakes, a batch's summary, and the settlement gate.

The settlement gate answers "through which day is everything reconciled?": for each ACTIVE
channel config, the last day D such that every day from the config's first batch (within the
last GATE_LOOKBACK_DAYS) through D has a finished batch (SUCCESS or NOBILL), with no gap; across
configs, the earliest of those days (none when a config has no finished first day). With no
active config at all, every day before today is reconciled. Merchants with open mistakes are
listed beside it, so settlement can hold their money back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from paymesh.services.common.errors import InvalidArgument, NotFound
from paymesh.services.reconciliation.models import BatchState, ReconBatch, ReconMistake
from paymesh.services.reconciliation.peers import Peers, resolve_configs
from paymesh.services.reconciliation.repository import ReconRepository
from paymesh.services.reconciliation.service import china_today, parse_bill_date

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
GATE_LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class BatchView:
    """A batch with its open mistake count."""

    batch: ReconBatch
    open_mistakes: int


@dataclass(frozen=True)
class TypeSummary:
    """Counts and sums of one (type, kind) in a batch."""

    mistake_type: str
    kind: int
    count: int
    open_count: int
    platform_amount: int
    channel_amount: int
    platform_fee: int
    channel_fee: int


@dataclass(frozen=True)
class Gate:
    """The settlement gate (see the module docs)."""

    reconciled_through: str
    configs: list[tuple[str, str]]
    blocked: list[tuple[str, int, str]]


def page_size(requested: int) -> int:
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidArgument("page.page_size", f"page_size must be 0..{MAX_PAGE_SIZE}")
    return requested or DEFAULT_PAGE_SIZE


def _decode(token: str, prefix: str) -> str:
    try:
        value = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        value = ""
    if not value.startswith(prefix):
        raise InvalidArgument("page.page_token", "page_token is not one this service gave")
    return value[len(prefix):]


def _encode(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


class Reports:
    """Reads over the reconciliation database."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], peers: Peers) -> None:
        self._sessions = sessions
        self._peers = peers

    async def batch(self, batch_id: str) -> BatchView:
        async with self._sessions() as session:
            repo = ReconRepository(session)
            batch = await repo.batch(batch_id)
            if batch is None:
                raise NotFound("BATCH_NOT_FOUND", f"no batch {batch_id!r}")
            return BatchView(batch, (await repo.count_mistakes(batch_id))[1])

    async def batches(self, config_key: str, date_from: str, date_to: str, state: str,
                      size: int, token: str) -> tuple[list[BatchView], str]:
        date_from = parse_bill_date(date_from, "bill_date_from") if date_from else ""
        date_to = parse_bill_date(date_to, "bill_date_to") if date_to else ""
        after = None
        if token:
            bill_date, _, batch_id = _decode(token, "B|").partition("|")
            after = (bill_date, batch_id)
        limit = page_size(size)
        async with self._sessions() as session:
            repo = ReconRepository(session)
            rows = await repo.batches_page(config_key, date_from, date_to, state, after,
                                           limit + 1)
            more = len(rows) > limit
            rows = rows[:limit]
            counts = await repo.open_counts([b.batch_id for b in rows])
        next_token = _encode(f"B|{rows[-1].bill_date}|{rows[-1].batch_id}") if more else ""
        return [BatchView(b, counts.get(b.batch_id, 0)) for b in rows], next_token

    async def summary(self, batch_id: str) -> tuple[BatchView, list[TypeSummary]]:
        view = await self.batch(batch_id)
        async with self._sessions() as session:
            rows = await ReconRepository(session).mistake_summary(batch_id)
        order = {name: i for i, name in enumerate(
            ("BANK_MISS", "PLATFORM_MISS", "PLATFORM_SHORT_STATUS_MISMATCH",
             "PLATFORM_OVER_STATUS_MISMATCH", "PLATFORM_SHORT_CASH_MISMATCH",
             "PLATFORM_OVER_CASH_MISMATCH", "FEE_MISMATCH"))}
        summaries = [TypeSummary(str(t), int(k), int(n), int(o or 0), int(pa or 0), int(ca or 0),
                                 int(pf or 0), int(cf or 0))
                     for t, k, n, o, pa, ca, pf, cf in rows]
        summaries.sort(key=lambda s: (order.get(s.mistake_type, 99), s.kind))
        return view, summaries

    async def mistake(self, mistake_id: str) -> ReconMistake:
        async with self._sessions() as session:
            mistake = await ReconRepository(session).mistake(mistake_id)
        if mistake is None:
            raise NotFound("MISTAKE_NOT_FOUND", f"no mistake {mistake_id!r}")
        return mistake

    async def mistakes(self, batch_id: str, mistake_type: str, states: Sequence[str],
                       mch_no: str, size: int, token: str) -> tuple[list[ReconMistake], str]:
        limit = page_size(size)
        after = _decode(token, "M|") if token else ""
        async with self._sessions() as session:
            rows = await ReconRepository(session).mistakes_page(batch_id, mistake_type, states,
                                                                mch_no, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return rows, _encode(f"M|{rows[-1].mistake_id}") if more else ""

    async def settlement_gate(self, today: str) -> Gate:
        day = date.fromisoformat(parse_bill_date(today, "today")) if today else china_today()
        since = (day - timedelta(days=GATE_LOOKBACK_DAYS)).isoformat()
        active = sorted(c.key for c in await resolve_configs(self._peers) if c.active)
        configs: list[tuple[str, str]] = []
        async with self._sessions() as session:
            repo = ReconRepository(session)
            for key in active:
                days = await repo.batch_days(key, since, day.isoformat())
                configs.append((key, _reconciled_through(days)))
            blocked = await repo.blocked_merchants()
        if not active:
            through = (day - timedelta(days=1)).isoformat()
        elif any(not d for _, d in configs):
            through = ""
        else:
            through = min(d for _, d in configs)
        return Gate(through, configs, blocked)


def _reconciled_through(days: list[tuple[str, str]]) -> str:
    """The last day of the unbroken run of finished batches from the first one."""
    through = ""
    expected: date | None = None
    for bill_date, state in days:
        current = date.fromisoformat(bill_date)
        if expected is not None and current != expected:
            break
        if state not in BatchState.FINISHED:
            break
        through, expected = bill_date, current + timedelta(days=1)
    return through

