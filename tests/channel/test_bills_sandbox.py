"""DownloadBill over gRPC: the sandbox's bill of its own book, and the servicer's streaming rules
(batches, the totals check, refusals), on the selected database backend."""

from __future__ import annotations

import datetime
import json
import secrets
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest

from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.services.channel.adapters import AdapterRegistry
from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillStatus,
    BillTotals,
)
from paymesh.services.channel.adapters.sandbox_bill import parse_sandbox_bill
from paymesh.services.channel.server import SERVICE_NAMES
from paymesh.services.channel.servicer import ChannelServicer
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of
from paymesh.services.common.grpcserver import build_server, start

from . import (
    KEY,
    CallbackReceiver,
    ChannelMesh,
    SandboxControls,
    pay_request,
    running_channel,
    sandbox_controls,
    token_of,
)

S = channel_pb2.ChannelState
AUTH_CODE = "134567890123456789"
TODAY_PARAMS = json.dumps({"key": KEY, "billToday": True})


@pytest.fixture
async def mesh(config: MeshConfig) -> AsyncIterator[ChannelMesh]:
    async with running_channel(config) as running:
        yield running


@pytest.fixture
async def controls(config: MeshConfig) -> AsyncIterator[SandboxControls]:
    async with sandbox_controls(config) as opened:
        yield opened


@pytest.fixture
async def receiver() -> AsyncIterator[CallbackReceiver]:
    endpoint = CallbackReceiver()
    await endpoint.start()
    yield endpoint
    await endpoint.stop()


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.randbelow(10**18):018d}"


def today() -> str:
    return datetime.datetime.now(CST).date().isoformat()


async def barcode_paid(mesh: ChannelMesh, amount: int) -> str:
    pid = new_id("P")
    answer = await mesh.channel.Pay(pay_request(
        pid, "WX_BAR", amount=amount, channel_extra=json.dumps({"authCode": AUTH_CODE})))
    assert answer.channel_state == S.CHANNEL_STATE_CONFIRM_SUCCESS
    return pid


async def refunded(mesh: ChannelMesh, pid: str, pay_amount: int, amount: int,
                   reason: str = "") -> str:
    rid = new_id("R")
    answer = await mesh.channel.Refund(channel_pb2.RefundRequest(
        if_code="sandbox", channel_params_json=json.dumps({"key": KEY}), pay_order_id=pid,
        refund_order_id=rid, pay_amount=pay_amount, refund_amount=amount, currency="cny",
        reason=reason))
    assert answer.channel_state in (S.CHANNEL_STATE_CONFIRM_SUCCESS, S.CHANNEL_STATE_WAITING)
    return rid


async def download(stub: channel_pb2_grpc.ChannelServiceStub, day: str,
                   params: str = TODAY_PARAMS, if_code: str = "sandbox",
                   metadata: tuple[tuple[str, str], ...] = ()
                   ) -> list[channel_pb2.DownloadBillResponse]:
    call = stub.DownloadBill(channel_pb2.DownloadBillRequest(
        if_code=if_code, channel_params_json=params, bill_date=day), metadata=metadata)
    return [message async for message in call]


def rows_by_ref(messages: list[channel_pb2.DownloadBillResponse]
                ) -> dict[str, channel_pb2.BillRow]:
    return {row.refund_order_id or row.pay_order_id: row
            for message in messages for row in message.rows}


