"""gRPC faces of the gateway: raw HTTP bodies in, JeePay envelopes and channel acks out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
from google.api import httpbody_pb2
from opentelemetry import trace

from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.common.edge import header, refuse_edge
from paymesh.services.common.errors import NotFound
from paymesh.services.common.timestamps import timestamp_of
from paymesh.services.gateway.authentication import RequestAuthenticator
from paymesh.services.gateway.callbacks import CallbackIntake, Reply
from paymesh.services.gateway.cashier import Cashier
from paymesh.services.gateway.cashier_pages import Page
from paymesh.services.gateway.ledger_audit import AuditOrder, LedgerAudit
from paymesh.services.gateway.models import PayOrder
from paymesh.services.gateway.orders import PayOrders
from paymesh.services.gateway.pay_context import PayContext
from paymesh.services.gateway.protocol import (
    CODE_SYSTEM_ERROR,
    ApiError,
    envelope,
    error_envelope,
    parse_params,
)
from paymesh.services.gateway.refunds import Refunds
from paymesh.services.gateway.repository import PayOrderRepository
from paymesh.services.gateway.validation import CommonFields, Params

log = logging.getLogger(__name__)
JSON = "application/json;charset=UTF-8"
Handler = Callable[[Params, PayContext, grpc.aio.ServicerContext], Awaitable[dict[str, object]]]
# Headers Envoy adds or that say nothing about the caller; not passed on to channels.
_HOP_HEADERS = ("x-envoy-", "x-forwarded-", "x-request-id", "x-paymesh-edge", "grpc-",
                "traceparent", "tracestate", ":")


def _metadata(context: grpc.aio.ServicerContext) -> list[tuple[str, str]]:
    return [(k, v) for k, v in (context.invocation_metadata() or ())
            if isinstance(v, str)]


def source_ip(context: grpc.aio.ServicerContext) -> str | None:
    """The merchant's address as Envoy saw it."""
    return header(context, "x-envoy-external-address") or None


class MerchantApiServicer(gateway_pb2_grpc.MerchantApiServiceServicer):
    """UnifiedOrder, QueryOrder and CloseOrder over JeePay's protocol."""

    def __init__(self, authenticator: RequestAuthenticator, orders: PayOrders,
                 refunds: Refunds) -> None:
        self._auth = authenticator
        self._orders = orders
        self._refunds = refunds

    async def _handle(self, body: httpbody_pb2.HttpBody, context: grpc.aio.ServicerContext,
                      handler: Handler) -> httpbody_pb2.HttpBody:
        span = trace.get_current_span()
        try:
            params = parse_params(body.content_type, body.data)
            fields: CommonFields
            fields, pay_context = await self._auth.authenticate(params)
            span.set_attribute("paymesh.mch_no", fields.mch_no)
            span.set_attribute("paymesh.app_id", fields.app_id)
            data = await handler(params, pay_context, context)
            if "payOrderId" in data:
                span.set_attribute("paymesh.pay_order_id", str(data["payOrderId"]))
            payload = envelope(data, pay_context.secret, fields.sign_type)
        except ApiError as error:
            span.set_attribute("paymesh.refusal", error.msg[:120])
            payload = error_envelope(error)
        except Exception:  # noqa: BLE001 - merchants get the envelope, never a trace
            log.exception("merchant API call failed")
            payload = error_envelope(ApiError(CODE_SYSTEM_ERROR,
                                              "system error; retry the request later"))
        return httpbody_pb2.HttpBody(content_type=JSON, data=payload)

    async def _unified(self, params: Params, pay_context: PayContext,
                       context: grpc.aio.ServicerContext) -> dict[str, object]:
        return await self._orders.unified_order(params, pay_context, source_ip(context))

    async def _query(self, params: Params, pay_context: PayContext,
                     _context: grpc.aio.ServicerContext) -> dict[str, object]:
        return await self._orders.query(params, pay_context)

    async def _close(self, params: Params, pay_context: PayContext,
                     _context: grpc.aio.ServicerContext) -> dict[str, object]:
        return await self._orders.close(params, pay_context)

    async def _refund(self, params: Params, pay_context: PayContext,
                      context: grpc.aio.ServicerContext) -> dict[str, object]:
        return await self._refunds.refund_order(params, pay_context, source_ip(context))

    async def _query_refund(self, params: Params, pay_context: PayContext,
                            _context: grpc.aio.ServicerContext) -> dict[str, object]:
        return await self._refunds.query(params, pay_context)

    async def RefundOrder(self, request: gateway_pb2.RefundOrderRequest,
                          context: grpc.aio.ServicerContext) -> gateway_pb2.RefundOrderResponse:
        body = await self._handle(request.http_body, context, self._refund)
        return gateway_pb2.RefundOrderResponse(http_body=body)

    async def QueryRefund(self, request: gateway_pb2.QueryRefundRequest,
                          context: grpc.aio.ServicerContext) -> gateway_pb2.QueryRefundResponse:
        body = await self._handle(request.http_body, context, self._query_refund)
        return gateway_pb2.QueryRefundResponse(http_body=body)

    async def UnifiedOrder(self, request: gateway_pb2.UnifiedOrderRequest,
                           context: grpc.aio.ServicerContext) -> gateway_pb2.UnifiedOrderResponse:
        body = await self._handle(request.http_body, context, self._unified)
        return gateway_pb2.UnifiedOrderResponse(http_body=body)

    async def QueryOrder(self, request: gateway_pb2.QueryOrderRequest,
                         context: grpc.aio.ServicerContext) -> gateway_pb2.QueryOrderResponse:
        body = await self._handle(request.http_body, context, self._query)
        return gateway_pb2.QueryOrderResponse(http_body=body)

    async def CloseOrder(self, request: gateway_pb2.CloseOrderRequest,
                         context: grpc.aio.ServicerContext) -> gateway_pb2.CloseOrderResponse:
        body = await self._handle(request.http_body, context, self._close)
        return gateway_pb2.CloseOrderResponse(http_body=body)

    async def Ping(self, request: gateway_pb2.PingRequest,
                   context: grpc.aio.ServicerContext) -> gateway_pb2.PingResponse:
        return gateway_pb2.PingResponse(message="pong")


