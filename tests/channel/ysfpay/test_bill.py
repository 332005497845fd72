"""The UnionPay reconciliation (ZM) file: golden fixed-width rows parsed to exact lines, and the
files the simulator serves by ACP file transfer from its own book."""

from __future__ import annotations

import datetime
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paymesh.services.channel.adapters.base import ChannelState, PaymentOrder, RefundOrder
from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
)
from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.channel.adapters.ysfpay.bill import parse_reconciliation_zip
from paymesh.services.common.errors import DomainError
from paymesh.services.simulators.ysfpay import YsfpaySimulator

from .support import wait_until

S = ChannelState
MER_ID = "777290058110097"
DAY = datetime.date(2024, 6, 1)
START = int(datetime.datetime(2024, 6, 1, tzinfo=CST).timestamp())
NOTIFY = "http://127.0.0.1:9/api/pay/notify/ysfpay"
# The ZM layout, written out here on its own: field widths in bytes, one space between fields.
WIDTHS = [3, 11, 11, 6, 10, 19, 12, 4, 2, 21, 2, 32, 2, 6, 10, 13, 13, 4, 15, 2, 2, 6, 2, 4, 32,
          1, 21, 15, 1, 15, 32, 13, 13, 8, 32, 13, 13, 12, 2, 1, 32, 98]


def zm_row(**fields: str) -> bytes:
    """One ZM line from the fields that matter, by position; the rest blank."""
    positions = {"code": 0, "trace": 3, "time": 4, "amount": 6, "query_id": 9, "order_id": 11,
                 "fee": 15, "settle": 16, "txn_type": 19, "sub_type": 20, "orig_query_id": 26,
                 "mer_id": 27, "sub_name": 30, "net": 32, "orig_order_id": 40}
    values = [""] * len(WIDTHS)
    values[27] = MER_ID
    for name, value in fields.items():
        values[positions[name]] = value
    return b" ".join(value.encode("gbk").ljust(width) for value, width in zip(
        values, WIDTHS, strict=True)) + b"\r\n"


GOLDEN = [
    zm_row(code="S22", time="0601103000", amount="000000010000", query_id="Q0001",
           order_id="P1797000000000000001", fee="D000000000060", settle="C000000010000",
           txn_type="01", sub_type="06", sub_name="茶馆（西湖店）", net="C000000009940"),
    zm_row(code="S30", time="0601110005", amount="000000003000", query_id="Q0002",
           order_id="R1797000000000000002", fee="C000000000018", settle="D000000003000",
           txn_type="04", sub_type="00", orig_query_id="Q0001", sub_name="茶馆（西湖店）",
           net="D000000002982", orig_order_id="P1797000000000000001"),
    zm_row(code="S31", time="0601235959", amount="000000000500", query_id="Q0004",
           order_id="P1797000000000000003C", fee="C000000000003", settle="D000000000500",
           txn_type="31", sub_type="00", orig_query_id="Q0003",
           orig_order_id="P1797000000000000003"),
    zm_row(code="S22", time="0601120000", amount="000000000500", query_id="Q0003",
           order_id="P1797000000000000003", fee="D000000000003", settle="C000000000500",
           txn_type="01", sub_type="06"),
    zm_row(code="S99", time="0601130000", amount="000000000100", query_id="Q0005",
           order_id="X1", txn_type="99", sub_type="01"),  # a reversal: not a trade, skipped
]
GOLDEN_LINES = [
    BillLine(BillKind.PAY, "Q0001", "P1797000000000000001", "", "", 10000, 60,
             BillStatus.SUCCESS, START + 37800, "CNY"),
    BillLine(BillKind.REFUND, "Q0001", "P1797000000000000001", "R1797000000000000002", "Q0002",
             3000, -18, BillStatus.SUCCESS, START + 39605, "CNY"),
    BillLine(BillKind.REFUND, "Q0003", "P1797000000000000003", "P1797000000000000003C", "Q0004",
             500, -3, BillStatus.SUCCESS, START + 86399, "CNY"),
    BillLine(BillKind.PAY, "Q0003", "P1797000000000000003", "", "", 500, 3, BillStatus.SUCCESS,
             START + 43200, "CNY")]