async def test_the_sandbox_bill_holds_the_days_successes_with_fees(
        mesh: ChannelMesh, controls: SandboxControls, receiver: CallbackReceiver) -> None:
    started = int(time.time())
    big = await barcode_paid(mesh, 10000)
    odd = await barcode_paid(mesh, 250)  # 1.5 fen of fee: half up to 2
    declined = new_id("P")
    await mesh.channel.Pay(pay_request(
        declined, "WX_BAR", amount=300, channel_extra=json.dumps({"authCode": "1345678900002"})))
    page = new_id("P")
    waiting = await mesh.channel.Pay(pay_request(page, "ALI_WAP", amount=1234,
                                                 notify_url=receiver.url))
    await controls.sandbox.decide(token_of(waiting.pay_data), "success")
    unpaid = new_id("P")
    await mesh.channel.Pay(pay_request(unpaid, "ALI_WAP", amount=999))
    partial = await refunded(mesh, big, 10000, 100)
    full = await refunded(mesh, odd, 250, 250)
    pending = await refunded(mesh, page, 1234, 34, reason="[sandbox:pending] slow bank")

    messages = await download(mesh.channel, today())

    assert len(messages) == 1 and messages[0].HasField("totals")
    rows = rows_by_ref(messages)
    assert set(rows) == {big, odd, page, partial, full}  # no decline, no unpaid, no pending
    assert (rows[big].kind, rows[big].amount, rows[big].fee, rows[big].status) == (
        channel_pb2.BILL_ROW_KIND_PAY, 10000, 60, channel_pb2.BILL_ROW_STATUS_SUCCESS)
    assert (rows[odd].amount, rows[odd].fee) == (250, 2)
    assert (rows[page].amount, rows[page].fee) == (1234, 7)
    assert rows[big].channel_order_no.startswith("SB") and rows[big].currency == "CNY"
    assert (rows[partial].kind, rows[partial].pay_order_id, rows[partial].amount,
            rows[partial].fee) == (channel_pb2.BILL_ROW_KIND_REFUND, big, 100, -1)
    assert rows[partial].channel_refund_no.startswith("SBR")
    assert rows[partial].channel_order_no == rows[big].channel_order_no
    assert (rows[full].amount, rows[full].fee) == (250, -2)
    assert all(started - 1 <= row.trade_time <= time.time() + 1 for row in rows.values())
    assert messages[0].totals == channel_pb2.BillTotals(
        pay_count=3, pay_amount=11484, refund_count=2, refund_amount=350, fee=66)

    # The pending refund joins the bill once it succeeds; the page payment stays dated by its
    # payment, not moved by the refund that touched it.
    await controls.sandbox.finish_refund(pending, True)
    rows = rows_by_ref(await download(mesh.channel, today()))
    assert (rows[pending].amount, rows[pending].fee) == (34, 0)
    assert rows[page].amount == 1234

    # The fee rate is the account's: feeRate 1 %.
    params = json.dumps({"key": KEY, "billToday": True, "feeRate": "0.01"})
    rows = rows_by_ref(await download(mesh.channel, today(), params))
    assert (rows[big].fee, rows[odd].fee, rows[partial].fee) == (100, 3, -1)


async def test_refunds_give_back_exactly_the_fee_in_shares(mesh: ChannelMesh) -> None:
    pid = await barcode_paid(mesh, 1000)  # fee 6
    first = await refunded(mesh, pid, 1000, 250)  # 1.5 fen: 2
    second = await refunded(mesh, pid, 1000, 250)  # 3 for 500 so far, minus 2
    third = await refunded(mesh, pid, 1000, 500)  # 6 for all of it, minus 3

    rows = rows_by_ref(await download(mesh.channel, today()))

    assert [rows[ref].fee for ref in (pid, first, second, third)] == [6, -2, -1, -3]


