"""ReconciliationService through a real stub against an in-process server on port 0 (fake peers):
every RPC, cursors and filters, the edge rules, and the settlement gate."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from paymesh.common.v1 import common_pb2
from paymesh.merchant.v1 import merchant_pb2 as mp
from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.reconciliation.v1.reconciliation_pb2_grpc import ReconciliationServiceStub
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.edge import EDGE_HEADER
from paymesh.services.common.errors import reason_of
from paymesh.services.reconciliation.server import create
from tests.reconciliation.conftest import (
    CONFIG_KEY,
    MCH_NO,
    Fakes,
    pay,
    refund,
    row,
    rpc_error,
)

DAYS = ("2024-06-01", "2024-06-02", "2024-06-03")


@pytest.fixture
async def stub(config: MeshConfig, fakes: Fakes) -> AsyncIterator[ReconciliationServiceStub]:
    running = await create(config, "127.0.0.1:0", peers=fakes.peers, partitions=4)
    async with open_channel(f"127.0.0.1:{running.port}") as channel:
        yield ReconciliationServiceStub(channel)
    await running.stop(grace=1.0)


def seed(fakes: Fakes) -> None:
    fakes.gateway.add(pay("P1", 100, day=DAYS[0]), pay("P2", 200, day=DAYS[0]),
                      pay("P3", 300, day=DAYS[1]), refund("R1", "P3", 50, day=DAYS[1]))
    fakes.channel.bills[DAYS[0]] = [row("P1", 110, day=DAYS[0]), row("P2", 200, day=DAYS[0]),
                                    row("P8", 80, day=DAYS[0])]
    fakes.channel.bills[DAYS[1]] = [row("P3", 300, day=DAYS[1]),
                                    row("P3", 50, refund_order_id="R1", day=DAYS[1])]
    fakes.channel.bills[DAYS[2]] = []


async def run_all(stub: ReconciliationServiceStub) -> list[pb.Batch]:
    out = []
    for day in DAYS:
        answer = await stub.RunBatch(pb.RunBatchRequest(channel_config_key=CONFIG_KEY,
                                                        bill_date=day))
        assert answer.ran and answer.batch.state == pb.BATCH_STATE_SUCCESS
        out.append(answer.batch)
    return out


async def test_batches_summaries_and_mistakes_through_the_stub(
        stub: ReconciliationServiceStub, fakes: Fakes) -> None:
    seed(fakes)
    batches = await run_all(stub)
    first = batches[0]
    assert (first.channel_config_key, first.if_code, first.bill_date, first.mch_no) == \
        (CONFIG_KEY, "wxpay", DAYS[0], MCH_NO)
    assert (first.mistake_count, first.open_mistake_count, first.matched_count) == (2, 2, 1)
    assert first.channel.pay_amount == 390 and first.platform.pay_amount == 300
    assert first.HasField("finish_time") and first.attempts == 1
    again = await stub.RunBatch(pb.RunBatchRequest(channel_config_key=CONFIG_KEY,
                                                   bill_date=DAYS[0]))
    assert not again.ran and again.batch.batch_id == first.batch_id

    page = await stub.ListBatches(pb.ListBatchesRequest(
        page=common_pb2.PageRequest(page_size=2)))
    assert [b.bill_date for b in page.batches] == [DAYS[2], DAYS[1]]
    assert page.page.has_more
    rest = await stub.ListBatches(pb.ListBatchesRequest(
        page=common_pb2.PageRequest(page_size=2, page_token=page.page.next_page_token)))
    assert [b.bill_date for b in rest.batches] == [DAYS[0]] and not rest.page.has_more
    ranged = await stub.ListBatches(pb.ListBatchesRequest(bill_date_from=DAYS[1],
                                                          bill_date_to=DAYS[1]))
    assert [b.bill_date for b in ranged.batches] == [DAYS[1]]
    assert not (await stub.ListBatches(pb.ListBatchesRequest(
        state=pb.BATCH_STATE_ERROR))).batches

    summary = await stub.GetBatchSummary(pb.GetBatchSummaryRequest(batch_id=first.batch_id))
    assert [(s.type, s.kind, s.count, s.platform_amount, s.channel_amount)
            for s in summary.mistakes] == [
        (pb.MISTAKE_TYPE_PLATFORM_MISS, pb.TRADE_KIND_PAY, 1, 0, 80),
        (pb.MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH, pb.TRADE_KIND_PAY, 1, 100, 110)]

    mistakes = await stub.ListMistakes(pb.ListMistakesRequest(
        batch_id=first.batch_id, page=common_pb2.PageRequest(page_size=1)))
    assert len(mistakes.mistakes) == 1 and mistakes.page.has_more
    short = (await stub.ListMistakes(pb.ListMistakesRequest(
        type=pb.MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH))).mistakes[0]
    assert (short.pay_order_id, short.platform_amount, short.channel_amount, short.mch_no,
            short.channel_status, short.state) == ("P1", 100, 110, MCH_NO, "SUCCESS",
                                                    pb.MISTAKE_STATE_NOHANDLE)
    assert short.platform_found and short.channel_found
    assert short.HasField("platform_success_time") and short.HasField("channel_trade_time")
    handled = await stub.HandleMistake(pb.HandleMistakeRequest(
        mistake_id=short.mistake_id, decision=pb.DECISION_PLATFORM_AUTHORITATIVE,
        operator="ops", remark="fine"))
    assert handled.mistake.state == pb.MISTAKE_STATE_HANDLED and not handled.replayed
    assert handled.mistake.decision == pb.DECISION_PLATFORM_AUTHORITATIVE
    open_only = await stub.ListMistakes(pb.ListMistakesRequest(open_only=True))
    assert [m.type for m in open_only.mistakes] == [pb.MISTAKE_TYPE_PLATFORM_MISS]
    assert not open_only.mistakes[0].platform_found
    got = await stub.GetMistake(pb.GetMistakeRequest(mistake_id=short.mistake_id))
    assert got.mistake.operator == "ops"
    assert (await stub.GetBatch(pb.GetBatchRequest(batch_id=first.batch_id))
            ).batch.open_mistake_count == 1
    merchant_only = await stub.ListMistakes(pb.ListMistakesRequest(mch_no="M-nobody"))
    assert not merchant_only.mistakes


async def test_unknown_ids_and_bad_arguments_are_refused(stub: ReconciliationServiceStub) -> None:
    for call, reason in (
            (stub.GetBatch(pb.GetBatchRequest(batch_id="RB0")), "BATCH_NOT_FOUND"),
            (stub.GetMistake(pb.GetMistakeRequest(mistake_id="RM0")), "MISTAKE_NOT_FOUND"),
            (stub.RunBatch(pb.RunBatchRequest(channel_config_key="x.sandbox",
                                              bill_date="2024-06-01")),
             "CHANNEL_CONFIG_NOT_FOUND"),
            (stub.RunBatch(pb.RunBatchRequest(channel_config_key=CONFIG_KEY,
                                              bill_date="June 1")), "INVALID_ARGUMENT"),
            (stub.HandleMistake(pb.HandleMistakeRequest(mistake_id="RM0", operator="ops")),
             "INVALID_ARGUMENT"),
            (stub.ListBatches(pb.ListBatchesRequest(page=common_pb2.PageRequest(
                page_token="%%%"))), "INVALID_ARGUMENT")):
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await call
        assert reason_of(error.value) == reason


async def test_the_edge_needs_the_admin_token_and_never_gets_the_gate(
        stub: ReconciliationServiceStub, config: MeshConfig) -> None:
    edge = ((EDGE_HEADER, "1"),)
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.ListBatches(pb.ListBatchesRequest(), metadata=edge)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    admin = (*edge, ("authorization", f"Bearer {config.admin_token}"))
    assert not (await stub.ListBatches(pb.ListBatchesRequest(), metadata=admin)).batches
    with pytest.raises(grpc.aio.AioRpcError) as gate:
        await stub.GetSettlementGate(pb.GetSettlementGateRequest(), metadata=admin)
    assert gate.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_the_settlement_gate(stub: ReconciliationServiceStub, fakes: Fakes) -> None:
    seed(fakes)
    other = mp.ResolvedChannelConfig(channel_config_key="app0002.sandbox", if_code="sandbox",
                                     state=common_pb2.ENTITY_STATE_ACTIVE, mch_no="M0002",
                                     channel_params_json="{}")
    disabled = mp.ResolvedChannelConfig(channel_config_key="app0003.sandbox",
                                        if_code="sandbox", mch_no="M0003",
                                        state=common_pb2.ENTITY_STATE_DISABLED)
    fakes.merchant.configs += [other, disabled]
    today = "2024-06-05"
    empty = await stub.GetSettlementGate(pb.GetSettlementGateRequest(today=today))
    assert empty.reconciled_through == ""  # no config has a finished day yet
    await run_all(stub)
    fakes.channel.bills["2024-06-02"] = []
    for day in ("2024-06-02", "2024-06-04"):  # a gap on 06-03 for the second config
        await stub.RunBatch(pb.RunBatchRequest(channel_config_key=other.channel_config_key,
                                               bill_date=day))
    gate = await stub.GetSettlementGate(pb.GetSettlementGateRequest(today=today))
    assert [(c.channel_config_key, c.reconciled_through) for c in gate.configs] == [
        (CONFIG_KEY, "2024-06-03"), ("app0002.sandbox", "2024-06-02")]
    assert gate.reconciled_through == "2024-06-02"
    assert [(b.mch_no, b.open_mistakes, b.earliest_bill_date)
            for b in gate.blocked_merchants] == [(MCH_NO, 2, "2024-06-01")]
    # A later day that ends in ERROR moves nothing back.
    fakes.channel.errors["2024-06-04"] = rpc_error(grpc.StatusCode.FAILED_PRECONDITION,
                                                   "BILL_NOT_READY")
    await stub.RunBatch(pb.RunBatchRequest(channel_config_key=CONFIG_KEY,
                                           bill_date="2024-06-04"))
    gate = await stub.GetSettlementGate(pb.GetSettlementGateRequest(today=today))
    assert dict((c.channel_config_key, c.reconciled_through) for c in gate.configs)[
        CONFIG_KEY] == "2024-06-03"