class ChannelCallbackServicer(gateway_pb2_grpc.ChannelCallbackServiceServicer):
    """Channel notifications, answered the way each channel expects."""

    def __init__(self, intake: CallbackIntake) -> None:
        self._intake = intake

    async def ReceivePayNotify(self, request: gateway_pb2.ReceivePayNotifyRequest,
                               context: grpc.aio.ServicerContext
                               ) -> gateway_pb2.ReceivePayNotifyResponse:
        trace.get_current_span().set_attribute("paymesh.pay_order_id", request.pay_order_id)
        reply = await self._intake.pay_notify(
            request.if_code, request.pay_order_id, _channel_headers(context),
            request.http_body.content_type, request.http_body.data)
        return gateway_pb2.ReceivePayNotifyResponse(http_body=await _answer(context, reply))

    async def ReceiveAccountNotify(self, request: gateway_pb2.ReceiveAccountNotifyRequest,
                                   context: grpc.aio.ServicerContext
                                   ) -> gateway_pb2.ReceiveAccountNotifyResponse:
        reply = await self._intake.account_notify(
            request.if_code, _channel_headers(context), request.http_body.content_type,
            request.http_body.data)
        return gateway_pb2.ReceiveAccountNotifyResponse(http_body=await _answer(context, reply))


class CashierServicer(gateway_pb2_grpc.CashierServiceServicer):
    """The aggregated-QR cashier's pages."""

    def __init__(self, cashier: Cashier) -> None:
        self._cashier = cashier

    async def ShowCashier(self, request: gateway_pb2.ShowCashierRequest,
                          context: grpc.aio.ServicerContext) -> gateway_pb2.ShowCashierResponse:
        page = await self._cashier.show(request.token, header(context, "user-agent"))
        return gateway_pb2.ShowCashierResponse(http_body=await _page(context, page))

    async def CashierReturn(self, request: gateway_pb2.CashierReturnRequest,
                            context: grpc.aio.ServicerContext
                            ) -> gateway_pb2.CashierReturnResponse:
        page = await self._cashier.on_return(request.token, request.way,
                                             request.code or request.auth_code)
        return gateway_pb2.CashierReturnResponse(http_body=await _page(context, page))