async def test_a_day_is_billed_once_it_is_over(mesh: ChannelMesh) -> None:
    await barcode_paid(mesh, 500)
    plain = json.dumps({"key": KEY})
    for day, params in ((today(), plain), (_shift(today(), 1), TODAY_PARAMS)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await download(mesh.channel, day, params)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert reason_of(refused.value) == "BILL_NOT_READY"

    yesterday = await download(mesh.channel, _shift(today(), -1), plain)
    assert [list(m.rows) for m in yesterday] == [[]]  # today's payment is not yesterday's
    assert yesterday[0].totals == channel_pb2.BillTotals()


async def test_planted_mistakes_make_the_bill_disagree(mesh: ChannelMesh,
                                                       controls: SandboxControls) -> None:
    wrong_amount = await barcode_paid(mesh, 1000)
    wrong_fee = await barcode_paid(mesh, 1000)
    failed = await barcode_paid(mesh, 1000)
    omitted = await barcode_paid(mesh, 1000)
    refund_of = await barcode_paid(mesh, 1000)
    refund = await refunded(mesh, refund_of, 1000, 400)
    stranger = new_id("P")
    plant = controls.sandbox.plant_bill_mistake
    await plant("amount", wrong_amount, amount=1001)
    await plant("FEE", wrong_fee, fee=9)
    await plant("status", failed)
    await plant("omit", omitted)
    await plant("amount", refund)  # one fen more than refunded
    await plant("extra", stranger, amount=777)

    messages = await download(mesh.channel, today())

    rows = rows_by_ref(messages)
    assert omitted not in rows
    assert (rows[wrong_amount].amount, rows[wrong_amount].fee) == (1001, 6)
    assert (rows[wrong_fee].amount, rows[wrong_fee].fee) == (1000, 9)
    assert rows[failed].status == channel_pb2.BILL_ROW_STATUS_FAILED
    assert (rows[refund].amount, rows[refund].fee) == (401, -2)
    assert (rows[stranger].kind, rows[stranger].amount, rows[stranger].fee) == (
        channel_pb2.BILL_ROW_KIND_PAY, 777, 5)
    # The trailer adds the rows up as written, so the bill itself is consistent.
    assert messages[-1].totals == channel_pb2.BillTotals(
        pay_count=5, pay_amount=4778, refund_count=1, refund_amount=401, fee=6 + 9 + 6 + 6 + 5 - 2)

    # Planting again replaces the mistake of that kind; EXTRA rows stay on their own day.
    await plant("amount", wrong_amount, amount=999)
    assert rows_by_ref(await download(mesh.channel, today()))[wrong_amount].amount == 999
    with pytest.raises(Exception, match="SANDBOX_MISTAKE_INVALID|unknown bill mistake"):
        await plant("bogus", wrong_amount)


# The servicer's rules, with adapters that return made-up bills.


class FakeBillAdapter:
    """An adapter whose bill is whatever the test says; remembers being cleaned up."""

    if_code = "sandbox"

    def __init__(self, lines: list[BillLine], totals: BillTotals) -> None:
        self.lines, self.totals = lines, totals
        self.make: Callable[[], Bill] | None = None
        self.asked: list[tuple[Mapping[str, Any], datetime.date]] = []
        self.cleaned = 0

    async def download_bill(self, params: Mapping[str, Any], bill_date: datetime.date) -> Bill:
        self.asked.append((params, bill_date))
        if self.make is not None:
            return self.make()

        def cleanup() -> None:
            self.cleaned += 1

        return Bill(lines=iter(self.lines), totals=lambda: self.totals, cleanup=cleanup)


class NoBillAdapter:
    if_code = "wxpay"


@pytest.fixture
async def fake_stub() -> AsyncIterator[tuple[channel_pb2_grpc.ChannelServiceStub,
                                             FakeBillAdapter]]:
    fake = FakeBillAdapter([], BillTotals(0, 0, 0, 0, 0))
    server, health = build_server(SERVICE_NAMES)
    registry = AdapterRegistry([fake, NoBillAdapter()])  # type: ignore[list-item]
    channel_pb2_grpc.add_ChannelServiceServicer_to_server(ChannelServicer(registry), server)
    running = await start(server, health, "127.0.0.1:0", SERVICE_NAMES)
    grpc_channel = open_channel(f"127.0.0.1:{running.port}")
    try:
        yield channel_pb2_grpc.ChannelServiceStub(grpc_channel), fake
    finally:
        await grpc_channel.close()
        await running.stop(0)


def lines(count: int, refunds: int = 0) -> Iterator[BillLine]:
    for i in range(count):
        yield BillLine(BillKind.PAY, f"T{i}", f"P{i}", "", "", 100 + i, 1,
                       BillStatus.SUCCESS, 1717200000 + i, "CNY")
    for i in range(refunds):
        yield BillLine(BillKind.REFUND, f"T{i}", f"P{i}", f"R{i}", f"W{i}", 50, -1,
                       BillStatus.PROCESSING, 1717210000 + i, "CNY")


async def test_rows_stream_in_batches_of_2000_with_the_totals_last(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter]) -> None:
    stub, fake = fake_stub
    fake.lines = list(lines(4000, refunds=500))
    pay_amount = sum(100 + i for i in range(4000))
    fake.totals = BillTotals(4000, pay_amount, 500, 25000, 3500)

    messages = await download(stub, "2024-06-01", params='{"k": 1}')

    assert [len(m.rows) for m in messages] == [2000, 2000, 500]
    assert [m.HasField("totals") for m in messages] == [False, False, True]
    assert messages[-1].totals == channel_pb2.BillTotals(
        pay_count=4000, pay_amount=pay_amount, refund_count=500, refund_amount=25000, fee=3500)
    first, last = messages[0].rows[0], messages[-1].rows[-1]
    assert (first.kind, first.channel_order_no, first.pay_order_id, first.amount, first.fee,
            first.status, first.trade_time, first.currency) == (
        channel_pb2.BILL_ROW_KIND_PAY, "T0", "P0", 100, 1, channel_pb2.BILL_ROW_STATUS_SUCCESS,
        1717200000, "CNY")
    assert (last.kind, last.refund_order_id, last.channel_refund_no, last.fee, last.status) == (
        channel_pb2.BILL_ROW_KIND_REFUND, "R499", "W499", -1,
        channel_pb2.BILL_ROW_STATUS_PROCESSING)
    assert fake.asked == [({"k": 1}, datetime.date(2024, 6, 1))]
    assert fake.cleaned == 1


