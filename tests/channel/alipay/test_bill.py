"""The Alipay trade bill: a golden hand-written zip parsed to exact rows and totals, and bills the
simulator writes from its own book after real payments and refunds through the adapter."""

from __future__ import annotations

import datetime
import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.alipay.bill import parse_trade_bill
from paymesh.services.channel.adapters.base import ChannelState, RefundOrder
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
from paymesh.services.common.errors import DomainError
from paymesh.services.simulators.alipay import AlipaySimulator

from . import order, order_id
from .conftest import TIME_SCALE
from .test_simulator import call

S = ChannelState
DAY = datetime.date(2024, 6, 1)
START = int(datetime.datetime(2024, 6, 1, tzinfo=CST).timestamp())
HEADER = ("支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
          "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,"
          "商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,"
          "退款批次号/请求号,服务费（元）,分润（元）,备注")
RULE = "#-----------------------------------------"
DETAIL = "\n".join([
    "#支付宝业务明细查询",
    "#账号：[20880000000000010156]",
    "#起始日期：[2024年06月01日 00:00:00]   终止日期：[2024年06月02日 00:00:00]",
    RULE + "业务明细列表----------------------------------------",
    HEADER,
    "2024060122001400000000000001\t,P1797000000000000001\t,交易\t,测试商品,2024-06-01 10:00:00,"
    "2024-06-01 10:00:30,\t,\t,\t,\t,*三(buy***@example.com)\t,100.00,100.00,0.00,0.00,0.00,"
    "0.00,0.00,,0.00\t,0.00,\t,-0.60,0.00,测试商品",
    "2024060122001400000000000001\t,P1797000000000000001\t,退款\t,测试商品,2024-06-01 11:00:00,"
    "2024-06-01 11:00:05,\t,\t,\t,\t,*三(buy***@example.com)\t,100.00,-30.00,0.00,0.00,0.00,"
    "0.00,0.00,,0.00\t,0.00,R1797000000000000002\t,0.18,0.00,",
    "2024060122001400000000000003\t,P1797000000000000003\t,交易\t,\"茶, 绿\",2024-06-01 23:59:00,"
    "2024-06-01 23:59:59,\t,\t,\t,\t,*四(138****0000)\t,10.00,9.00,0.00,0.00,0.00,1.00,0.00,,"
    "0.00\t,0.00,\t,-0.06,0.00,",
    RULE + "业务明细列表结束------------------------------------",
    "#交易合计：2笔，商家实收共109.00元，商家优惠共1.00元",
    "#退款合计：1笔，商家实收退款共-30.00元，商家优惠退款共0.00元",
    "#导出时间：[2024年06月02日 05:46:49]", ""])
SUMMARY = "\n".join([
    "#支付宝业务汇总查询",
    "#账号：[20880000000000010156]",
    "#起始日期：[2024年06月01日 00:00:00]   终止日期：[2024年06月02日 00:00:00]",
    "门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,支付宝优惠（元）,"
    "商家优惠（元）,卡消费金额（元）,服务费（元）,分润（元）,实收净额（元）",
    "\t,\t,2,1,110.00,79.00,0.00,1.00,0.00,-0.48,0.00,78.52",
    "合计,,2,1,110.00,79.00,0.00,1.00,0.00,-0.48,0.00,78.52",
    "#导出时间：[2024年06月02日 05:46:49]", ""])
GOLDEN_LINES = [
    BillLine(BillKind.PAY, "2024060122001400000000000001", "P1797000000000000001", "", "",
             10000, 60, BillStatus.SUCCESS, START + 36030, "CNY"),
    BillLine(BillKind.REFUND, "2024060122001400000000000001", "P1797000000000000001",
             "R1797000000000000002", "", 3000, -18, BillStatus.SUCCESS, START + 39605, "CNY"),
    BillLine(BillKind.PAY, "2024060122001400000000000003", "P1797000000000000003", "", "",
             1000, 6, BillStatus.SUCCESS, START + 86399, "CNY")]
GOLDEN_TOTALS = BillTotals(pay_count=2, pay_amount=11000, refund_count=1, refund_amount=3000,
                           fee=48)


