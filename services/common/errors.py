"""Domain errors and their one mapping onto gRPC status (ErrorInfo + BadRequest details)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

log = logging.getLogger(__name__)
DOMAIN = "paymesh"


class DomainError(Exception):
    """A refusal a caller can act on: a stable machine reason plus a readable message."""

    code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, reason: str, message: str, *, field: str | None = None,
                 code: grpc.StatusCode | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidArgument(DomainError):
    """A field is missing or malformed."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, field: str, message: str, reason: str = "INVALID_ARGUMENT") -> None:
        super().__init__(reason, message, field=field)


class NotFound(DomainError):
    """The thing does not exist, or belongs to somebody else."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    """A unique key is taken."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(DomainError):
    """The caller may not do this."""

    code = grpc.StatusCode.PERMISSION_DENIED


def to_status(error: DomainError) -> status_pb2.Status:
    """The rich status for a domain error."""
    details = [error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN)]
    if error.field:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=error.field, description=error.message)
        details.append(error_details_pb2.BadRequest(field_violations=[violation]))
    packed = []
    for detail in details:
        item = any_pb2.Any()
        item.Pack(detail)
        packed.append(item)
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=packed)


def reason_of(error: grpc.aio.AioRpcError | grpc.RpcError) -> str | None:
    """The ErrorInfo reason carried by a failed call, if any."""
    trailing = error.trailing_metadata() or ()
    for key, value in trailing:
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info.reason
    return None


async def _abort(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    status = to_status(error)
    await context.abort(error.code, error.message,
                        trailing_metadata=(("grpc-status-details-bin",
                                            status.SerializeToString()),))


async def _abort_internal(context: grpc.aio.ServicerContext, method: str) -> None:
    log.exception("unhandled error in %s", method)
    status = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error")
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason="INTERNAL", domain=DOMAIN))
    status.details.append(info)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error",
                        trailing_metadata=(("grpc-status-details-bin",
                                            status.SerializeToString()),))


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Turns DomainError into its status and any other exception into a bare INTERNAL.

    No stack trace ever reaches a caller; it goes to the service's log instead.
    """

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        if handler.unary_unary is not None:
            inner = handler.unary_unary

            async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
                try:
                    return await inner(request, context)
                except DomainError as error:
                    await _abort(context, error)
                except Exception as error:  # noqa: BLE001 - the mesh's last line of defence
                    if _is_abort(error):
                        raise
                    await _abort_internal(context, method)

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream

            async def unary_stream(request: Any, context: grpc.aio.ServicerContext
                                   ) -> AsyncIterator[Any]:
                try:
                    async for item in inner_stream(request, context):
                        yield item
                except DomainError as error:
                    await _abort(context, error)
                except Exception as error:  # noqa: BLE001
                    if _is_abort(error):
                        raise
                    await _abort_internal(context, method)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer)
        return handler


def _is_abort(error: BaseException) -> bool:
    return type(error).__name__ in {"AbortError", "UsageError", "CancelledError"}