def write_zip(path: Path, rows: list[bytes], name: str = f"INN24060188ZM_{MER_ID}") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, b"".join(rows))
        archive.writestr(f"INN24060188ZME_{MER_ID}", b"")
    return path


def read_all(bill: Bill) -> tuple[list[BillLine], BillTotals]:
    try:
        lines = list(bill.lines)
        return lines, bill.totals()
    finally:
        bill.cleanup()


def test_a_golden_file_parses_to_exact_rows_by_byte_width(tmp_path: Path) -> None:
    # 二级商户简称 holds GBK characters (2 bytes each) before the fields read after it.
    lines, totals = read_all(parse_reconciliation_zip(write_zip(tmp_path / "f.zip", GOLDEN),
                                                      DAY, MER_ID))
    assert lines == GOLDEN_LINES
    # The ZM file states no totals: they are the rows' sums.
    assert totals == BillTotals(pay_count=2, pay_amount=10500, refund_count=2,
                                refund_amount=3500, fee=42)


@pytest.mark.parametrize(("rows", "name", "problem"), [
    (GOLDEN[:2] + [GOLDEN[2][:300] + b"\r\n"], f"INN24060188ZM_{MER_ID}", "truncated"),
    ([GOLDEN[0].replace(b"D000000000060", b"X000000000060")], f"INN24060188ZM_{MER_ID}",
     "line 1"),
    ([GOLDEN[0].replace(MER_ID.encode(), b"777290058119999")], f"INN24060188ZM_{MER_ID}",
     "another merchant"),
])
def test_a_broken_file_is_malformed(tmp_path: Path, rows: list[bytes], name: str,
                                    problem: str) -> None:
    bill = parse_reconciliation_zip(write_zip(tmp_path / "f.zip", rows, name), DAY, MER_ID)
    with pytest.raises(BillMalformed, match=problem):
        read_all(bill)


@pytest.mark.parametrize("name", [f"INN24053188ZM_{MER_ID}", "INN24060188ZM_777290058119999",
                                  "README.txt"])
def test_a_zip_without_the_days_zm_file_is_malformed(tmp_path: Path, name: str) -> None:
    with pytest.raises(BillMalformed):
        parse_reconciliation_zip(write_zip(tmp_path / "f.zip", GOLDEN, name), DAY, MER_ID)


@pytest.fixture
def bill_sim() -> Iterator[YsfpaySimulator]:
    """A simulator of its own: these tests move its clock ahead."""
    with YsfpaySimulator(time_scale=0.001) as running:
        yield running


def today(sim: YsfpaySimulator) -> datetime.date:
    return datetime.datetime.fromtimestamp(sim.now(), CST).date()


async def barcode(adapter: YsfpayAdapter, params: dict[str, Any], pay_order_id: str,
                  amount: int) -> str:
    paid = await adapter.pay(params, PaymentOrder(
        pay_order_id=pay_order_id, way_code="YSF_BAR", amount=amount, currency="cny",
        subject="tea", channel_extra=json.dumps({"authCode": "6220000011112222333"})), NOTIFY)
    assert paid.state == S.CONFIRM_SUCCESS
    return paid.channel_order_no


def brief(lines: list[BillLine]) -> set[tuple[BillKind, str, str, int, int]]:
    return {(line.kind, line.pay_order_id, line.refund_order_id, line.amount, line.fee)
            for line in lines}


