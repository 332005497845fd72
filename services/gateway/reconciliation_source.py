"""What reconciliation (对账) reads from the gateway's orders, and the corrections it decides.

Records. A bill date D is a China Standard Time (UTC+8) calendar day, as the channels' bills
are: the window [D 00:00+08, D+1 00:00+08) in UTC. A channel config's day is its pay orders
created or succeeded in the window, then its refunds likewise, each exactly once (a UNION ALL
whose second branch takes only what succeeded in the window but was created outside it), in id
order. The stream is one query per kind read through a server-side cursor in batches: the
database sorts once, memory holds one batch, and only the columns of a record are selected
(rows, never ORM objects). Its connection stays busy until the last batch is taken, so on SQLite
(one pooled connection) the server gives streams an engine of their own.

Corrections (ApplyCorrection), idempotent on the caller's correction id. In one transaction:
the pay order is locked (a refund's pay order first, as refunds always do), the id is looked up
again under the lock, the change goes through the repositories' conditional transitions — so
outbox events, hence merchant notifications and ledger postings, follow as for any change — and
an ``order_correction`` row records the request's fingerprint, the previous values and the
answer. A replay finds the row and gets the first answer; the same id with other content is
refused with CORRECTION_ID_REUSED; a crash leaves both or neither. What each action needs (else
CORRECTION_STATE, naming the state):

=====================  ==========================================================================
MARK_PAY_SUCCEEDED     an unpaid order (created, paying, failed, cancelled, closed) → paid, with
                       the channel's number and time, flagged late_success when it had ended;
                       ``pay.succeeded``
MARK_PAY_FAILED        a paid order, nothing refunded or in flight → failed (err_code
                       RECONCILIATION, no success time); ``pay.failed``
CORRECT_PAY_AMOUNT     a paid order, nothing refunded or in flight: amount, merchant fee (its own
                       snapshotted fee model) and expected channel fee (when its cost rate is
                       known) recomputed; no event, the caller moves the difference
SET_CHANNEL_FEE        a paid order, also one refunded since: the expected channel fee only
MARK_REFUND_SUCCEEDED  an open refund (created, refunding) → refunded; ``refund.succeeded``
MARK_REFUND_FAILED     an open refund → failed, its reserved amount given back; ``refund.failed``
=====================  ==========================================================================

The caller moves money in the ledger for MARK_PAY_FAILED and CORRECT_PAY_AMOUNT, which assumes
the ledger has the payment: so both wait (CORRECTION_STATE) until the order's ``pay.succeeded``
event, if it has one, is delivered. An order is given each outbox topic once, so a second
MARK_PAY_SUCCEEDED or MARK_PAY_FAILED on the same order (after a correction the other way) is
refused too. No gRPC here: the servicer translates.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Select, and_, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from paymesh.services.common.db import run_transaction, sessions, utc_now
from paymesh.services.common.errors import AlreadyExists, DomainError, InvalidArgument, NotFound
from paymesh.services.gateway.fees import FeeModel, channel_fee, merchant_fee
from paymesh.services.gateway.models import (
    OrderCorrection,
    OutboxEvent,
    PayOrder,
    RefundOrder,
    RefundState,
)
from paymesh.services.gateway.models import PayOrderState as St
from paymesh.services.gateway.outbox import PAY_FAILED, PAY_SUCCEEDED
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.repository import PayOrderRepository

PAY = 1  # record kinds, numbered as the proto's RecordKind
REFUND = 2
BATCH = 2000
MAX_LOOKUP = 1000
CHINA = timezone(timedelta(hours=8))
RECONCILIATION = "RECONCILIATION"
UNPAID = (St.INIT, St.PAYING, St.FAIL, St.CANCEL, St.CLOSED)
ENDED = (St.FAIL, St.CANCEL, St.CLOSED)
OPEN_REFUND = (RefundState.INIT, RefundState.PAYING)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CORRECTION_ID = re.compile(r"[\x20-\x7e]{1,64}")
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z


class Action(enum.IntEnum):
    """What a correction does, numbered as the proto's CorrectionAction."""

    MARK_PAY_SUCCEEDED = 1
    MARK_PAY_FAILED = 2
    CORRECT_PAY_AMOUNT = 3
    SET_CHANNEL_FEE = 4
    MARK_REFUND_SUCCEEDED = 5
    MARK_REFUND_FAILED = 6


