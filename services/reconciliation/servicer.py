"""ReconciliationService over gRPC: protobuf in, domain calls, protobuf out; no business rules.

Operator RPCs are admin REST: an edge call needs the admin bearer token. GetSettlementGate is
internal and refused through the edge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeAlias

import grpc
from google.protobuf import timestamp_pb2

from paymesh.common.v1 import common_pb2
from paymesh.reconciliation.v1 import reconciliation_pb2 as pb
from paymesh.reconciliation.v1 import reconciliation_pb2_grpc
from paymesh.services.common.edge import refuse_edge, require_admin
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.timestamps import timestamp_of
from paymesh.services.reconciliation.handling import MistakeHandling
from paymesh.services.reconciliation.models import MistakeState, ReconBatch, ReconMistake
from paymesh.services.reconciliation.reports import BatchView, Reports, TypeSummary
from paymesh.services.reconciliation.service import BatchService

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
_STATUS_NAMES = {1: "SUCCESS", 2: "PROCESSING", 3: "FAILED"}


class ReconciliationServicer(reconciliation_pb2_grpc.ReconciliationServiceServicer):
    """Thin translation between the proto and the batch, handling and report services."""

    def __init__(self, batches: BatchService, handling: MistakeHandling, reports: Reports,
                 admin_token: str | None) -> None:
        self._batches = batches
        self._handling = handling
        self._reports = reports
        self._admin_token = admin_token

    async def RunBatch(self, request: pb.RunBatchRequest, context: Ctx) -> pb.RunBatchResponse:
        require_admin(context, self._admin_token)
        result = await self._batches.run_batch(request.channel_config_key, request.bill_date,
                                               request.force, request.retry_after_seconds)
        view = await self._reports.batch(result.batch.batch_id)
        return pb.RunBatchResponse(batch=batch_pb(view), ran=result.ran)

    async def GetBatch(self, request: pb.GetBatchRequest, context: Ctx) -> pb.GetBatchResponse:
        require_admin(context, self._admin_token)
        return pb.GetBatchResponse(batch=batch_pb(await self._reports.batch(request.batch_id)))

    async def ListBatches(self, request: pb.ListBatchesRequest, context: Ctx
                          ) -> pb.ListBatchesResponse:
        require_admin(context, self._admin_token)
        state = pb.BatchState.Name(request.state)[len("BATCH_STATE_"):] if request.state else ""
        views, token = await self._reports.batches(
            request.channel_config_key, request.bill_date_from, request.bill_date_to, state,
            request.page.page_size, request.page.page_token)
        return pb.ListBatchesResponse(batches=[batch_pb(v) for v in views],
                                      page=common_pb2.PageResponse(next_page_token=token,
                                                                   has_more=bool(token)))

    async def GetBatchSummary(self, request: pb.GetBatchSummaryRequest, context: Ctx
                              ) -> pb.GetBatchSummaryResponse:
        require_admin(context, self._admin_token)
        view, summaries = await self._reports.summary(request.batch_id)
        return pb.GetBatchSummaryResponse(batch=batch_pb(view),
                                          mistakes=[summary_pb(s) for s in summaries])

    async def ListMistakes(self, request: pb.ListMistakesRequest, context: Ctx
                           ) -> pb.ListMistakesResponse:
        require_admin(context, self._admin_token)
        states: list[str] = []
        if request.state:
            states = [pb.MistakeState.Name(request.state)[len("MISTAKE_STATE_"):]]
        if request.open_only:
            states = [s for s in (states or MistakeState.OPEN) if s in MistakeState.OPEN]
            if not states:
                raise InvalidArgument("state", "open_only excludes state HANDLED")
        mistake_type = (pb.MistakeType.Name(request.type)[len("MISTAKE_TYPE_"):]
                        if request.type else "")
        rows, token = await self._reports.mistakes(request.batch_id, mistake_type, states,
                                                   request.mch_no, request.page.page_size,
                                                   request.page.page_token)
        return pb.ListMistakesResponse(mistakes=[mistake_pb(r) for r in rows],
                                       page=common_pb2.PageResponse(next_page_token=token,
                                                                    has_more=bool(token)))

    async def GetMistake(self, request: pb.GetMistakeRequest, context: Ctx
                         ) -> pb.GetMistakeResponse:
        require_admin(context, self._admin_token)
        return pb.GetMistakeResponse(
            mistake=mistake_pb(await self._reports.mistake(request.mistake_id)))

    async def HandleMistake(self, request: pb.HandleMistakeRequest, context: Ctx
                            ) -> pb.HandleMistakeResponse:
        require_admin(context, self._admin_token)
        decision = (pb.Decision.Name(request.decision)[len("DECISION_"):]
                    if request.decision else "")
        result = await self._handling.handle(request.mistake_id, decision, request.operator,
                                             request.remark)
        return pb.HandleMistakeResponse(mistake=mistake_pb(result.mistake),
                                        replayed=result.replayed)

    async def GetSettlementGate(self, request: pb.GetSettlementGateRequest, context: Ctx
                                ) -> pb.GetSettlementGateResponse:
        refuse_edge(context)
        gate = await self._reports.settlement_gate(request.today)
        return pb.GetSettlementGateResponse(
            reconciled_through=gate.reconciled_through,
            configs=[pb.ConfigGate(channel_config_key=k, reconciled_through=d)
                     for k, d in gate.configs],
            blocked_merchants=[pb.BlockedMerchant(mch_no=mch, open_mistakes=n,
                                                  earliest_bill_date=d)
                               for mch, n, d in gate.blocked])


def _epoch(seconds: int) -> timestamp_pb2.Timestamp | None:
    return timestamp_of(datetime.fromtimestamp(seconds, UTC)) if seconds else None


def batch_pb(view: BatchView) -> pb.Batch:
    """The proto of a batch."""
    b: ReconBatch = view.batch
    return pb.Batch(
        batch_id=b.batch_id, channel_config_key=b.channel_config_key, if_code=b.if_code,
        bill_date=b.bill_date, state=pb.BatchState.Value(f"BATCH_STATE_{b.state}"),
        attempts=b.attempts, error_reason=b.error_reason, error_message=b.error_message,
        platform=pb.SideTotals(pay_count=b.platform_pay_count,
                               pay_amount=b.platform_pay_amount,
                               refund_count=b.platform_refund_count,
                               refund_amount=b.platform_refund_amount, fee=b.platform_fee),
        channel=pb.SideTotals(pay_count=b.channel_pay_count, pay_amount=b.channel_pay_amount,
                              refund_count=b.channel_refund_count,
                              refund_amount=b.channel_refund_amount, fee=b.channel_fee),
        matched_count=b.matched_count, mistake_count=b.mistake_count,
        open_mistake_count=view.open_mistakes, bill_row_count=b.bill_row_count,
        platform_record_count=b.platform_record_count, pool_added=b.pool_added,
        pool_cleared=b.pool_cleared, pool_expired=b.pool_expired, mch_no=b.mch_no,
        start_time=timestamp_of(b.started_at), finish_time=timestamp_of(b.finished_at),
        create_time=timestamp_of(b.created_at))


def mistake_pb(r: ReconMistake) -> pb.Mistake:
    """The proto of a mistake."""
    mistake = pb.Mistake(
        mistake_id=r.mistake_id, batch_id=r.batch_id, bill_date=r.bill_date,
        channel_config_key=r.channel_config_key, kind=r.kind,
        type=pb.MistakeType.Value(f"MISTAKE_TYPE_{r.mistake_type}"),
        pay_order_id=r.pay_order_id, refund_order_id=r.refund_order_id, mch_no=r.mch_no,
        platform_found=r.platform_found, platform_state=max(r.platform_state, 0),
        platform_amount=r.platform_amount, platform_fee=r.platform_fee,
        platform_success_time=_epoch(r.platform_success_time), channel_found=r.channel_found,
        channel_status=_STATUS_NAMES.get(r.channel_status, ""),
        channel_amount=r.channel_amount, channel_fee=r.channel_fee,
        channel_order_no=r.channel_order_no, channel_trade_time=_epoch(r.channel_trade_time),
        state=pb.MistakeState.Value(f"MISTAKE_STATE_{r.handle_state}"),
        decision=pb.Decision.Value(f"DECISION_{r.decision}") if r.decision else 0,
        operator=r.operator, remark=r.remark, correction_action=r.correction_action,
        posting_id=r.posting_id, create_time=timestamp_of(r.created_at),
        handle_time=timestamp_of(r.handled_at))
    if r.platform_channel_fee is not None:
        mistake.platform_channel_fee = r.platform_channel_fee
    return mistake


def summary_pb(s: TypeSummary) -> pb.MistakeTypeSummary:
    """The proto of one (type, kind) line of a summary."""
    return pb.MistakeTypeSummary(
        type=pb.MistakeType.Value(f"MISTAKE_TYPE_{s.mistake_type}"), kind=s.kind,
        count=s.count, open_count=s.open_count, platform_amount=s.platform_amount,
        channel_amount=s.channel_amount, platform_fee=s.platform_fee,
        channel_fee=s.channel_fee)