async def test_the_simulator_files_its_book_once_the_day_is_made(
        adapter: YsfpayAdapter, bill_sim: YsfpaySimulator,
        new_id: Callable[..., str]) -> None:
    params = bill_sim.adapter_params()
    coffee, tea, undone = new_id(), new_id(), new_id()
    coffee_no = await barcode(adapter, params, coffee, 1000)
    tea_no = await barcode(adapter, params, tea, 150)
    await barcode(adapter, params, undone, 500)
    halves = [new_id("R"), new_id("R")]
    for refund_id in halves:
        result = await adapter.refund(params, RefundOrder(tea, refund_id, 150, 75, "cny",
                                                          tea_no), NOTIFY)
        assert result.state == S.WAITING
    await wait_until(lambda: all(txn["state"] == "SUCCESS" for txn in bill_sim.snapshot()
                                 if txn["order_id"] in halves))
    assert (await adapter.cancel(params, undone)).state == S.CONFIRM_SUCCESS
    day = today(bill_sim)

    with pytest.raises(BillNotReady):
        await adapter.download_bill(params, day)
    bill_sim.advance(2 * 86400)
    lines, totals = read_all(await adapter.download_bill(params, day))

    # 0.6 % half up; refunds (and the undo) give back their share of the consume's fee.
    assert brief(lines) == {
        (BillKind.PAY, coffee, "", 1000, 6), (BillKind.PAY, tea, "", 150, 1),
        (BillKind.REFUND, tea, halves[0], 75, 0), (BillKind.REFUND, tea, halves[1], 75, -1),
        (BillKind.PAY, undone, "", 500, 3), (BillKind.REFUND, undone, undone + "C", 500, -3)}
    queried = {txn["order_id"]: txn["query_id"] for txn in bill_sim.snapshot()}
    for line in lines:
        assert line.channel_order_no == queried[line.pay_order_id]
        assert line.channel_refund_no == queried.get(line.refund_order_id, "")
        assert line.status == BillStatus.SUCCESS and line.currency == "CNY"
    assert {line.channel_order_no for line in lines if line.pay_order_id == coffee} == {
        coffee_no}
    assert totals == BillTotals(pay_count=3, pay_amount=1650, refund_count=3, refund_amount=650,
                                fee=6)


async def test_planted_mistakes_show_in_the_file(adapter: YsfpayAdapter,
                                                 bill_sim: YsfpaySimulator,
                                                 new_id: Callable[..., str]) -> None:
    params = bill_sim.adapter_params()
    dearer, costlier, lost = new_id(), new_id(), new_id()
    for pay_order_id in (dearer, costlier, lost):
        await barcode(adapter, params, pay_order_id, 1000)
    bill_sim.set_barcode_mode("fail")
    declined = new_id()
    result = await adapter.pay(params, PaymentOrder(
        pay_order_id=declined, way_code="YSF_BAR", amount=800, currency="cny", subject="tea",
        channel_extra=json.dumps({"authCode": "6220000011112222333"})), NOTIFY)
    assert result.state == S.CONFIRM_FAIL
    stranger = new_id("X")
    for mistake in ({"kind": "amount", "orderId": dearer, "fen": 1001},
                    {"kind": "fee", "orderId": costlier, "fen": 9},
                    {"kind": "missing", "orderId": lost},
                    {"kind": "status", "orderId": declined},
                    {"kind": "extra", "orderId": stranger, "fen": 500}):
        bill_sim.control("bill-mistake", mistake)
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    lines, _ = read_all(await adapter.download_bill(params, day))
    assert brief(lines) == {
        (BillKind.PAY, dearer, "", 1001, 6), (BillKind.PAY, costlier, "", 1000, 9),
        (BillKind.PAY, declined, "", 800, 5), (BillKind.PAY, stranger, "", 500, 3)}

    bill_sim.control("bill-mistake", {"kind": "truncate"})
    with pytest.raises(BillMalformed, match="truncated"):
        read_all(await adapter.download_bill(params, day))


async def test_an_answer_that_does_not_verify_is_channel_unavailable(
        adapter: YsfpayAdapter, bill_sim: YsfpaySimulator, new_id: Callable[..., str]) -> None:
    params = bill_sim.adapter_params()
    await barcode(adapter, params, new_id(), 1000)
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    for fault in ("tamper", "rogue", "5xx"):
        bill_sim.fault(fault)
        with pytest.raises(DomainError) as failed:
            await adapter.download_bill(params, day)
        assert failed.value.reason == "CHANNEL_UNAVAILABLE", fault
    assert len(read_all(await adapter.download_bill(params, day))[0]) == 1


async def test_another_merchant_is_refused(adapter: YsfpayAdapter,
                                           bill_sim: YsfpaySimulator) -> None:
    params = {**bill_sim.adapter_params(), "sub": {"merId": "777290058119999"}}
    with pytest.raises(DomainError) as refused:
        await adapter.download_bill(params, today(bill_sim) - datetime.timedelta(days=1))
    assert refused.value.reason == "CHANNEL_CONFIG_INVALID"
