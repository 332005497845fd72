"""Fixtures of the reconciliation tests: fakes of the services reconciliation calls (merchant
configs, the channel's bill, the gateway's records and corrections), the real reconciliation
database, and a real in-process account service for the ledger side of handling."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from paymesh.account.v1 import account_pb2_grpc
from paymesh.channel.v1 import channel_pb2 as ch
from paymesh.common.v1 import common_pb2
from paymesh.gateway.v1 import gateway_pb2 as gw
from paymesh.merchant.v1 import merchant_pb2 as mp
from paymesh.services.account.server import create as create_account
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.reconciliation.handling import MistakeHandling
from paymesh.services.reconciliation.matcher import day_window
from paymesh.services.reconciliation.peers import Peers
from paymesh.services.reconciliation.reports import Reports
from paymesh.services.reconciliation.service import BatchService

CONFIG_KEY = "app0001.wxpay"
MCH_NO = "M0001"
PAY, REFUND = 1, 2
OK, PROCESSING, FAILED = 1, 2, 3


def at(bill_date: str, hour: int = 12, minute: int = 0, second: int = 0) -> int:
    """Epoch seconds of a wall-clock time on a UTC+8 day."""
    start, _ = day_window(bill_date)
    return start + hour * 3600 + minute * 60 + second


def pay(pay_order_id: str, amount: int, *, state: int = 2, day: str = "2024-06-01",
        hour: int = 12, paid: bool | None = None, fee: int = 0,
        channel_fee: int | None = None, mch_no: str = MCH_NO, success_time: int | None = None,
        create_time: int | None = None) -> gw.PlatformRecord:
    """A platform pay order; successful ones succeed at ``hour`` on ``day``."""
    paid = state in (2, 5) if paid is None else paid
    record = gw.PlatformRecord(
        kind=gw.RECORD_KIND_PAY, pay_order_id=pay_order_id, mch_no=mch_no, amount=amount,
        state=state, fee_amount=fee, currency="CNY", channel_config_key=CONFIG_KEY,
        channel_order_no=f"42{pay_order_id}",
        create_time=create_time if create_time is not None else at(day, hour) - 30,
        success_time=(success_time if success_time is not None
                      else at(day, hour) if paid else 0))
    if channel_fee is not None:
        record.channel_fee_amount = channel_fee
    return record


def refund(refund_order_id: str, pay_order_id: str, amount: int, *, state: int = 2,
           day: str = "2024-06-01", hour: int = 13, mch_no: str = MCH_NO) -> gw.PlatformRecord:
    """A platform refund; a successful one succeeds at ``hour`` on ``day``."""
    return gw.PlatformRecord(
        kind=gw.RECORD_KIND_REFUND, pay_order_id=pay_order_id, refund_order_id=refund_order_id,
        mch_no=mch_no, amount=amount, state=state, currency="CNY",
        channel_config_key=CONFIG_KEY, create_time=at(day, hour) - 10,
        success_time=at(day, hour) if state == 2 else 0)


def row(pay_order_id: str, amount: int, *, status: int = OK, fee: int = 0,
        day: str = "2024-06-01", hour: int = 12, refund_order_id: str = "") -> ch.BillRow:
    """A bill row: a payment, or a refund when ``refund_order_id`` is given."""
    return ch.BillRow(kind=REFUND if refund_order_id else PAY,
                      channel_order_no=f"42{pay_order_id}", pay_order_id=pay_order_id,
                      refund_order_id=refund_order_id,
                      channel_refund_no=f"50{refund_order_id}" if refund_order_id else "",
                      amount=amount, fee=fee, status=status, trade_time=at(day, hour),
                      currency="CNY")


def rpc_error(code: grpc.StatusCode, reason: str = "", details: str = "") -> grpc.aio.AioRpcError:
    """An AioRpcError as a real stub raises it, with an ErrorInfo reason when given."""
    trailing = grpc.aio.Metadata()
    if reason:
        from google.protobuf import any_pb2
        from google.rpc import error_details_pb2, status_pb2
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="paymesh"))
        status = status_pb2.Status(code=code.value[0], message=details, details=[info])
        trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details)


def by_partition(rows: list[Any], partitions: int) -> list[tuple[int | None, list[Any]]]:
    """Rows grouped as the services group them when asked for partitions (CRC-32 of the order
    number modulo partitions); one group without a partition when not asked."""
    if partitions < 2:
        return [(None, rows)]
    groups: dict[int, list[Any]] = {}
    for r in rows:
        key = r.refund_order_id if r.kind == REFUND else r.pay_order_id
        groups.setdefault(zlib.crc32(key.encode()) % partitions, []).append(r)
    return sorted(groups.items())


@dataclass
class FakeMerchant:
    """ResolveChannelConfigs over a list of configs."""

    configs: list[mp.ResolvedChannelConfig] = field(default_factory=lambda: [
        mp.ResolvedChannelConfig(channel_config_key=CONFIG_KEY, if_code="wxpay",
                                 state=common_pb2.ENTITY_STATE_ACTIVE, app_id="app0001",
                                 mch_no=MCH_NO, channel_params_json="{}")])

    async def ResolveChannelConfigs(self, request: Any, timeout: float | None = None) -> Any:
        wanted = [c for c in self.configs
                  if not request.channel_config_key
                  or c.channel_config_key == request.channel_config_key]
        return mp.ResolveChannelConfigsResponse(channel_configs=wanted)


@dataclass
class FakeChannel:
    """DownloadBill: the bill rows of each date, in batches (as columns, grouped by partition,
    when asked, like the channel service); or an error for a date."""

    bills: dict[str, list[ch.BillRow]] = field(default_factory=dict)
    errors: dict[str, grpc.aio.AioRpcError] = field(default_factory=dict)
    batch: int = 500
    calls: list[str] = field(default_factory=list)

    def DownloadBill(self, request: Any, timeout: float | None = None
                     ) -> AsyncIterator[ch.DownloadBillResponse]:
        self.calls.append(request.bill_date)
        return self._stream(request.bill_date, request.columnar, request.partitions)

    async def _stream(self, bill_date: str, columnar: bool, partitions: int
                      ) -> AsyncIterator[ch.DownloadBillResponse]:
        if bill_date in self.errors:
            raise self.errors[bill_date]
        rows = self.bills.get(bill_date, [])
        for first in range(0, max(len(rows), 1), self.batch):
            batch = rows[first:first + self.batch]
            if not columnar:
                yield ch.DownloadBillResponse(rows=batch)
                continue
            for partition, part in by_partition(batch, partitions):
                answer = ch.DownloadBillResponse(columns=ch.BillColumns(
                    kinds=[r.kind for r in part],
                    channel_order_nos=[r.channel_order_no for r in part],
                    pay_order_ids=[r.pay_order_id for r in part],
                    refund_order_ids=[r.refund_order_id for r in part],
                    channel_refund_nos=[r.channel_refund_no for r in part],
                    amounts=[r.amount for r in part], fees=[r.fee for r in part],
                    statuses=[r.status for r in part], trade_times=[r.trade_time for r in part],
                    currencies=[r.currency for r in part]))
                if partition is not None:
                    answer.partition = partition
                yield answer


@dataclass
class FakeGateway:
    """The gateway's ReconciliationSourceService over a set of records, with corrections that
    change them the way the gateway's contract says (simplified), recorded once per id."""

    records: dict[tuple[int, str], gw.PlatformRecord] = field(default_factory=dict)
    corrections: dict[str, gw.ApplyCorrectionResponse] = field(default_factory=dict)
    calls: list[gw.ApplyCorrectionRequest] = field(default_factory=list)
    stream_error: grpc.aio.AioRpcError | None = None
    refuse: grpc.aio.AioRpcError | None = None
    lookups: int = 0

    def add(self, *records: gw.PlatformRecord) -> None:
        for record in records:
            key = record.pay_order_id if record.kind == PAY else record.refund_order_id
            self.records[(record.kind, key)] = record

    def StreamDayRecords(self, request: Any, timeout: float | None = None
                         ) -> AsyncIterator[gw.StreamDayRecordsResponse]:
        return self._stream(request.bill_date, request.channel_config_key, request.columnar,
                            request.partitions)

    async def _stream(self, bill_date: str, key: str, columnar: bool, partitions: int
                      ) -> AsyncIterator[gw.StreamDayRecordsResponse]:
        if self.stream_error is not None:
            raise self.stream_error
        start, end = day_window(bill_date)
        day = [r for _, r in sorted(self.records.items())
               if (start <= r.create_time < end or start <= r.success_time < end)
               and r.channel_config_key == key]
        for first in range(0, len(day), 700):
            batch = day[first:first + 700]
            if not columnar:
                yield gw.StreamDayRecordsResponse(records=batch)
                continue
            for partition, part in by_partition(batch, partitions):
                answer = gw.StreamDayRecordsResponse(columns=gw.PlatformRecordColumns(
                    kinds=[r.kind for r in part], pay_order_ids=[r.pay_order_id for r in part],
                    refund_order_ids=[r.refund_order_id for r in part],
                    mch_nos=[r.mch_no for r in part],
                    channel_order_nos=[r.channel_order_no for r in part],
                    amounts=[r.amount for r in part], states=[r.state for r in part],
                    fee_amounts=[r.fee_amount for r in part],
                    channel_fee_amounts=[r.channel_fee_amount for r in part],
                    channel_fee_known=[r.HasField("channel_fee_amount") for r in part],
                    success_times=[r.success_time for r in part],
                    currencies=[r.currency for r in part]))
                if partition is not None:
                    answer.partition = partition
                yield answer

    async def LookupRecords(self, request: Any, timeout: float | None = None) -> Any:
        self.lookups += 1
        found = [self.records[(PAY, i)] for i in request.pay_order_ids
                 if (PAY, i) in self.records]
        found += [self.records[(REFUND, i)] for i in request.refund_order_ids
                  if (REFUND, i) in self.records]
        return gw.LookupRecordsResponse(records=found)

    async def ApplyCorrection(self, request: gw.ApplyCorrectionRequest,
                              timeout: float | None = None) -> gw.ApplyCorrectionResponse:
        self.calls.append(request)
        if request.correction_id in self.corrections:
            answer = gw.ApplyCorrectionResponse()
            answer.CopyFrom(self.corrections[request.correction_id])
            answer.replayed = True
            return answer
        if self.refuse is not None:
            raise self.refuse
        kind = REFUND if request.refund_order_id else PAY
        record = self.records[(kind, request.refund_order_id or request.pay_order_id)]
        answer = gw.ApplyCorrectionResponse(previous_amount=record.amount,
                                            previous_fee_amount=record.fee_amount,
                                            previous_state=record.state)
        action = request.action
        if action in (gw.CORRECTION_ACTION_MARK_PAY_SUCCEEDED,
                      gw.CORRECTION_ACTION_MARK_REFUND_SUCCEEDED):
            record.state, record.success_time = 2, request.success_time
        elif action in (gw.CORRECTION_ACTION_MARK_PAY_FAILED,
                        gw.CORRECTION_ACTION_MARK_REFUND_FAILED):
            record.state = 3
        elif action == gw.CORRECTION_ACTION_CORRECT_PAY_AMOUNT:
            record.amount = request.amount
            record.fee_amount = (request.amount * 6 + 500) // 1000  # 0.6 % half up
        elif action == gw.CORRECTION_ACTION_SET_CHANNEL_FEE:
            record.channel_fee_amount = request.channel_fee
        answer.record.CopyFrom(record)
        self.corrections[request.correction_id] = answer
        return answer