REFUND_ACTIONS = (Action.MARK_REFUND_SUCCEEDED, Action.MARK_REFUND_FAILED)


class Record(NamedTuple):
    """A pay order or a refund as reconciliation sees it (the proto's PlatformRecord).

    Money in fen; times in seconds since the epoch (UTC), 0 for none; a refund's channel number
    is the channel's refund number, and its fee fields are 0 / None.
    """

    kind: int
    pay_order_id: str
    refund_order_id: str
    mch_no: str
    channel_order_no: str
    amount: int
    state: int
    fee_amount: int
    channel_fee_amount: int | None
    success_time: int
    create_time: int
    currency: str
    channel_config_key: str
    refunded_amount: int


# A record's fields in Record's order, as a database row or a Record.
RecordRow = Sequence[Any]


@dataclass(frozen=True)
class Correction:
    """One ApplyCorrection request; which fields count depends on the action (see the proto)."""

    correction_id: str
    action: int
    pay_order_id: str
    refund_order_id: str = ""
    amount: int = 0
    channel_fee: int = 0
    channel_order_no: str = ""
    success_time: int = 0
    reason: str = ""

    def fingerprint(self) -> str:
        """A digest of everything the request says, to tell a replay from a reused id."""
        content = astuple(self)[1:]  # the id itself aside
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()


@dataclass(frozen=True)
class CorrectionResult:
    """The record after the correction, whether this was a replay, and the values before."""

    record: Record
    replayed: bool
    previous_amount: int
    previous_fee_amount: int
    previous_state: int


def day_window(bill_date: str) -> tuple[datetime, datetime]:
    """The UTC bounds [start, end) of bill date ``YYYY-MM-DD`` (a UTC+8 calendar day)."""
    try:
        if not _DATE.fullmatch(bill_date):
            raise ValueError(bill_date)
        day = date.fromisoformat(bill_date)
    except ValueError:
        raise InvalidArgument("bill_date", "bill_date must be a date YYYY-MM-DD, "
                                           f"got {bill_date!r}") from None
    start = datetime.combine(day, time(), CHINA).astimezone(UTC)
    return start, start + timedelta(days=1)


class _EpochSeconds(FunctionElement[int]):
    """Whole seconds since the epoch of a naive-UTC datetime column (NULL stays NULL)."""

    type = BigInteger()
    inherit_cache = True
    name = "epoch_seconds"


