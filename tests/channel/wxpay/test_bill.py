"""The WeChat Pay trade bill: the parser on golden text, the download against the simulator's
book (hash, readiness, planted mistakes), and DownloadBill over gRPC."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from paymesh.channel.v1 import channel_pb2
from paymesh.services.channel.adapters.bills import (
    CST,
    Bill,
    BillKind,
    BillLine,
    BillMalformed,
    BillNotReady,
    BillStatus,
    BillTotals,
    ChannelUnavailable,
    check_totals,
)
from paymesh.services.channel.adapters.wxpay import WxpayAdapter, signing
from paymesh.services.channel.adapters.wxpay.bill import parse_wxpay_trade_bill
from paymesh.services.channel.adapters.wxpay.bill_download import _bill_due, _download
from paymesh.services.channel.adapters.wxpay.config import load_config
from paymesh.services.channel.adapters.wxpay.transport import AnswerKind, SignedTransport
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of
from paymesh.services.simulators.wxpay import WxpaySimulator
from paymesh.services.simulators.wxpay.keys import SimKeys

from .. import running_channel
from .conftest import TIME_SCALE, order, refund_of

HEADER = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
          "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
          "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
          "费率备注")
SUMMARY_HEADER = ("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
                  "申请退款总金额")
ROWS = [
    "`2024-06-01 10:00:30,`wx0000000000000001,`1900000001,`0,`,`4200000000202406010000000001,"
    "`P1797000000000000001,`oAbCdEfGhIjKlMnOpQrStUvWxYz0,`NATIVE,`SUCCESS,`OTHERS,`CNY,`100.00,"
    "`0.00,`0,`0,`0.00,`0.00,`,`,`测试商品,`,`0.60000,`0.60%,`100.00,`0.00,`",
    "`2024-06-01 23:59:59,`wx0000000000000001,`1900000001,`0,`,`4200000000202406010000000001,"
    "`P1797000000000000001,`oAbCdEfGhIjKlMnOpQrStUvWxYz0,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,"
    "`0.00,`50300000000000000000000000001,`R1797000000000000001,`30.50,`0.00,`ORIGINAL,"
    "`SUCCESS,`茶,咖啡,`{\"a\":1},`-0.18000,`0.60%,`0.00,`30.50,`",
    "`2024-06-01 00:00:00,`wx0000000000000001,`1900000001,`0,`,`4200000000202406010000000002,"
    "`P1797000000000000002,`oX,`MICROPAY,`REVOKED,`CMB_DEBIT,`CNY,`0.01,`0.00,`0,`0,`0.00,"
    "`0.00,`,`,`x,`,`0.00000,`0.60%,`0.01,`0.00,`",
    "`2024-06-01 12:00:00,`wx0000000000000001,`1900000001,`0,`,`4200000000202406010000000003,"
    "`P1797000000000000003,`oY,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
    "`50300000000000000000000000002,`R1797000000000000002,`1.00,`0.00,`ORIGINAL,`PROCESSING,"
    "`y,`,`-0.00500,`0.60%,`0.00,`1.00,`",
]
SUMMARY = "`4,`100.01,`31.50,`0.00,`0.41500,`100.01,`31.50"
GOLDEN_LINES = [
    BillLine(BillKind.PAY, "4200000000202406010000000001", "P1797000000000000001", "", "",
             10000, 60, BillStatus.SUCCESS, 1717207230, "CNY"),
    BillLine(BillKind.REFUND, "4200000000202406010000000001", "P1797000000000000001",
             "R1797000000000000001", "50300000000000000000000000001", 3050, -18,
             BillStatus.SUCCESS, 1717257599, "CNY"),
    BillLine(BillKind.PAY, "4200000000202406010000000002", "P1797000000000000002", "", "", 1, 0,
             BillStatus.FAILED, 1717171200, "CNY"),
    BillLine(BillKind.REFUND, "4200000000202406010000000003", "P1797000000000000003",
             "R1797000000000000002", "50300000000000000000000000002", 100, -1,
             BillStatus.PROCESSING, 1717214400, "CNY"),
]
# 4 rows, 2 of them refunds; fees 0.6 - 0.18 + 0 - 0.005 yuan exactly, 41 fen row by row.
GOLDEN_TOTALS = BillTotals(pay_count=2, pay_amount=10001, refund_count=2, refund_amount=3150,
                           fee=41)


def bill_text(rows: list[str] = ROWS, summary: str | None = SUMMARY, *, bom: bool = True,
              end: str = "\r\n") -> str:
    lines = [HEADER, *rows] + ([SUMMARY_HEADER, summary] if summary is not None else [])
    return ("\ufeff" if bom else "") + end.join(lines) + end


def read(bill: Bill) -> tuple[list[BillLine], BillTotals]:
    try:
        return list(bill.lines), bill.totals()
    finally:
        bill.cleanup()


def write(tmp_path: Path, text: str, name: str = "bill.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


# The parser, on golden text.


def test_a_golden_bill_parses_to_its_exact_rows_and_totals(tmp_path: Path) -> None:
    cleaned: list[bool] = []
    bill = parse_wxpay_trade_bill(write(tmp_path, bill_text()),
                                  cleanup=lambda: cleaned.append(True))
    lines, totals = read(bill)
    assert lines == GOLDEN_LINES
    assert totals == GOLDEN_TOTALS
    assert cleaned == [True]
    check_totals(BillTotals(2, 10001, 2, 3150, 41), totals)  # what the servicer sums


def test_columns_are_found_by_name_the_last_one_too(tmp_path: Path) -> None:
    # The currency column moved to the end (its value then carries the line end) and the
    # time column to the middle: the same rows.
    names = HEADER.split(",")
    order = [i for i in range(len(names)) if names[i] not in ("货币种类", "交易时间")]
    order = order[:10] + [names.index("交易时间")] + order[10:] + [names.index("货币种类")]
    rows = [",".join("`" + value for value in (row[1:].split(",`")[i] for i in order))
            for row in ROWS]
    text = "\ufeff" + "\r\n".join([",".join(names[i] for i in order), *rows, SUMMARY_HEADER,
                                     SUMMARY]) + "\r\n"
    assert read(parse_wxpay_trade_bill(write(tmp_path, text))) == (GOLDEN_LINES, GOLDEN_TOTALS)


def test_trade_times_remembered_or_not_read_the_same(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The same second on many rows (a busy day), and another date: each row keeps its time,
    # whether the parse remembers every time or forgets them all the time.
    rows = [ROWS[0], ROWS[0].replace("2024-06-01 10:00:30", "2024-06-02 10:00:30"), ROWS[0],
            ROWS[0].replace("10:00:30", "10:00:31")]
    summary = "`4,`400.00,`0.00,`0.00,`2.40000,`400.00,`0.00"
    expected = [1717207230, 1717293630, 1717207230, 1717207231]
    for cached in (200_000, 1):
        monkeypatch.setattr("paymesh.services.channel.adapters.wxpay.bill._TIMES_CACHED",
                            cached)
        lines, _ = read(parse_wxpay_trade_bill(write(tmp_path, bill_text(rows, summary))))
        assert [line.trade_time for line in lines] == expected, cached


def test_line_ends_and_the_bom_do_not_matter(tmp_path: Path) -> None:
    for name, text in (("lf", bill_text(end="\n")), ("nobom", bill_text(bom=False)),
                       ("blank", bill_text() + "\r\n\r\n")):
        assert read(parse_wxpay_trade_bill(write(tmp_path, text, name))) == (
            GOLDEN_LINES, GOLDEN_TOTALS), name


def test_the_success_bill_layout_reads_by_column_name(tmp_path: Path) -> None:
    header = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,"
              "交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,"
              "订单金额,费率备注")
    row = ("`2024-06-01 10:00:30,`wx1,`1900000001,`0,`,`4200000000202406010000000009,`P9,`o9,"
           "`APP,`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`商品,`,`0.07000,`0.60%,`12.34,`")
    text = "\r\n".join([header, row, SUMMARY_HEADER,
                        "`1,`12.34,`0.00,`0.00,`0.07000,`12.34,`0.00"]) + "\r\n"
    assert read(parse_wxpay_trade_bill(write(tmp_path, text))) == (
        [BillLine(BillKind.PAY, "4200000000202406010000000009", "P9", "", "", 1234, 7,
                  BillStatus.SUCCESS, 1717207230, "CNY")],
        BillTotals(1, 1234, 0, 0, 7))


@pytest.mark.parametrize(("text", "words"), [
    (bill_text(summary=None), "truncated"),
    (bill_text(ROWS[:3]), "fee"),  # the summary still counts the dropped row's fee
    (bill_text([ROWS[0].rsplit(",", 1)[0]]), "line 2"),
    (bill_text([ROWS[0].replace("2024-06-01 10:00:30", "2024-13-01 10:00:30")]), "line 2"),
    (bill_text([ROWS[0].replace("`100.00", "`1O0.00", 1)]), "line 2"),
    (bill_text([ROWS[0].replace("`100.00", "`1O0", 1)]), "not an amount"),
    (bill_text([ROWS[0].replace("`", "", 1)]), "line 2"),
    (bill_text(summary="`4,`100.01"), "summary"),
    (bill_text() + "`trailing\r\n", "after its summary"),
    ("\ufeff", "empty"),
    (bill_text().replace("商户订单号", "订单号", 1), "商户订单号"),
])
def test_a_malformed_bill_is_refused(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(BillMalformed, match=words) as refused:
        read(parse_wxpay_trade_bill(write(tmp_path, text)))
    assert refused.value.reason == "BILL_MALFORMED"


def test_a_summary_that_miscounts_fails_the_totals_check(tmp_path: Path) -> None:
    lines, totals = read(parse_wxpay_trade_bill(write(
        tmp_path, bill_text(summary=SUMMARY.replace("`4,", "`5,").replace("`100.01", "`100.02")))))
    assert lines == GOLDEN_LINES
    with pytest.raises(BillMalformed, match="pay_count.*pay_amount"):
        check_totals(GOLDEN_TOTALS, totals)


def test_the_bill_of_a_day_is_due_at_ten_the_next_morning() -> None:
    day = datetime.date(2024, 6, 1)
    ten = datetime.datetime(2024, 6, 2, 10, 0, tzinfo=CST).timestamp()
    assert not _bill_due(day, ten - 1)
    assert _bill_due(day, ten)


# The download, against the simulator's own book.


@pytest.fixture(scope="module")
def keys() -> SimKeys:
    return SimKeys()


@pytest.fixture
def bill_sim(keys: SimKeys, tmp_path: Path) -> Iterator[WxpaySimulator]:
    """A simulator with an empty book of its own (the package's is shared) and a bills_dir."""
    with WxpaySimulator(time_scale=TIME_SCALE, keys=keys,
                        bills_dir=str(tmp_path / "bills")) as simulator:
        yield simulator


def today(sim: WxpaySimulator) -> datetime.date:
    return datetime.date.fromisoformat(sim.bills.today())


async def paid(adapter: WxpayAdapter, sim: WxpaySimulator, params: dict[str, Any],
               notify: str, amount: int) -> Any:
    pay = order("WX_NATIVE", amount=amount)
    await adapter.pay(params, pay, notify)
    sim.pay(pay.pay_order_id)
    return pay


@pytest.mark.parametrize("isv", [False, True], ids=["direct", "isv"])
async def test_the_bill_holds_the_payments_and_refunds_made_that_day(
        adapter: WxpayAdapter, bill_sim: WxpaySimulator, notify: str, isv: bool) -> None:
    params = bill_sim.adapter_params(isv=isv)
    big = await paid(adapter, bill_sim, params, notify, 10000)
    small = await paid(adapter, bill_sim, params, notify, 250)
    barcode = order("WX_BAR", amount=300, extra='{"authCode":"134567890123456789"}')
    await adapter.pay(params, barcode, notify)
    reversed_pay = order("WX_BAR", amount=400, extra='{"authCode":"134567890123456789"}')
    await adapter.pay(params, reversed_pay, notify)
    await adapter.cancel(params, reversed_pay.pay_order_id)
    await adapter.pay(params, order("WX_NATIVE", amount=999), notify)  # never paid
    partial = refund_of(big, 1234)
    await adapter.refund(params, partial, notify)
    bill_sim.finish_refund(partial.refund_order_id)
    pending = refund_of(small, 250)
    await adapter.refund(params, pending, notify)
    other_mode = await paid(adapter, bill_sim, bill_sim.adapter_params(isv=not isv), notify, 7)

    with pytest.raises(BillNotReady):
        await adapter.download_bill(params, today(bill_sim))
    bill_sim.close_bill_day()
    lines, totals = read(await adapter.download_bill(params, today(bill_sim)))

    by_ref = {line.refund_order_id or line.pay_order_id: line for line in lines}
    assert other_mode.pay_order_id not in by_ref
    assert set(by_ref) == {big.pay_order_id, small.pay_order_id, barcode.pay_order_id,
                           reversed_pay.pay_order_id, partial.refund_order_id,
                           pending.refund_order_id}
    transaction = bill_sim.order(big.pay_order_id)["transaction_id"]
    assert by_ref[big.pay_order_id] == BillLine(
        BillKind.PAY, transaction, big.pay_order_id, "", "", 10000, 60, BillStatus.SUCCESS,
        by_ref[big.pay_order_id].trade_time, "CNY")
    assert (by_ref[small.pay_order_id].amount, by_ref[small.pay_order_id].fee) == (250, 2)
    assert (by_ref[barcode.pay_order_id].amount, by_ref[barcode.pay_order_id].fee,
            by_ref[barcode.pay_order_id].status) == (300, 2, BillStatus.SUCCESS)
    assert (by_ref[reversed_pay.pay_order_id].status, by_ref[reversed_pay.pay_order_id].fee) == (
        BillStatus.FAILED, 0)
    refund_line = by_ref[partial.refund_order_id]
    assert (refund_line.kind, refund_line.pay_order_id, refund_line.channel_order_no,
            refund_line.amount, refund_line.fee, refund_line.status) == (
        BillKind.REFUND, big.pay_order_id, transaction, 1234, -7, BillStatus.SUCCESS)
    assert refund_line.channel_refund_no == bill_sim.book.find_refund(
        partial.refund_order_id).refund_id  # type: ignore[union-attr]
    assert (by_ref[pending.refund_order_id].status, by_ref[pending.refund_order_id].fee) == (
        BillStatus.PROCESSING, -2)
    now = bill_sim.now()
    assert all(now - 60 < line.trade_time <= now + 1 for line in lines)
    assert totals == BillTotals(pay_count=4, pay_amount=10950, refund_count=2,
                                refund_amount=1484, fee=60 + 2 + 2 + 0 - 7 - 2)


async def test_refunds_give_back_exactly_the_fee_in_shares(
        adapter: WxpayAdapter, bill_sim: WxpaySimulator, notify: str) -> None:
    params = bill_sim.adapter_params()
    pay = await paid(adapter, bill_sim, params, notify, 1000)  # fee 6
    refunds = [refund_of(pay, amount) for amount in (250, 250, 500)]
    for refund in refunds:
        await adapter.refund(params, refund, notify)
    bill_sim.close_bill_day()
    lines, totals = read(await adapter.download_bill(params, today(bill_sim)))
    assert [line.fee for line in lines] == [6, -2, -1, -3]  # 2, then 3 - 2, then 6 - 3
    assert totals.fee == 0


async def test_a_past_day_without_trades_is_an_empty_bill(
        adapter: WxpayAdapter, bill_sim: WxpaySimulator, notify: str) -> None:
    params = bill_sim.adapter_params()
    await paid(adapter, bill_sim, params, notify, 100)  # today's, not the other days'
    assert read(await adapter.download_bill(params, today(bill_sim) - datetime.timedelta(2))) \
        == ([], BillTotals(0, 0, 0, 0, 0))
    with pytest.raises(BillNotReady):
        await adapter.download_bill(params, today(bill_sim) + datetime.timedelta(1))
    with pytest.raises(Exception, match="三个月") as refused:
        await adapter.download_bill(params, today(bill_sim) - datetime.timedelta(120))
    assert getattr(refused.value, "reason", "") == "BILL_REFUSED"


async def test_planted_mistakes_show_up_in_the_bill(
        adapter: WxpayAdapter, bill_sim: WxpaySimulator, notify: str) -> None:
    params = bill_sim.adapter_params()
    amount, fee, status, omitted, refunded = [
        await paid(adapter, bill_sim, params, notify, 1000) for _ in range(5)]
    refund = refund_of(refunded, 500)
    await adapter.refund(params, refund, notify)
    bill_sim.finish_refund(refund.refund_order_id)
    bill_sim.plant_bill_mistake("amount", amount.pay_order_id, amount=1100)
    bill_sim.plant_bill_mistake("fee", fee.pay_order_id, fee=9)
    bill_sim.plant_bill_mistake("status", status.pay_order_id)
    bill_sim.plant_bill_mistake("omit", omitted.pay_order_id)
    bill_sim.plant_bill_mistake("status", refund.refund_order_id, status="ABNORMAL")
    bill_sim.plant_bill_mistake("extra", "P0000000000STRANGER", amount=777)
    day = bill_sim.close_bill_day()

    lines, totals = read(await adapter.download_bill(params, datetime.date.fromisoformat(day)))

    by_ref = {line.refund_order_id or line.pay_order_id: line for line in lines}
    assert omitted.pay_order_id not in by_ref
    assert (by_ref[amount.pay_order_id].amount, by_ref[amount.pay_order_id].fee) == (1100, 6)
    assert (by_ref[fee.pay_order_id].amount, by_ref[fee.pay_order_id].fee) == (1000, 9)
    assert by_ref[status.pay_order_id].status is BillStatus.FAILED  # REVOKED
    assert by_ref[refund.refund_order_id].status is BillStatus.FAILED  # ABNORMAL
    stranger = by_ref["P0000000000STRANGER"]
    assert (stranger.kind, stranger.amount, stranger.fee, stranger.status) == (
        BillKind.PAY, 777, 5, BillStatus.SUCCESS)
    assert totals == BillTotals(pay_count=5, pay_amount=1100 + 1000 * 3 + 777, refund_count=1,
                                refund_amount=500, fee=6 + 9 + 6 + 6 + 5 - 3)


async def test_a_tampered_file_fails_its_sha1(adapter: WxpayAdapter, bill_sim: WxpaySimulator,
                                              notify: str) -> None:
    params = bill_sim.adapter_params()
    await paid(adapter, bill_sim, params, notify, 100)
    day = datetime.date.fromisoformat(bill_sim.close_bill_day())
    bill_sim.inject("tamper", path="/v3/billdownload/file")
    with pytest.raises(BillMalformed, match="SHA-1"):
        await adapter.download_bill(params, day)
    for kind in ("unsigned", "wrong_key"):  # a forged bill answer is never followed
        bill_sim.inject(kind, path="/v3/bill/tradebill")
        with pytest.raises(ChannelUnavailable):
            await adapter.download_bill(params, day)
    bill_sim.inject("drop", path="/v3/billdownload/file")
    with pytest.raises(ChannelUnavailable):
        await adapter.download_bill(params, day)
    lines, _ = read(await adapter.download_bill(params, day))
    assert [line.amount for line in lines] == [100]


async def test_a_gzip_download_is_inflated_and_hashed_plain(
        http: httpx.AsyncClient, bill_sim: WxpaySimulator, notify: str,
        adapter: WxpayAdapter) -> None:
    params = bill_sim.adapter_params()
    await paid(adapter, bill_sim, params, notify, 4321)
    day = bill_sim.close_bill_day()
    config = load_config(params)
    answer = await SignedTransport(http).call(
        config, "GET", f"/v3/bill/tradebill?bill_date={day}&bill_type=ALL&tar_type=GZIP")
    assert answer.kind is AnswerKind.OK
    path, digest = await _download(http, config, answer.data["download_url"],
                                   clock=lambda: bill_sim.now(), nonce=signing.new_nonce)
    try:
        assert digest == answer.data["hash_value"]
        plain = Path(path).read_bytes()
        assert plain.startswith("\ufeff交易时间".encode()) and b"`43.21" in plain
        assert hashlib.sha1(plain).hexdigest() == digest  # noqa: S324 - WeChat's own hash
    finally:
        Path(path).unlink()


def premade(sim: WxpaySimulator, merchant: str, day: str, text: str) -> None:
    folder = Path(sim.bills.bills_dir or "") / merchant
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{day}.csv").write_bytes(text.encode("utf-8"))


async def test_a_premade_file_is_served_verbatim_whatever_its_date(
        adapter: WxpayAdapter, bill_sim: WxpaySimulator) -> None:
    premade(bill_sim, bill_sim.keys.mch_id, "2024-06-01", bill_text())
    premade(bill_sim, bill_sim.keys.sub_mch_id, "2024-06-01", bill_text(ROWS[:1], SUMMARY
            .replace("`4,", "`1,").replace("`100.01", "`100.00").replace("`31.50", "`0.00")
            .replace("`0.41500", "`0.60000")))
    day = datetime.date(2024, 6, 1)
    assert read(await adapter.download_bill(bill_sim.adapter_params(), day)) == (
        GOLDEN_LINES, GOLDEN_TOTALS)
    lines, _ = read(await adapter.download_bill(bill_sim.adapter_params(isv=True), day))
    assert lines == GOLDEN_LINES[:1]


# DownloadBill through the channel service.


async def test_download_bill_streams_what_the_adapter_parsed(
        config: MeshConfig, adapter: WxpayAdapter, bill_sim: WxpaySimulator,
        notify: str) -> None:
    params = bill_sim.adapter_params()
    for amount in (100, 2000, 35):
        await paid(adapter, bill_sim, params, notify, amount)
    day = bill_sim.close_bill_day()
    expected, totals = read(await adapter.download_bill(params, datetime.date.fromisoformat(day)))
    premade(bill_sim, bill_sim.keys.mch_id, "2024-06-01", bill_text(
        summary=SUMMARY.replace("`4,", "`5,")))

    async with running_channel(config) as mesh:
        request = channel_pb2.DownloadBillRequest(
            if_code="wxpay", channel_params_json=json.dumps(params), bill_date=day)
        messages = [m async for m in mesh.channel.DownloadBill(request)]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _drain(mesh.channel.DownloadBill(channel_pb2.DownloadBillRequest(
                if_code="wxpay", channel_params_json=json.dumps(params),
                bill_date="2024-06-01")))
        with pytest.raises(grpc.aio.AioRpcError) as not_ready:
            await _drain(mesh.channel.DownloadBill(channel_pb2.DownloadBillRequest(
                if_code="wxpay", channel_params_json=json.dumps(params),
                bill_date=(today(bill_sim) + datetime.timedelta(1)).isoformat())))

    rows = [row for message in messages for row in message.rows]
    assert [(r.kind, r.channel_order_no, r.pay_order_id, r.refund_order_id, r.channel_refund_no,
             r.amount, r.fee, r.status, r.trade_time, r.currency) for r in rows] == [
        (int(e.kind), e.channel_order_no, e.pay_order_id, e.refund_order_id, e.channel_refund_no,
         e.amount, e.fee, int(e.status), e.trade_time, e.currency) for e in expected]
    assert len(rows) == 3
    assert messages[-1].totals == channel_pb2.BillTotals(
        pay_count=totals.pay_count, pay_amount=totals.pay_amount, refund_count=0,
        refund_amount=0, fee=totals.fee)
    assert totals.pay_amount == 2135
    assert (refused.value.code(), reason_of(refused.value)) == (grpc.StatusCode.DATA_LOSS,
                                                               "BILL_MALFORMED")
    assert "pay_count" in (refused.value.details() or "")
    assert (not_ready.value.code(), reason_of(not_ready.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION, "BILL_NOT_READY")


async def _drain(call: Any) -> None:
    async for _ in call:
        pass