class GbkName(zipfile.ZipInfo):
    """An entry named in GBK without the UTF-8 flag, as Alipay's zips are."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def write_zip(path: Path, detail: str, summary: str, *, gbk_names: bool = True,
              crlf: bool = False) -> Path:
    stem = "20880000000000010156_20240601"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix, text in (("_业务明细.csv", detail), ("_业务明细(汇总).csv", summary)):
            name = stem + suffix
            info = GbkName(name) if gbk_names else zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (text.replace("\n", "\r\n") if crlf else text).encode("gbk"))
    return path


def read_all(bill: Bill) -> tuple[list[BillLine], BillTotals]:
    try:
        lines = list(bill.lines)
        return lines, bill.totals()
    finally:
        bill.cleanup()


@pytest.mark.parametrize(("gbk_names", "crlf"), [(True, False), (True, True), (False, True)])
def test_a_golden_bill_parses_to_exact_rows_and_totals(tmp_path: Path, gbk_names: bool,
                                                       crlf: bool) -> None:
    path = write_zip(tmp_path / "bill.zip", DETAIL, SUMMARY, gbk_names=gbk_names, crlf=crlf)
    assert read_all(parse_trade_bill(path, DAY)) == (GOLDEN_LINES, GOLDEN_TOTALS)


@pytest.mark.parametrize(("detail", "summary", "problem"), [
    (DETAIL.split(RULE + "业务明细列表结束")[0], SUMMARY, "truncated"),
    (DETAIL.replace("2024年06月01日 00:00:00]", "2024年05月31日 00:00:00]"), SUMMARY, "2024-05-31"),
    (DETAIL, SUMMARY.replace("合计,,2,1", "合计,,3,1"), "summary"),
    (DETAIL.replace("100.00,-30.00", "100.00,-3O.00"), SUMMARY, "line 7"),
    (DETAIL.replace(",测试商品\n", ",测试商品,多一列\n"), SUMMARY, "26 values"),
])
def test_a_broken_bill_is_malformed(tmp_path: Path, detail: str, summary: str,
                                    problem: str) -> None:
    bill = parse_trade_bill(write_zip(tmp_path / "bill.zip", detail, summary), DAY)
    with pytest.raises(BillMalformed, match=problem):
        read_all(bill)


def test_an_unreadable_or_incomplete_zip_is_malformed(tmp_path: Path) -> None:
    whole = write_zip(tmp_path / "bill.zip", DETAIL, SUMMARY).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(BillMalformed, match="zip"):
        parse_trade_bill(cut, DAY)
    lone = tmp_path / "lone.zip"
    with zipfile.ZipFile(lone, "w") as archive:
        archive.writestr(GbkName("20880000000000010156_20240601_业务明细.csv"),
                         DETAIL.encode("gbk"))
    with pytest.raises(BillMalformed, match="summary"):
        parse_trade_bill(lone, DAY)


@pytest.fixture
def bill_sim() -> Iterator[AlipaySimulator]:
    """A simulator of its own: these tests move its clock a day and a half ahead."""
    with AlipaySimulator(time_scale=TIME_SCALE) as running:
        yield running


def today(sim: AlipaySimulator) -> datetime.date:
    return datetime.datetime.fromtimestamp(sim.now(), CST).date()


async def barcode(adapter: AlipayAdapter, params: dict[str, Any], amount: int) -> str:
    paid = order("ALI_BAR", amount=amount, extra='{"authCode":"287951669607283456"}')
    assert (await adapter.pay(params, paid, "")).state is S.CONFIRM_SUCCESS
    return paid.pay_order_id


async def refund(adapter: AlipayAdapter, params: dict[str, Any], pay_order_id: str,
                 amount: int, paid: int) -> str:
    refund_id = order_id("R")
    result = await adapter.refund(params, RefundOrder(pay_order_id, refund_id, paid, amount,
                                                      "cny"), "")
    assert result.state is S.CONFIRM_SUCCESS
    return refund_id


def brief(lines: list[BillLine]) -> set[tuple[BillKind, str, str, int, int]]:
    return {(line.kind, line.pay_order_id, line.refund_order_id, line.amount, line.fee)
            for line in lines}


async def test_the_simulator_bills_its_book_once_the_day_is_made(
        adapter: AlipayAdapter, bill_sim: AlipaySimulator) -> None:
    params = bill_sim.adapter_params()
    started = int(bill_sim.now())
    coffee = await barcode(adapter, params, 1000)
    tea = await barcode(adapter, params, 150)
    halves = [await refund(adapter, params, tea, 75, 150) for _ in range(2)]
    scanned = order("ALI_QR", amount=99999)
    await adapter.pay(params, scanned, "")
    bill_sim.pay(scanned.pay_order_id)
    unpaid = order("ALI_QR", amount=500)
    await adapter.pay(params, unpaid, "")
    day = today(bill_sim)

    # Alipay makes the day's bill by about 09:00 the next morning.
    with pytest.raises(BillNotReady):
        await adapter.download_bill(params, day)
    morning = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(9), CST)
    bill_sim.advance(morning.timestamp() - bill_sim.now() - 60)
    with pytest.raises(BillNotReady):
        await adapter.download_bill(params, day)
    bill_sim.advance(61)
    lines, totals = read_all(await adapter.download_bill(params, day))

    # 0.6 % half up per row; the refunds give back the payment's 1 fen between them.
    assert brief(lines) == {
        (BillKind.PAY, coffee, "", 1000, 6), (BillKind.PAY, tea, "", 150, 1),
        (BillKind.REFUND, tea, halves[0], 75, 0), (BillKind.REFUND, tea, halves[1], 75, -1),
        (BillKind.PAY, scanned.pay_order_id, "", 99999, 600)}
    for line in lines:
        assert line.channel_order_no == bill_sim.trade(line.pay_order_id)["trade_no"]
        assert (line.status, line.currency, line.channel_refund_no) == (BillStatus.SUCCESS,
                                                                        "CNY", "")
        assert started - 1 <= line.trade_time <= started + 60
    assert totals == BillTotals(pay_count=3, pay_amount=101149, refund_count=2,
                                refund_amount=150, fee=606)


async def test_an_isv_bill_holds_only_its_sub_merchants_trades(
        adapter: AlipayAdapter, bill_sim: AlipaySimulator) -> None:
    normal, isv = bill_sim.adapter_params(), bill_sim.adapter_params(isv=True)
    own = await barcode(adapter, normal, 300)
    sub = await barcode(adapter, isv, 700)
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    assert brief(read_all(await adapter.download_bill(normal, day))[0]) == {
        (BillKind.PAY, own, "", 300, 2)}
    assert brief(read_all(await adapter.download_bill(isv, day))[0]) == {
        (BillKind.PAY, sub, "", 700, 4)}


async def test_planted_mistakes_show_in_a_well_formed_bill(
        adapter: AlipayAdapter, bill_sim: AlipaySimulator) -> None:
    params = bill_sim.adapter_params()
    dearer, costlier, lost = [await barcode(adapter, params, 1000) for _ in range(3)]
    kept = await barcode(adapter, params, 2000)
    back = await refund(adapter, params, kept, 500, 2000)
    never_paid = order("ALI_JSAPI", amount=800, extra='{"buyerUserId":"2088102146225135"}')
    assert (await adapter.pay(params, never_paid, "")).state is S.WAITING
    stranger = order_id("X")
    for mistake in ({"kind": "amount", "out_trade_no": dearer, "fen": 1001},
                    {"kind": "fee", "out_trade_no": costlier, "fen": 9},
                    {"kind": "amount", "out_trade_no": kept, "out_request_no": back, "fen": 499},
                    {"kind": "missing", "out_trade_no": lost},
                    {"kind": "status", "out_trade_no": never_paid.pay_order_id},
                    {"kind": "extra", "out_trade_no": stranger, "fen": 500}):
        bill_sim.control("bill_mistake", **mistake)
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    lines, totals = read_all(await adapter.download_bill(params, day))

    assert brief(lines) == {
        (BillKind.PAY, dearer, "", 1001, 6), (BillKind.PAY, costlier, "", 1000, 9),
        (BillKind.PAY, kept, "", 2000, 12), (BillKind.REFUND, kept, back, 499, -3),
        (BillKind.PAY, never_paid.pay_order_id, "", 800, 5),
        (BillKind.PAY, stranger, "", 500, 3)}
    pays = [line for line in lines if line.kind is BillKind.PAY]
    assert totals == BillTotals(len(pays), sum(line.amount for line in pays), 1, 499,
                                sum(line.fee for line in lines))


async def test_a_tampered_or_truncated_bill_is_caught(adapter: AlipayAdapter,
                                                      bill_sim: AlipaySimulator) -> None:
    params = bill_sim.adapter_params()
    paid = await barcode(adapter, params, 1000)
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    bill_sim.control("bill_mistake", kind="tamper", out_trade_no=paid, fen=1)
    lines, totals = read_all(await adapter.download_bill(params, day))
    # The row changed after the trailer was written: the sums no longer meet the totals.
    assert [line.amount for line in lines] == [1]
    assert totals.pay_amount == 1000
    bill_sim.control("bill_mistake", kind="clear")
    bill_sim.control("bill_mistake", kind="truncate")
    with pytest.raises(BillMalformed):
        await adapter.download_bill(params, day)


def test_the_download_url_lives_thirty_seconds(bill_sim: AlipaySimulator) -> None:
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    answer = call(bill_sim, "alipay.data.dataservice.bill.downloadurl.query",
                  {"bill_type": "trade", "bill_date": day.isoformat()})
    url = answer["bill_download_url"]
    with urllib.request.urlopen(url, timeout=5) as got:
        names = zipfile.ZipFile(io.BytesIO(got.read()), metadata_encoding="gbk").namelist()
    assert sorted(names) == [f"20880000000000010156_{day:%Y%m%d}_业务明细(汇总).csv",
                             f"20880000000000010156_{day:%Y%m%d}_业务明细.csv"]
    bill_sim.advance(31)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(url, timeout=5)
    assert expired.value.code == 404
    refused = call(bill_sim, "alipay.data.dataservice.bill.downloadurl.query",
                   {"bill_type": "trade", "bill_date": (day + datetime.timedelta(days=2))
                    .isoformat()})
    assert (refused["code"], refused["sub_code"]) == ("40004", "isp.bill_not_exist")


async def test_a_broken_download_is_channel_unavailable(adapter: AlipayAdapter,
                                                        bill_sim: AlipaySimulator) -> None:
    params = bill_sim.adapter_params()
    day = today(bill_sim)
    bill_sim.advance(2 * 86400)
    bill_sim.fault("http", method="alipay.data.dataservice.bill.downloadurl.query")
    with pytest.raises(DomainError) as failed:
        await adapter.download_bill(params, day)
    assert failed.value.reason == "CHANNEL_UNAVAILABLE"
    bill_sim.fault("wrongkey", method="alipay.data.dataservice.bill.downloadurl.query")
    with pytest.raises(DomainError) as forged:
        await adapter.download_bill(params, day)
    assert forged.value.reason == "CHANNEL_UNAVAILABLE"
