"""gRPC servicers of the channel service: protobuf in, adapter call, protobuf out.

No business rules here; they live in the adapters.
"""

from __future__ import annotations

import asyncio
import datetime
import gc
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import compress, islice
from typing import Any, TypeVar
from urllib.parse import parse_qs

import grpc
from google.api import httpbody_pb2

from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.services.channel.adapters import AdapterRegistry
from paymesh.services.channel.adapters.base import (
    AckReply,
    Callback,
    CallbackKind,
    ChannelState,
    PayerIdentification,
    PaymentOrder,
    RefundOrder,
    parse_channel_params,
)
from paymesh.services.channel.adapters.bills import BillLine, BillTotals, check_totals
from paymesh.services.channel.adapters.sandbox import SandboxAdapter
from paymesh.services.channel.page import decision_note, render_pay_page
from paymesh.services.common.edge import header, refuse_edge
from paymesh.services.common.errors import DomainError, InvalidArgument
from paymesh.services.common.partitions import by_partition

HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
BILL_BATCH_ROWS = 2000
BILL_COLUMN_ROWS = 10_000  # rows of one columnar message: well under a megabyte
MAX_PARTITIONS = 4096
# Grouped by partition, a batch holds about this many rows per partition (fewer, larger
# messages), up to MAX_BATCH_ROWS.
PARTITION_ROWS = 2000
MAX_BATCH_ROWS = 100_000
_BILL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
T = TypeVar("T")


def _state(state: ChannelState | None) -> channel_pb2.ChannelState.ValueType:
    if state is None:
        return channel_pb2.CHANNEL_STATE_UNSPECIFIED
    return channel_pb2.ChannelState.Value(f"CHANNEL_STATE_{state.value}")


def _kind(kind: CallbackKind | None) -> channel_pb2.CallbackKind.ValueType:
    if kind is None:
        return channel_pb2.CALLBACK_KIND_UNSPECIFIED
    return channel_pb2.CallbackKind.Value(f"CALLBACK_KIND_{kind.value}")


def _callback(headers: Iterable[channel_pb2.HttpHeader], body: bytes,
              content_type: str) -> Callback:
    joined: dict[str, str] = {}
    for item in headers:  # a repeated header stays visible to the adapter, as HTTP joins it
        name = item.name.lower()
        joined[name] = f"{joined[name]}, {item.value}" if name in joined else item.value
    return Callback(headers=joined, body=body, content_type=content_type)


def _ack(reply: AckReply) -> channel_pb2.AckReply:
    return channel_pb2.AckReply(status=reply.status, content_type=reply.content_type,
                                body=reply.body)


