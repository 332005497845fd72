"""gRPC face of ReconciliationSourceService: internal only, called by the reconciliation service.

Thin translation between the proto and reconciliation_source: records to PlatformRecord
messages (or, for a columnar StreamDayRecords, a batch transposed into PlatformRecordColumns),
requests to a Correction. Every RPC refuses calls through the edge.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Sequence
from operator import itemgetter
from typing import Any

import grpc

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.common.edge import refuse_edge
from paymesh.services.common.errors import InvalidArgument
from paymesh.services.common.partitions import by_partition
from paymesh.services.gateway.reconciliation_source import (
    DAY_FIELDS,
    Correction,
    ReconciliationSource,
    Record,
    RecordRow,
)

Ctx = grpc.aio.ServicerContext
FIELDS = Record._fields  # a PlatformRecord's field names, in a record's order
# PlatformRecordColumns' list of each day field (channel_fee_amount aside: it has two).
COLUMNS = {"kind": "kinds", "pay_order_id": "pay_order_ids",
           "refund_order_id": "refund_order_ids", "mch_no": "mch_nos",
           "channel_order_no": "channel_order_nos", "amount": "amounts", "state": "states",
           "fee_amount": "fee_amounts", "success_time": "success_times",
           "currency": "currencies"}
COLUMN_BATCH = 10_000  # records of one columnar message: well under a megabyte
MAX_PARTITIONS = 4096
# Grouped by partition, a batch holds about this many records per partition (fewer, larger
# messages), up to MAX_BATCH.
PARTITION_RECORDS = 2000
MAX_BATCH = 100_000
PAY = 1  # RecordKind.RECORD_KIND_PAY
_KIND, _PAY_ORDER_ID, _REFUND_ORDER_ID = (itemgetter(DAY_FIELDS.index(name))
                                          for name in ("kind", "pay_order_id", "refund_order_id"))


def record_fields(record: RecordRow) -> dict[str, Any]:
    """A PlatformRecord's fields: a Record's names are the message's, kind numbered as
    RecordKind."""
    return dict(zip(FIELDS, record, strict=True))


def record_message(record: RecordRow) -> gateway_pb2.PlatformRecord:
    return gateway_pb2.PlatformRecord(**record_fields(record))


def columns_messages(batch: Sequence[RecordRow], partitions: int
                     ) -> list[gateway_pb2.StreamDayRecordsResponse]:
    """A batch of day rows as one columnar message, or one per partition present when
    ``partitions`` ≥ 2 (more when a partition holds more than COLUMN_BATCH records)."""
    if partitions < 2 or not batch:
        return [columns_message(batch)]
    # Each record's order number: its pay order id, or a refund's id (a day's batch holds one
    # kind only, the two kinds being queried one after the other).
    pays = list(map(_KIND, batch)).count(PAY)
    keys = (list(map(_PAY_ORDER_ID, batch)) if pays == len(batch)
            else list(map(_REFUND_ORDER_ID, batch)) if not pays
            else [row[1] if row[0] == PAY else row[2] for row in batch])
    return [columns_message(group[first:first + COLUMN_BATCH], part)
            for part, group in by_partition(batch, keys, partitions)
            for first in range(0, len(group), COLUMN_BATCH)]


def columns_message(batch: Sequence[RecordRow], partition: int | None = None
                    ) -> gateway_pb2.StreamDayRecordsResponse:
    """A batch of day rows (DAY_FIELDS) as parallel columns: transposed by ``zip`` and filled
    by ``extend``, both in C, so a million records cost no per-record Python work."""
    message = gateway_pb2.StreamDayRecordsResponse()
    if partition is not None:
        message.partition = partition
    columns = message.columns
    columns.SetInParent()
    if not batch:
        return message
    values = dict(zip(DAY_FIELDS, zip(*batch, strict=True), strict=True))
    channel_fees = values.pop("channel_fee_amount")
    if None in channel_fees:
        columns.channel_fee_known.extend([fee is not None for fee in channel_fees])
        columns.channel_fee_amounts.extend([fee or 0 for fee in channel_fees])
    else:
        columns.channel_fee_known.extend([True] * len(channel_fees))
        columns.channel_fee_amounts.extend(channel_fees)
    for name, column in values.items():
        getattr(columns, COLUMNS[name]).extend(column)
    return message




class ReconciliationSourceServicer(gateway_pb2_grpc.ReconciliationSourceServiceServicer):
    """StreamDayRecords, LookupRecords and ApplyCorrection; never served to the edge."""

    def __init__(self, source: ReconciliationSource) -> None:
        self._source = source

    async def StreamDayRecords(self, request: gateway_pb2.StreamDayRecordsRequest, context: Ctx
                               ) -> AsyncIterator[gateway_pb2.StreamDayRecordsResponse]:
        refuse_edge(context)
        if request.columnar:
            if request.partitions > MAX_PARTITIONS:
                raise InvalidArgument("partitions", f"partitions must be at most "
                                      f"{MAX_PARTITIONS}, got {request.partitions}")
            size = (COLUMN_BATCH if request.partitions < 2 else
                    min(max(COLUMN_BATCH, PARTITION_RECORDS * request.partitions), MAX_BATCH))
            # Grouped by partition, the records' order is not kept anyway: no sort.
            batches = aiter(self._source.stream_day(request.channel_config_key,
                                                    request.bill_date, DAY_FIELDS, size,
                                                    ordered=request.partitions < 2))
            while True:
                # The cyclic garbage collector is paused while a batch is fetched and
                # transposed (not while the client takes it): a batch makes tens of thousands of
                # tuples and no cycles, and the collections they would trigger, each scanning
                # the whole process, cost a quarter of the stream's time.
                collecting = gc.isenabled()
                gc.disable()
                try:
                    messages = columns_messages(await anext(batches), request.partitions)
                except StopAsyncIteration:
                    return
                finally:
                    if collecting:
                        gc.enable()
                for message in messages:
                    yield message
        async for batch in self._source.stream_day(request.channel_config_key,
                                                   request.bill_date):
            # Field dicts, not messages: the repeated field builds each record once, in place.
            yield gateway_pb2.StreamDayRecordsResponse(
                records=[dict(zip(FIELDS, row, strict=True)) for row in batch])

    async def LookupRecords(self, request: gateway_pb2.LookupRecordsRequest, context: Ctx
                            ) -> gateway_pb2.LookupRecordsResponse:
        refuse_edge(context)
        found = await self._source.lookup(request.pay_order_ids, request.refund_order_ids)
        return gateway_pb2.LookupRecordsResponse(records=map(record_message, found))

    async def ApplyCorrection(self, request: gateway_pb2.ApplyCorrectionRequest, context: Ctx
                              ) -> gateway_pb2.ApplyCorrectionResponse:
        refuse_edge(context)
        done = await self._source.apply(Correction(
            correction_id=request.correction_id, action=request.action,
            pay_order_id=request.pay_order_id, refund_order_id=request.refund_order_id,
            amount=request.amount, channel_fee=request.channel_fee,
            channel_order_no=request.channel_order_no, success_time=request.success_time,
            reason=request.reason))
        return gateway_pb2.ApplyCorrectionResponse(
            record=record_message(done.record), replayed=done.replayed,
            previous_amount=done.previous_amount,
            previous_fee_amount=done.previous_fee_amount, previous_state=done.previous_state)