async def _page(context: grpc.aio.ServicerContext, page: Page) -> httpbody_pb2.HttpBody:
    """A page whose status (and redirect location) the edge applies."""
    await context.send_initial_metadata(
        (("x-paymesh-http-status", str(page.status)), *page.headers.items()))
    return httpbody_pb2.HttpBody(content_type=page.content_type, data=page.body)


def _channel_headers(context: grpc.aio.ServicerContext) -> list[tuple[str, str]]:
    """The channel's own headers, without what the edge added."""
    return [(k, v) for k, v in _metadata(context) if not k.startswith(_HOP_HEADERS)]


async def _answer(context: grpc.aio.ServicerContext, reply: Reply) -> httpbody_pb2.HttpBody:
    """The acknowledgement body; its HTTP status travels as a header the edge applies."""
    await context.send_initial_metadata((("x-paymesh-http-status", str(reply.status)),))
    return httpbody_pb2.HttpBody(content_type=reply.content_type, data=reply.body)



def pay_order_message(order: PayOrder) -> gateway_pb2.PayOrder:
    return gateway_pb2.PayOrder(
        pay_order_id=order.pay_order_id, mch_no=order.mch_no, app_id=order.app_id,
        mch_order_no=order.mch_order_no, if_code=order.if_code, way_code=order.way_code,
        amount=order.amount, currency=order.currency, state=order.state + 1,  # type: ignore[arg-type]
        state_code=order.state, subject=order.subject,
        channel_order_no=order.channel_order_no or "", fee_rate=order.fee_rate,
        fee_amount=order.fee_amount, err_code=order.err_code or "",
        err_msg=order.err_msg or "", late_success=order.late_success,
        create_time=timestamp_of(order.created_at), success_time=timestamp_of(order.success_at),
        expire_time=timestamp_of(order.expire_at), route_attempts=order.route_attempts or "")


def paid_order_message(order: AuditOrder) -> gateway_pb2.PaidOrder:
    """The PaidOrder of the ledger audit's view of an order (state numbered as PayOrderState)."""
    return gateway_pb2.PaidOrder(
        pay_order_id=order.pay_order_id, mch_no=order.mch_no, currency=order.currency,
        amount=order.amount, fee_amount=order.fee_amount,
        state=order.state + 1,  # type: ignore[arg-type]
        reversed=order.reversed, ledger_pending=order.ledger_pending,
        refunds=[gateway_pb2.PaidOrderRefund(
            refund_order_id=r.refund_order_id, refund_amount=r.refund_amount, state=r.state,
            ledger_pending=r.ledger_pending) for r in order.refunds],
        correction_ids=order.correction_ids)


class PayOrderServicer(gateway_pb2_grpc.PayOrderServiceServicer):
    """Internal order access."""

    def __init__(self, repository: PayOrderRepository, audit: LedgerAudit | None = None
                 ) -> None:
        self._orders = repository
        self._audit = audit

    async def GetPayOrder(self, request: gateway_pb2.GetPayOrderRequest,
                          context: grpc.aio.ServicerContext) -> gateway_pb2.GetPayOrderResponse:
        refuse_edge(context)
        order = await self._orders.get(request.pay_order_id)
        if order is None:
            raise NotFound("ORDER_NOT_FOUND", f"order {request.pay_order_id} not found")
        return gateway_pb2.GetPayOrderResponse(pay_order=pay_order_message(order))

    async def StreamPaidOrders(self, request: gateway_pb2.StreamPaidOrdersRequest,
                               context: grpc.aio.ServicerContext
                               ) -> AsyncIterator[gateway_pb2.StreamPaidOrdersResponse]:
        refuse_edge(context)
        if self._audit is None:
            raise NotFound("LEDGER_AUDIT_UNAVAILABLE", "this gateway serves no ledger audit")
        async for page in self._audit.paid_orders(request.mch_no, list(request.pay_order_ids)):
            yield gateway_pb2.StreamPaidOrdersResponse(orders=map(paid_order_message, page))