@compiles(_EpochSeconds, "sqlite")
def _epoch_sqlite(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    # Cut to whole seconds first: strftime would round a .9995 s fraction up. unixepoch (SQLite
    # 3.38+) gives the same integer a good deal faster (a million rows stream per bill date).
    column = compiler.process(element.clauses, **kw)
    if sqlite3.sqlite_version_info >= (3, 38):
        return f"unixepoch(substr({column}, 1, 19))"
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"


@compiles(_EpochSeconds, "mysql")
@compiles(_EpochSeconds, "mariadb")
def _epoch_mysql(element: _EpochSeconds, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {column})"


def _seconds(column: Any) -> Any:
    return func.coalesce(_EpochSeconds(column), 0)


def _record_columns(*columns: Any) -> tuple[Any, ...]:
    """The SELECT list of a Record: computed in the database, so a row is a record as it is."""
    return tuple(column.label(name) for column, name in zip(columns, Record._fields, strict=True))


_P = PayOrder.__table__.c
_R = RefundOrder.__table__.c
_PAY_RECORD = _record_columns(
    literal(PAY), _P.pay_order_id, literal(""), _P.mch_no, func.coalesce(_P.channel_order_no, ""),
    _P.amount, _P.state, _P.fee_amount, _P.channel_fee_amount, _seconds(_P.success_at),
    _seconds(_P.created_at), func.upper(_P.currency), func.coalesce(_P.channel_config_key, ""),
    _P.refunded_amount)
_REFUND_RECORD = _record_columns(
    literal(REFUND), _R.pay_order_id, _R.refund_order_id, _R.mch_no,
    func.coalesce(_R.channel_refund_no, ""), _R.refund_amount, _R.state, literal(0), null(),
    _seconds(_R.success_at), _seconds(_R.created_at), func.upper(_R.currency),
    func.coalesce(_R.channel_config_key, ""), literal(0))


# The fields of a columnar day stream (PlatformRecordColumns): what reconciliation reads. The
# config key is the one asked; create_time (a second date conversion per row) and
# refunded_amount are not selected.
DAY_FIELDS = ("kind", "pay_order_id", "refund_order_id", "mch_no", "channel_order_no", "amount",
              "state", "fee_amount", "channel_fee_amount", "success_time", "currency")


def _day_query(table: Any, record: tuple[Any, ...], key: str, start: datetime,
               end: datetime, ordered: bool = True) -> Any:
    """One kind's records of a config's day, each once, in id order (its primary key) unless
    ``ordered`` is False (the database then need not sort a million rows)."""
    created_in = and_(table.c.created_at >= start, table.c.created_at < end)
    created_out = or_(table.c.created_at < start, table.c.created_at >= end)
    day = union_all(
        select(*record).where(table.c.channel_config_key == key, created_in),
        select(*record).where(table.c.channel_config_key == key, table.c.success_at >= start,
                              table.c.success_at < end, created_out))
    if not ordered:
        return day
    return day.order_by(day.selected_columns[table.primary_key.columns[0].name])


async def _records(connection: Any, query: Any) -> list[Record]:
    return [Record._make(row) for row in await connection.execute(query)]


class ReconciliationSource:
    """StreamDayRecords, LookupRecords and ApplyCorrection over the gateway's orders."""

    def __init__(self, engine: AsyncEngine, reader: AsyncEngine | None = None,
                 on_event: Callable[[], None] | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self._engine = engine
        self._reader = reader or engine
        self._sessions = sessions(engine)
        self._on_event = on_event
        self._clock = clock

    async def stream_day(self, channel_config_key: str, bill_date: str,
                         fields: Sequence[str] = Record._fields, batch: int = BATCH,
                         ordered: bool = True) -> AsyncIterator[Sequence[RecordRow]]:
        """The config's pay orders, then its refunds, of the bill date, in batches of ``batch``.

        Rows as the database gives them, of the Record ``fields`` asked for in Record's order
        (with all of them, ``Record._make`` makes one a Record): a million of them are a hot
        path, where building a Record each, or selecting a column nobody reads, is a measurable
        part of the time.
        """
        if not channel_config_key or len(channel_config_key) > 96:
            raise InvalidArgument("channel_config_key", "channel_config_key must be 1 to 96 "
                                  f"characters, got {channel_config_key!r}")
        start, end = day_window(bill_date)
        for table, record in ((PayOrder.__table__, _PAY_RECORD),
                              (RefundOrder.__table__, _REFUND_RECORD)):
            chosen = tuple(column for column in record if column.name in fields)
            query = _day_query(table, chosen, channel_config_key, start, end, ordered)
            async with self._reader.connect() as connection:
                rows = await connection.stream(query.execution_options(yield_per=batch))
                async for part in rows.partitions(batch):
                    yield part

    async def lookup(self, pay_order_ids: Sequence[str],
                     refund_order_ids: Sequence[str]) -> list[Record]:
        """The pay orders then the refunds found, each in the order asked (a repeat once)."""
        for field, ids in (("pay_order_ids", pay_order_ids),
                           ("refund_order_ids", refund_order_ids)):
            if len(ids) > MAX_LOOKUP:
                raise InvalidArgument(field, f"{field} may hold at most {MAX_LOOKUP} ids, "
                                             f"got {len(ids)}")
        pays, refunds = list(dict.fromkeys(pay_order_ids)), list(dict.fromkeys(refund_order_ids))
        async with self._engine.connect() as connection:
            found = {r.pay_order_id: r for r in await _records(connection, select(
                *_PAY_RECORD).where(_P.pay_order_id.in_(pays)))} if pays else {}
            found_refunds = {r.refund_order_id: r for r in await _records(connection, select(
                *_REFUND_RECORD).where(_R.refund_order_id.in_(refunds)))} if refunds else {}
        return ([found[i] for i in pays if i in found]
                + [found_refunds[i] for i in refunds if i in found_refunds])

    async def apply(self, correction: Correction) -> CorrectionResult:
        """Applies ``correction`` once; see the module docs for what each action needs."""
        _check(correction)
        fingerprint = correction.fingerprint()
        for attempt in range(2):
            try:
                result, event = await run_transaction(
                    lambda: self._apply_once(correction, fingerprint))
                break
            except IntegrityError:
                if attempt:  # the id was taken meanwhile: the second attempt finds its row
                    raise
        if event and self._on_event is not None:
            self._on_event()
        return result

    async def _apply_once(self, correction: Correction, fingerprint: str
                          ) -> tuple[CorrectionResult, bool]:
        """One transaction: replay, or change the order and record the correction."""
        async with self._sessions.begin() as session:
            earlier = await _earlier(session, correction.correction_id)
            if earlier is not None:
                return _replay(earlier, correction, fingerprint), False
            pay = await _locked(session, select(PayOrder).where(
                PayOrder.pay_order_id == correction.pay_order_id))
            if pay is None:
                raise NotFound("ORDER_NOT_FOUND", f"order {correction.pay_order_id} not found")
            earlier = await _earlier(session, correction.correction_id)
            if earlier is not None:  # a twin committed while this call waited for the lock
                return _replay(earlier, correction, fingerprint), False
            if correction.action in REFUND_ACTIONS:
                refund = await _locked(session, select(RefundOrder).where(
                    RefundOrder.refund_order_id == correction.refund_order_id))
                if refund is None or refund.pay_order_id != pay.pay_order_id:
                    raise NotFound("REFUND_NOT_FOUND", f"order {pay.pay_order_id} has no refund "
                                                       f"{correction.refund_order_id}")
                previous = (refund.refund_amount, 0, refund.state, None)
                event = await self._correct_refund(session, correction, refund)
                query = select(*_REFUND_RECORD).where(
                    _R.refund_order_id == refund.refund_order_id)
            else:
                previous = (pay.amount, pay.fee_amount, pay.state, pay.channel_fee_amount)
                event = await self._correct_pay(session, correction, pay)
                query = select(*_PAY_RECORD).where(_P.pay_order_id == pay.pay_order_id)
            record = Record._make((await session.execute(query)).one())
            session.add(OrderCorrection(
                correction_id=correction.correction_id, action=correction.action,
                fingerprint=fingerprint, pay_order_id=pay.pay_order_id,
                refund_order_id=correction.refund_order_id or None,
                previous_amount=previous[0], previous_fee_amount=previous[1],
                previous_state=previous[2], previous_channel_fee_amount=previous[3],
                reason=correction.reason, answer=json.dumps(record._asdict()),
                created_at=self._clock()))
        return CorrectionResult(record, False, *previous[:3]), event

    async def _correct_pay(self, session: AsyncSession, correction: Correction,
                           pay: PayOrder) -> bool:
        """Applies a pay order action; True when it wrote an outbox event."""
        action = Action(correction.action)
        if action == Action.MARK_PAY_SUCCEEDED:
            _require(pay.state in UNPAID, pay, action, "an unpaid order")
            await _first_event(session, PAY_SUCCEEDED, pay, action)
            changes: dict[str, Any] = {
                "success_at": self._moment(correction.success_time), "err_code": None,
                "err_msg": None, "late_success": pay.late_success or pay.state in ENDED}
            if correction.channel_order_no:
                changes["channel_order_no"] = correction.channel_order_no
            return await _move(session, pay, action, UNPAID, event=PAY_SUCCEEDED,
                               state=St.SUCCESS, **changes)
        if action == Action.SET_CHANNEL_FEE:
            _require(pay.state in (St.SUCCESS, St.REFUND), pay, action, "a paid order")
            return await _move(session, pay, action, (St.SUCCESS, St.REFUND),
                               channel_fee_amount=correction.channel_fee)
        untouched = not (pay.refunded_amount or pay.refund_reserved or pay.refund_in_flight)
        _require(pay.state == St.SUCCESS and untouched, pay, action,
                 "a paid order with nothing refunded or in flight")
        await _payment_in_ledger(session, pay, action)
        if action == Action.MARK_PAY_FAILED:
            await _first_event(session, PAY_FAILED, pay, action)
            return await _move(session, pay, action, (St.SUCCESS,), event=PAY_FAILED,
                               state=St.FAIL, success_at=None, err_code=RECONCILIATION,
                               err_msg=correction.reason or "the channel has no such payment")
        amount = correction.amount
        changes = {"amount": amount, "fee_amount": merchant_fee(amount, FeeModel.of_order(pay))}
        if pay.channel_cost_rate:
            changes["channel_fee_amount"] = channel_fee(amount, pay.channel_cost_rate)
        return await _move(session, pay, action, (St.SUCCESS,), **changes)

    async def _correct_refund(self, session: AsyncSession, correction: Correction,
                              refund: RefundOrder) -> bool:
        """Settles an open refund the way the channel says it ended (always an event)."""
        action = Action(correction.action)
        if refund.state not in OPEN_REFUND:
            raise _state_error(f"refund {refund.refund_order_id} is "
                               f"{RefundState.NAMES.get(refund.state, '?')} (state "
                               f"{refund.state}); {action.name} needs an open refund")
        succeeded = action == Action.MARK_REFUND_SUCCEEDED
        changes: dict[str, Any]
        if succeeded:
            changes = {"success_at": self._moment(correction.success_time), "err_code": None,
                       "err_msg": None}
            if correction.channel_order_no:
                changes["channel_refund_no"] = correction.channel_order_no
        else:
            changes = {"err_code": RECONCILIATION,
                       "err_msg": correction.reason or "the channel never paid this refund out"}
        if not await RefundRepository.settle_in(session, refund, OPEN_REFUND, succeeded,
                                                **changes):
            raise _state_error(f"refund {refund.refund_order_id} is not the open refund of "
                               f"order {refund.pay_order_id}")
        return True

    def _moment(self, seconds: int) -> datetime:
        return self._clock() if seconds == 0 else datetime.fromtimestamp(seconds, UTC)


def _check(correction: Correction) -> None:
    """Field checks, each naming its field."""
    if not _CORRECTION_ID.fullmatch(correction.correction_id):
        raise InvalidArgument("correction_id", "correction_id must be 1 to 64 printable ASCII "
                              f"characters, got {correction.correction_id!r}")
    if correction.action not in Action.__members__.values():
        raise InvalidArgument("action", f"action must be a CorrectionAction, got "
                                        f"{correction.action}")
    if not 1 <= len(correction.pay_order_id) <= 32:
        raise InvalidArgument("pay_order_id", "pay_order_id is required")
    if correction.action in REFUND_ACTIONS and not 1 <= len(correction.refund_order_id) <= 32:
        raise InvalidArgument("refund_order_id", "refund_order_id is required for refund actions")
    if correction.action == Action.CORRECT_PAY_AMOUNT and correction.amount < 1:
        raise InvalidArgument("amount", f"amount must be at least 1 fen, got {correction.amount}")
    if correction.action == Action.SET_CHANNEL_FEE and correction.channel_fee < 0:
        raise InvalidArgument("channel_fee", "channel_fee must be at least 0 fen, got "
                                             f"{correction.channel_fee}")
    if len(correction.channel_order_no) > 64:
        raise InvalidArgument("channel_order_no", "channel_order_no is at most 64 characters")
    if not 0 <= correction.success_time <= _LAST_SECOND:
        raise InvalidArgument("success_time", "success_time must be seconds since the epoch, "
                                              f"or 0 for now; got {correction.success_time}")
    if len(correction.reason) > 256:
        raise InvalidArgument("reason", "reason is at most 256 characters")


async def _earlier(session: AsyncSession, correction_id: str) -> OrderCorrection | None:
    found = await session.execute(select(OrderCorrection).where(
        OrderCorrection.correction_id == correction_id))
    return found.scalar_one_or_none()


async def _locked(session: AsyncSession, query: Select[Any]) -> Any:
    """The one row of ``query``, locked until the transaction ends (SQLite: by its writer)."""
    return (await session.execute(query.with_for_update())).scalar_one_or_none()


def _replay(earlier: OrderCorrection, correction: Correction,
            fingerprint: str) -> CorrectionResult:
    if earlier.fingerprint != fingerprint:
        raise AlreadyExists("CORRECTION_ID_REUSED", f"correction {correction.correction_id} "
                            f"was used for other content ({Action(earlier.action).name} on "
                            f"order {earlier.pay_order_id}); use a new correction_id")
    return CorrectionResult(Record(**json.loads(earlier.answer)), True, earlier.previous_amount,
                            earlier.previous_fee_amount, earlier.previous_state)


def _state_error(message: str) -> DomainError:
    return DomainError("CORRECTION_STATE", message)


def _require(allowed: bool, pay: PayOrder, action: Action, needs: str) -> None:
    if not allowed:
        details = [f"state {pay.state}"]
        if pay.refunded_amount:
            details.append(f"{pay.refunded_amount} fen refunded")
        if pay.refund_reserved or pay.refund_in_flight:
            details.append(f"{pay.refund_reserved} fen in flight")
        raise _state_error(f"order {pay.pay_order_id} is {St.NAMES.get(pay.state, '?')} "
                           f"({', '.join(details)}); {action.name} needs {needs}")


async def _first_event(session: AsyncSession, topic: str, pay: PayOrder, action: Action) -> None:
    """Refuses a change whose outbox event the order had already (each topic once per order)."""
    if await session.scalar(select(OutboxEvent.event_id).where(
            OutboxEvent.topic == topic, OutboxEvent.order_id == pay.pay_order_id)) is not None:
        raise _state_error(f"order {pay.pay_order_id} is {St.NAMES.get(pay.state, '?')} (state "
                           f"{pay.state}) and had a {topic} event already; {action.name} "
                           "cannot be applied to it a second time")


async def _payment_in_ledger(session: AsyncSession, pay: PayOrder, action: Action) -> None:
    """Refuses while the order's pay.succeeded event still waits: the caller's ledger
    adjustment assumes the payment's posting is in."""
    if await session.scalar(select(OutboxEvent.event_id).where(
            OutboxEvent.topic == PAY_SUCCEEDED, OutboxEvent.order_id == pay.pay_order_id,
            OutboxEvent.delivered_at.is_(None))) is not None:
        raise _state_error(f"order {pay.pay_order_id} is paid (state {pay.state}) but its "
                           f"{PAY_SUCCEEDED} event is not delivered yet; {action.name} can be "
                           "applied once it is")


async def _move(session: AsyncSession, pay: PayOrder, action: Action, allowed: Sequence[int],
                *, event: str | None = None, **changes: Any) -> bool:
    """The order's conditional transition; True when it wrote an outbox event."""
    if not await PayOrderRepository.transition_in(session, pay.pay_order_id, allowed,
                                                  event=event, **changes):
        raise _state_error(f"order {pay.pay_order_id} changed meanwhile; {action.name} was "
                           "not applied")
    return event is not None
