"""Calls to the channel service, with the channel's answer mapped to one vocabulary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import grpc

from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.services.common.errors import reason_of

log = logging.getLogger(__name__)
S = channel_pb2.ChannelState
PAY_DEADLINE_SECONDS = 10.0


@dataclass(frozen=True)
class ChannelAnswer:
    """What the channel said, or what we know when it could not say."""

    state: int
    channel_order_no: str = ""
    pay_data_type: str = ""
    pay_data: str = ""
    err_code: str = ""
    err_msg: str = ""


def _failed_call(error: grpc.aio.AioRpcError) -> ChannelAnswer:
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        # Not reached: nothing happened at the channel.
        return ChannelAnswer(S.CHANNEL_STATE_SYS_ERROR, err_code="CHANNEL_UNAVAILABLE",
                             err_msg="the channel service is unavailable; retry the request")
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.NOT_FOUND):
        # Refused before it accepted anything.
        return ChannelAnswer(S.CHANNEL_STATE_CONFIRM_FAIL,
                             err_code=reason_of(error) or code.name,
                             err_msg=error.details() or "refused by the channel")
    # A timeout or anything else after the request may have arrived: the outcome is unknown.
    log.warning("channel call ended with %s; outcome unknown", code.name)
    return ChannelAnswer(S.CHANNEL_STATE_UNKNOWN, err_code=code.name,
                         err_msg="the channel did not answer in time; the order is settled "
                                 "by a query")


@dataclass(frozen=True)
class RefundAnswer:
    """What the channel said about a refund."""

    state: int
    channel_refund_no: str = ""
    err_code: str = ""
    err_msg: str = ""


class ChannelCalls:
    """The gateway's view of the channel service."""

    def __init__(self, stub: channel_pb2_grpc.ChannelServiceStub) -> None:
        self._stub = stub

    async def pay(self, request: channel_pb2.PayRequest) -> ChannelAnswer:
        try:
            answer = await self._stub.Pay(request, timeout=PAY_DEADLINE_SECONDS)
        except grpc.aio.AioRpcError as error:
            return _failed_call(error)
        return ChannelAnswer(answer.channel_state, answer.channel_order_no, answer.pay_data_type,
                             answer.pay_data, answer.err_code, answer.err_msg)

    async def close(self, if_code: str, params_json: str, pay_order_id: str,
                    channel_order_no: str = "") -> ChannelAnswer:
        return await self._about_payment(self._stub.ClosePayment,
                                         channel_pb2.ClosePaymentRequest, if_code, params_json,
                                         pay_order_id, channel_order_no)

    async def query(self, if_code: str, params_json: str, pay_order_id: str,
                    channel_order_no: str = "") -> ChannelAnswer:
        """The payment's state at the channel; UNKNOWN when the channel could not be asked."""
        return await self._about_payment(self._stub.QueryPayment,
                                         channel_pb2.QueryPaymentRequest, if_code, params_json,
                                         pay_order_id, channel_order_no, is_query=True)

    async def cancel(self, if_code: str, params_json: str, pay_order_id: str,
                     channel_order_no: str = "") -> ChannelAnswer:
        """Reverses a barcode payment (撤销); CONFIRM_SUCCESS once the payer owes nothing."""
        return await self._about_payment(self._stub.CancelPayment,
                                         channel_pb2.CancelPaymentRequest, if_code, params_json,
                                         pay_order_id, channel_order_no)

    @staticmethod
    async def _about_payment(call: Any, request_type: Any, if_code: str, params_json: str,
                             pay_order_id: str, channel_order_no: str, *,
                             is_query: bool = False) -> ChannelAnswer:
        """One call about an existing payment (close, query, cancel), its answer mapped."""
        request = request_type(if_code=if_code, channel_params_json=params_json,
                               pay_order_id=pay_order_id, channel_order_no=channel_order_no)
        try:
            answer = await call(request, timeout=PAY_DEADLINE_SECONDS)
        except grpc.aio.AioRpcError as error:
            failed = _failed_call(error)
            if is_query:  # a query that cannot be made says nothing about the payment
                return ChannelAnswer(S.CHANNEL_STATE_UNKNOWN, err_code=failed.err_code,
                                     err_msg=failed.err_msg)
            return failed
        return ChannelAnswer(answer.channel_state, getattr(answer, "channel_order_no", ""),
                             err_code=answer.err_code, err_msg=answer.err_msg)

    async def refund(self, request: channel_pb2.RefundRequest) -> RefundAnswer:
        try:
            answer = await self._stub.Refund(request, timeout=PAY_DEADLINE_SECONDS)
        except grpc.aio.AioRpcError as error:
            failed = _failed_call(error)
            return RefundAnswer(failed.state, err_code=failed.err_code, err_msg=failed.err_msg)
        return RefundAnswer(answer.channel_state, answer.channel_refund_no, answer.err_code,
                            answer.err_msg)

    async def query_refund(self, request: channel_pb2.QueryRefundRequest) -> RefundAnswer:
        try:
            answer = await self._stub.QueryRefund(request, timeout=PAY_DEADLINE_SECONDS)
        except grpc.aio.AioRpcError as error:
            failed = _failed_call(error)
            # A query that cannot be made says nothing about the refund.
            return RefundAnswer(S.CHANNEL_STATE_UNKNOWN, err_code=failed.err_code,
                                err_msg=failed.err_msg)
        return RefundAnswer(answer.channel_state, answer.channel_refund_no, answer.err_code,
                            answer.err_msg)

    async def build_user_auth_url(self, request: channel_pb2.BuildUserAuthUrlRequest) -> str:
        answer = await self._stub.BuildUserAuthUrl(request, timeout=PAY_DEADLINE_SECONDS)
        return str(answer.url)

    async def resolve_channel_user(self, request: channel_pb2.ResolveChannelUserRequest) -> str:
        answer = await self._stub.ResolveChannelUser(request, timeout=PAY_DEADLINE_SECONDS)
        return str(answer.channel_user_id)

    async def identify_callback(self, request: channel_pb2.IdentifyCallbackRequest
                                ) -> channel_pb2.IdentifyCallbackResponse:
        return await self._stub.IdentifyCallback(request, timeout=PAY_DEADLINE_SECONDS)

    async def verify_callback(self, request: channel_pb2.VerifyCallbackRequest
                              ) -> channel_pb2.VerifyCallbackResponse:
        return await self._stub.VerifyCallback(request, timeout=PAY_DEADLINE_SECONDS)