@dataclass
class Fakes:
    merchant: FakeMerchant
    channel: FakeChannel
    gateway: FakeGateway
    ledger: Any

    @property
    def peers(self) -> Peers:
        return Peers(self.merchant, self.channel, self.gateway, self.ledger)


@pytest.fixture
async def ledger(config: MeshConfig) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    """A real account service, in process."""
    running = await create_account(config, "127.0.0.1:0")
    async with open_channel(f"127.0.0.1:{running.port}") as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)
    await running.stop(grace=1.0)


@pytest.fixture
def fakes(ledger: account_pb2_grpc.AccountServiceStub) -> Fakes:
    return Fakes(FakeMerchant(), FakeChannel(), FakeGateway(), ledger)


@dataclass
class Recon:
    """The reconciliation services over the test database and the fakes."""

    batches: BatchService
    handling: MistakeHandling
    reports: Reports
    fakes: Fakes


@pytest.fixture
async def recon(config: MeshConfig, fakes: Fakes, tmp_path: Any) -> AsyncIterator[Recon]:
    engine = open_engine(config.db_urls["reconciliation"])
    factory = sessions(engine)
    batches = BatchService(factory, fakes.peers, tmp_root=tmp_path / "spill", partitions=8)
    yield Recon(batches, MistakeHandling(factory, fakes.peers), Reports(factory, fakes.peers),
                fakes)
    await batches.close()
    await engine.dispose()