@pytest.mark.parametrize("total", ["pay_count", "pay_amount", "refund_count", "refund_amount",
                                   "fee"])
async def test_totals_that_disagree_with_the_rows_fail_the_bill(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter],
        total: str) -> None:
    stub, fake = fake_stub
    fake.lines = list(lines(2000, refunds=1))  # exactly one full batch before the end
    right = {"pay_count": 2000, "pay_amount": sum(100 + i for i in range(2000)),
             "refund_count": 1, "refund_amount": 50, "fee": 1999}
    fake.totals = BillTotals(**{**right, total: right[total] + 1})

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await download(stub, "2024-06-01")

    assert refused.value.code() == grpc.StatusCode.DATA_LOSS
    assert reason_of(refused.value) == "BILL_MALFORMED"
    assert total in (refused.value.details() or "")
    assert fake.cleaned == 1


async def test_the_sandbox_file_is_parsed_and_checked(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter],
        tmp_path: Path) -> None:
    stub, fake = fake_stub
    header = ("kind,channel_order_no,pay_order_id,refund_order_id,channel_refund_no,amount,fee,"
              "status,trade_time,currency\n")
    rows = ('PAY,SB1,"P,1",,,1000,6,SUCCESS,2024-06-01 10:00:30,CNY\n'
            "REFUND,SB1,\"P,1\",R1,SBR1,300,-2,PROCESSING,2024-06-01 23:59:59,CNY\n")
    files = {"good": header + rows + "TOTAL,1,1000,1,300,4\n",
             "truncated": header + rows,
             "lying": header + rows + "TOTAL,1,999,1,300,4\n",
             "garbled": header + rows.replace("1000", "10OO") + "TOTAL,1,1000,1,300,4\n"}
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")

    fake.make = lambda: parse_sandbox_bill(str(tmp_path / "good.csv"))
    messages = await download(stub, "2024-06-01")
    assert [(r.kind, r.pay_order_id, r.refund_order_id, r.amount, r.fee, r.status, r.trade_time)
            for r in messages[0].rows] == [
        (channel_pb2.BILL_ROW_KIND_PAY, "P,1", "", 1000, 6, channel_pb2.BILL_ROW_STATUS_SUCCESS,
         1717207230),
        (channel_pb2.BILL_ROW_KIND_REFUND, "P,1", "R1", 300, -2,
         channel_pb2.BILL_ROW_STATUS_PROCESSING, 1717257599)]
    assert messages[-1].totals == channel_pb2.BillTotals(
        pay_count=1, pay_amount=1000, refund_count=1, refund_amount=300, fee=4)

    for name, words in (("truncated", "trailer"), ("lying", "pay_amount"),
                        ("garbled", "line 2")):
        path = tmp_path / f"{name}.csv"
        fake.make = lambda path=path: parse_sandbox_bill(str(path))  # type: ignore[misc]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await download(stub, "2024-06-01")
        assert refused.value.code() == grpc.StatusCode.DATA_LOSS, name
        assert reason_of(refused.value) == "BILL_MALFORMED"
        assert words in (refused.value.details() or ""), name


async def columnar(stub: channel_pb2_grpc.ChannelServiceStub, partitions: int = 0
                   ) -> list[channel_pb2.DownloadBillResponse]:
    call = stub.DownloadBill(channel_pb2.DownloadBillRequest(
        if_code="sandbox", channel_params_json="{}", bill_date="2024-06-01", columnar=True,
        partitions=partitions))
    return [message async for message in call]


def column_rows(message: channel_pb2.DownloadBillResponse) -> list[tuple[Any, ...]]:
    c = message.columns
    return list(zip(c.kinds, c.channel_order_nos, c.pay_order_ids, c.refund_order_ids,
                    c.channel_refund_nos, c.amounts, c.fees, c.statuses, c.trade_times,
                    c.currencies, strict=True))


def row_tuple(r: channel_pb2.BillRow) -> tuple[Any, ...]:
    return (r.kind, r.channel_order_no, r.pay_order_id, r.refund_order_id, r.channel_refund_no,
            r.amount, r.fee, r.status, r.trade_time, r.currency)