class ChannelServicer(channel_pb2_grpc.ChannelServiceServicer):
    """ChannelService: every call dispatched on its ifCode to the channel's adapter."""

    def __init__(self, adapters: AdapterRegistry) -> None:
        self._adapters = adapters

    async def Pay(self, request: channel_pb2.PayRequest, context: grpc.aio.ServicerContext
                  ) -> channel_pb2.PayResponse:
        adapter = self._adapters.get(request.if_code)
        o = request.order
        order = PaymentOrder(
            pay_order_id=o.pay_order_id, way_code=o.way_code, amount=o.amount,
            currency=o.currency, subject=o.subject, body=o.body, client_ip=o.client_ip,
            expire_at=o.expire_at, channel_extra=o.channel_extra, return_url=o.return_url)
        result = await adapter.pay(parse_channel_params(request.channel_params_json), order,
                                   request.notify_url)
        return channel_pb2.PayResponse(
            channel_state=_state(result.state), channel_order_no=result.channel_order_no,
            pay_data_type=result.pay_data_type, pay_data=result.pay_data,
            err_code=result.err_code, err_msg=result.err_msg)

    async def QueryPayment(self, request: channel_pb2.QueryPaymentRequest,
                           context: grpc.aio.ServicerContext
                           ) -> channel_pb2.QueryPaymentResponse:
        adapter = self._adapters.get(request.if_code)
        result = await adapter.query(parse_channel_params(request.channel_params_json),
                                     request.pay_order_id,
                                     channel_order_no=request.channel_order_no)
        return channel_pb2.QueryPaymentResponse(
            channel_state=_state(result.state), channel_order_no=result.channel_order_no,
            err_code=result.err_code, err_msg=result.err_msg)

    async def ClosePayment(self, request: channel_pb2.ClosePaymentRequest,
                           context: grpc.aio.ServicerContext
                           ) -> channel_pb2.ClosePaymentResponse:
        adapter = self._adapters.get(request.if_code)
        result = await adapter.close(parse_channel_params(request.channel_params_json),
                                     request.pay_order_id,
                                     channel_order_no=request.channel_order_no)
        return channel_pb2.ClosePaymentResponse(
            channel_state=_state(result.state), err_code=result.err_code, err_msg=result.err_msg)

    async def VerifyCallback(self, request: channel_pb2.VerifyCallbackRequest,
                             context: grpc.aio.ServicerContext
                             ) -> channel_pb2.VerifyCallbackResponse:
        adapter = self._adapters.get(request.if_code)
        callback = _callback(request.headers, request.body, request.content_type)
        result = await adapter.verify_callback(
            parse_channel_params(request.channel_params_json), callback)
        return channel_pb2.VerifyCallbackResponse(
            verified=result.verified, reject_reason=result.reject_reason,
            pay_order_id=result.pay_order_id, channel_order_no=result.channel_order_no,
            amount=result.amount, currency=result.currency, channel_state=_state(result.state),
            err_code=result.err_code, err_msg=result.err_msg,
            ack_ok=_ack(result.ack_ok), ack_retry=_ack(result.ack_retry),
            kind=_kind(result.kind), refund_order_id=result.refund_order_id,
            channel_refund_no=result.channel_refund_no, refund_amount=result.refund_amount)

    async def BuildUserAuthUrl(self, request: channel_pb2.BuildUserAuthUrlRequest,
                               context: grpc.aio.ServicerContext
                               ) -> channel_pb2.BuildUserAuthUrlResponse:
        adapter = self._identifier(request.if_code)
        url = await adapter.user_auth_url(parse_channel_params(request.channel_params_json),
                                          request.redirect_url, request.state)
        return channel_pb2.BuildUserAuthUrlResponse(url=url)

    async def ResolveChannelUser(self, request: channel_pb2.ResolveChannelUserRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> channel_pb2.ResolveChannelUserResponse:
        adapter = self._identifier(request.if_code)
        user = await adapter.channel_user(parse_channel_params(request.channel_params_json),
                                          request.code)
        return channel_pb2.ResolveChannelUserResponse(channel_user_id=user)

    def _identifier(self, if_code: str) -> PayerIdentification:
        adapter = self._adapters.get(if_code)
        if not isinstance(adapter, PayerIdentification):
            raise DomainError("CHANNEL_NOT_SUPPORTED",
                              f"channel {if_code!r} cannot identify payers for the cashier yet")
        return adapter

    async def IdentifyCallback(self, request: channel_pb2.IdentifyCallbackRequest,
                               context: grpc.aio.ServicerContext
                               ) -> channel_pb2.IdentifyCallbackResponse:
        adapter = self._adapters.get(request.if_code)
        identity = await adapter.identify_callback(
            _callback(request.headers, request.body, request.content_type))
        if identity is None:
            return channel_pb2.IdentifyCallbackResponse()
        return channel_pb2.IdentifyCallbackResponse(
            kind=_kind(identity.kind), pay_order_id=identity.pay_order_id,
            refund_order_id=identity.refund_order_id)

    async def CancelPayment(self, request: channel_pb2.CancelPaymentRequest,
                            context: grpc.aio.ServicerContext
                            ) -> channel_pb2.CancelPaymentResponse:
        adapter = self._adapters.get(request.if_code)
        result = await adapter.cancel(parse_channel_params(request.channel_params_json),
                                      request.pay_order_id,
                                      channel_order_no=request.channel_order_no)
        return channel_pb2.CancelPaymentResponse(
            channel_state=_state(result.state), err_code=result.err_code, err_msg=result.err_msg)

    async def Refund(self, request: channel_pb2.RefundRequest, context: grpc.aio.ServicerContext
                     ) -> channel_pb2.RefundResponse:
        adapter = self._adapters.get(request.if_code)
        refund = RefundOrder(
            pay_order_id=request.pay_order_id, refund_order_id=request.refund_order_id,
            pay_amount=request.pay_amount, refund_amount=request.refund_amount,
            currency=request.currency, channel_order_no=request.channel_order_no,
            reason=request.reason)
        result = await adapter.refund(parse_channel_params(request.channel_params_json), refund,
                                      request.notify_url)
        return channel_pb2.RefundResponse(
            channel_state=_state(result.state), channel_refund_no=result.channel_refund_no,
            err_code=result.err_code, err_msg=result.err_msg)

    async def QueryRefund(self, request: channel_pb2.QueryRefundRequest,
                          context: grpc.aio.ServicerContext) -> channel_pb2.QueryRefundResponse:
        adapter = self._adapters.get(request.if_code)
        result = await adapter.query_refund(parse_channel_params(request.channel_params_json),
                                            request.pay_order_id, request.refund_order_id,
            channel_order_no=request.channel_order_no,
            channel_refund_no=request.channel_refund_no)
        return channel_pb2.QueryRefundResponse(
            channel_state=_state(result.state), channel_refund_no=result.channel_refund_no,
            refund_amount=result.refund_amount, err_code=result.err_code,
            err_msg=result.err_msg)

    async def DownloadBill(self, request: channel_pb2.DownloadBillRequest,
                           context: grpc.aio.ServicerContext
                           ) -> AsyncIterator[channel_pb2.DownloadBillResponse]:
        """Streams the adapter's bill in batches (BillRow messages, or columns when the request
        sets ``columnar``, grouped by partition when it sets ``partitions``); the totals, once
        checked, ride on the last."""
        refuse_edge(context)
        try:
            adapter: Any = self._adapters.get(request.if_code)
        except DomainError as refusal:
            raise InvalidArgument("if_code", refusal.message, reason=refusal.reason) from None
        download = getattr(adapter, "download_bill", None)
        if download is None:
            raise DomainError("BILL_NOT_SUPPORTED",
                              f"channel {request.if_code!r} has no bills to download",
                              code=grpc.StatusCode.UNIMPLEMENTED)
        bill_date = _bill_date(request.bill_date)
        if request.partitions > MAX_PARTITIONS:
            raise InvalidArgument("partitions", f"partitions must be at most {MAX_PARTITIONS}, "
                                                f"got {request.partitions}")
        bill = await download(parse_channel_params(request.channel_params_json), bill_date)
        make_batch: Callable[..., tuple[list[channel_pb2.DownloadBillResponse], bool]] = (
            partial(_bill_columns, partitions=request.partitions) if request.columnar
            else _bill_batch)
        try:
            summed = [0, 0, 0, 0, 0]
            while True:
                # Parsing is CPU work: a batch at a time off the event loop.
                batch, exhausted = await asyncio.to_thread(_without_gc, make_batch, bill.lines,
                                                           summed)
                if exhausted:
                    break
                for message in batch:
                    yield message
            stated = bill.totals()
            check_totals(BillTotals(*summed), stated)
            batch[-1].totals.CopyFrom(channel_pb2.BillTotals(
                pay_count=stated.pay_count, pay_amount=stated.pay_amount,
                refund_count=stated.refund_count, refund_amount=stated.refund_amount,
                fee=stated.fee))
            for message in batch:
                yield message
        finally:
            bill.cleanup()


class SandboxPageServicer(channel_pb2_grpc.SandboxPageServiceServicer):
    """The sandbox pay page, reached through Envoy at GET/POST /sandbox/pay/{token}."""

    def __init__(self, sandbox: SandboxAdapter) -> None:
        self._sandbox = sandbox

    async def ShowPayPage(self, request: channel_pb2.ShowPayPageRequest,
                          context: grpc.aio.ServicerContext) -> channel_pb2.ShowPayPageResponse:
        payment = await self._sandbox.payment_for_page(request.token)
        body = httpbody_pb2.HttpBody(content_type=HTML, data=render_pay_page(payment))
        return channel_pb2.ShowPayPageResponse(http_body=body)

    async def SubmitPayPage(self, request: channel_pb2.SubmitPayPageRequest,
                            context: grpc.aio.ServicerContext
                            ) -> channel_pb2.SubmitPayPageResponse:
        form = parse_qs(request.http_body.data.decode("utf-8", "replace"))
        decision = await self._sandbox.decide(request.token, (form.get("result") or [""])[0])
        if _wants_json(context):
            data = json.dumps({"payOrderId": decision.payment.pay_order_id,
                               "state": decision.payment.state,
                               "callbackDelivered": decision.callback_delivered})
            body = httpbody_pb2.HttpBody(content_type=JSON, data=data.encode("utf-8"))
        else:
            note = decision_note(decision.payment, decision.callback_delivered)
            body = httpbody_pb2.HttpBody(content_type=HTML,
                                         data=render_pay_page(decision.payment, note))
        return channel_pb2.SubmitPayPageResponse(http_body=body)


def _wants_json(context: grpc.aio.ServicerContext) -> bool:
    return "application/json" in header(context, "accept").lower()


def _bill_date(text: str) -> datetime.date:
    if _BILL_DATE.fullmatch(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidArgument("bill_date", "bill_date must be a calendar day YYYY-MM-DD",
                          reason="BILL_DATE_INVALID")


def _without_gc(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` with the cyclic garbage collector paused: a bill batch makes tens of
    thousands of tuples and no cycles, and the collections they would trigger, each scanning
    the whole process, cost a fifth of the parse's time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return work(*args)
    finally:
        if collecting:
            gc.enable()


def _bill_batch(lines: Iterator[BillLine], summed: list[int]
                ) -> tuple[list[channel_pb2.DownloadBillResponse], bool]:
    """Up to BILL_BATCH_ROWS lines as one message, added into ``summed`` (the totals' order);
    True once the lines are exhausted."""
    batch = channel_pb2.DownloadBillResponse()
    add = batch.rows.add
    pay_count = pay_amount = refund_count = refund_amount = fee = taken = 0
    for line in lines:
        kind, order_no, pay_id, refund_id, refund_no, amount, line_fee, status, when, cur = line
        if kind == 1:  # BillKind.PAY
            pay_count += 1
            pay_amount += amount
            add(kind=1, channel_order_no=order_no, pay_order_id=pay_id, amount=amount,
                fee=line_fee, status=int(status), trade_time=when, currency=cur)
        else:
            refund_count += 1
            refund_amount += amount
            add(kind=int(kind), channel_order_no=order_no, pay_order_id=pay_id,
                refund_order_id=refund_id, channel_refund_no=refund_no, amount=amount,
                fee=line_fee, status=int(status), trade_time=when, currency=cur)
        fee += line_fee
        taken += 1
        if taken == BILL_BATCH_ROWS:
            break
    for i, value in enumerate((pay_count, pay_amount, refund_count, refund_amount, fee)):
        summed[i] += value
    return [batch], taken < BILL_BATCH_ROWS


def _bill_columns(lines: Iterator[BillLine], summed: list[int], partitions: int = 0
                  ) -> tuple[list[channel_pb2.DownloadBillResponse], bool]:
    """Up to BILL_COLUMN_ROWS lines as one columnar message, or, when ``partitions`` ≥ 2, up
    to PARTITION_ROWS lines per partition as one message per partition present; added into
    ``summed`` like _bill_batch; True once the lines are exhausted.

    The lines are transposed by ``zip`` and the columns filled by ``extend``, both in C: no
    per-row Python work besides the parse itself (and, partitioned, a CRC-32 and a sort key).
    """
    size = (BILL_COLUMN_ROWS if partitions < 2
            else min(max(BILL_COLUMN_ROWS, PARTITION_ROWS * partitions), MAX_BATCH_ROWS))
    taken = list(islice(lines, size))
    exhausted = len(taken) < size
    if partitions < 2 or not taken:
        return [_columns_message(taken, summed)], exhausted
    keys = [line[2] if line[0] == 1 else line[3] for line in taken]  # pay / refund order id
    return [_columns_message(group[first:first + BILL_COLUMN_ROWS], summed, part)
            for part, group in by_partition(taken, keys, partitions)
            for first in range(0, len(group), BILL_COLUMN_ROWS)], exhausted


def _columns_message(lines: Sequence[BillLine], summed: list[int], partition: int | None = None
                     ) -> channel_pb2.DownloadBillResponse:
    """One message of ``lines`` as columns, added into ``summed``."""
    message = channel_pb2.DownloadBillResponse()
    if partition is not None:
        message.partition = partition
    columns = message.columns
    columns.SetInParent()
    if not lines:
        return message
    (kinds, order_nos, pay_ids, refund_ids, refund_nos, amounts, fees, statuses, times,
     currencies) = zip(*lines, strict=True)
    columns.kinds.extend(kinds)
    columns.channel_order_nos.extend(order_nos)
    columns.pay_order_ids.extend(pay_ids)
    columns.refund_order_ids.extend(refund_ids)
    columns.channel_refund_nos.extend(refund_nos)
    columns.amounts.extend(amounts)
    columns.fees.extend(fees)
    columns.statuses.extend(statuses)
    columns.trade_times.extend(times)
    columns.currencies.extend(currencies)
    pays = kinds.count(1)  # BillKind.PAY
    refund_amount = 0 if pays == len(lines) else sum(
        compress(amounts, [kind != 1 for kind in kinds]))
    for i, value in enumerate((pays, sum(amounts) - refund_amount, len(lines) - pays,
                               refund_amount, sum(fees))):
        summed[i] += value
    return message