async def test_columns_carry_the_same_rows_in_batches_of_10000(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter]) -> None:
    stub, fake = fake_stub
    fake.lines = list(lines(24000, refunds=1500))
    pay_amount = sum(100 + i for i in range(24000))
    fake.totals = BillTotals(24000, pay_amount, 1500, 75000, 22500)
    totals = channel_pb2.BillTotals(pay_count=24000, pay_amount=pay_amount, refund_count=1500,
                                    refund_amount=75000, fee=22500)

    by_rows = await download(stub, "2024-06-01", params="{}")
    by_columns = await columnar(stub)

    assert [len(m.columns.kinds) for m in by_columns] == [10000, 10000, 5500]
    assert not any(m.rows for m in by_columns)
    assert not any(m.HasField("partition") for m in by_columns)
    assert [m.HasField("totals") for m in by_columns] == [False, False, True]
    assert by_columns[-1].totals == by_rows[-1].totals == totals
    assert [row for m in by_columns for row in column_rows(m)] == [
        row_tuple(r) for m in by_rows for r in m.rows]
    assert fake.cleaned == 2


async def test_partitioned_columns_group_rows_by_the_crc_of_their_order_number(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter]) -> None:
    stub, fake = fake_stub
    fake.lines = list(lines(12000, refunds=700))
    fake.totals = BillTotals(12000, sum(100 + i for i in range(12000)), 700, 35000, 11300)
    everything = [row for m in await columnar(stub) for row in column_rows(m)]

    messages = await columnar(stub, partitions=7)

    assert all(m.HasField("partition") for m in messages)
    assert messages[-1].totals == channel_pb2.BillTotals(
        pay_count=12000, pay_amount=sum(100 + i for i in range(12000)), refund_count=700,
        refund_amount=35000, fee=11300)
    assert [m.HasField("totals") for m in messages].count(True) == 1
    grouped: dict[int, list[tuple[Any, ...]]] = {}
    for message in messages:
        rows = column_rows(message)
        assert rows, "no empty message but maybe the last"
        for row in rows:  # a refund by its refund order id, a payment by its pay order id
            key = row[3] if row[0] == channel_pb2.BILL_ROW_KIND_REFUND else row[2]
            assert zlib.crc32(key.encode()) % 7 == message.partition
        grouped.setdefault(message.partition, []).extend(rows)
    assert set(grouped) == set(range(7))
    for partition, rows in grouped.items():  # each partition keeps the bill's order
        assert rows == [row for row in everything
                        if zlib.crc32((row[3] or row[2]).encode()) % 7 == partition]

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await columnar(stub, partitions=4097)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_columns_are_checked_against_the_totals_too(
        fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub, FakeBillAdapter]) -> None:
    stub, fake = fake_stub
    fake.lines = list(lines(10000, refunds=3))  # one full batch, then the rest
    fake.totals = BillTotals(10000, sum(100 + i for i in range(10000)), 3, 151, 9997)
    for partitions in (0, 5):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await columnar(stub, partitions)
        assert reason_of(refused.value) == "BILL_MALFORMED"
        assert "refund_amount" in (refused.value.details() or "")


async def test_refusals(fake_stub: tuple[channel_pb2_grpc.ChannelServiceStub,
                                         FakeBillAdapter]) -> None:
    stub, fake = fake_stub
    cases = [
        ("nochannel", "2024-06-01", (), grpc.StatusCode.INVALID_ARGUMENT,
         "CHANNEL_NOT_SUPPORTED"),
        ("sandbox", "2024-6-1", (), grpc.StatusCode.INVALID_ARGUMENT, "BILL_DATE_INVALID"),
        ("sandbox", "2024-02-30", (), grpc.StatusCode.INVALID_ARGUMENT, "BILL_DATE_INVALID"),
        ("sandbox", "20240601", (), grpc.StatusCode.INVALID_ARGUMENT, "BILL_DATE_INVALID"),
        ("wxpay", "2024-06-01", (), grpc.StatusCode.UNIMPLEMENTED, "BILL_NOT_SUPPORTED"),
        ("sandbox", "2024-06-01", (("x-paymesh-edge", "1"),), grpc.StatusCode.PERMISSION_DENIED,
         "INTERNAL_ONLY"),
    ]
    for if_code, day, metadata, code, reason in cases:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await download(stub, day, if_code=if_code, metadata=metadata)
        assert (refused.value.code(), reason_of(refused.value)) == (code, reason), if_code
    assert fake.asked == []  # nothing was downloaded for a refused call


def _shift(day: str, days: int) -> str:
    return (datetime.date.fromisoformat(day) + datetime.timedelta(days=days)).isoformat()
