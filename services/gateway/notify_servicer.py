"""gRPC face of merchant notifications: the operators' list/get/resend and the jobs' trigger."""

from __future__ import annotations

import grpc

from paymesh.common.v1 import common_pb2
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.services.common.edge import refuse_edge, require_admin
from paymesh.services.common.errors import InvalidArgument, NotFound
from paymesh.services.common.timestamps import timestamp_of
from paymesh.services.gateway.notifications import BATCH, Notifications
from paymesh.services.gateway.notify_models import NotifyAttempt, NotifyRecord, NotifyState
from paymesh.services.gateway.notify_repository import (
    NotifyRepository,
    decode_cursor,
    encode_cursor,
)

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100



def notification_message(record: NotifyRecord) -> gateway_pb2.Notification:
    """The record as the API shows it; the wire enums use JeePay's codes as their numbers."""
    return gateway_pb2.Notification(
        notify_id=record.notify_id, order_id=record.order_id,
        order_type=record.order_type,  # type: ignore[arg-type]
        mch_no=record.mch_no, app_id=record.app_id, mch_order_no=record.mch_order_no,
        notify_url=record.notify_url, state=record.state,  # type: ignore[arg-type]
        attempts=record.attempts, attempt_limit=record.attempt_limit,
        next_attempt_time=timestamp_of(record.next_attempt_at),
        create_time=timestamp_of(record.created_at))


def attempt_message(attempt: NotifyAttempt) -> gateway_pb2.NotificationAttempt:
    return gateway_pb2.NotificationAttempt(
        attempt=attempt.attempt, time=timestamp_of(attempt.at), http_status=attempt.http_status,
        latency_ms=attempt.latency_ms, response_excerpt=attempt.response_excerpt,
        error=attempt.error or "")


class NotificationServicer(gateway_pb2_grpc.NotificationServiceServicer):
    """Admin RPCs need the admin token at the edge; DeliverDueNotifications is internal."""

    def __init__(self, notifications: Notifications, records: NotifyRepository,
                 admin_token: str | None) -> None:
        self._notifications = notifications
        self._records = records
        self._admin_token = admin_token

    async def ListNotifications(self, request: gateway_pb2.ListNotificationsRequest,
                                context: grpc.aio.ServicerContext
                                ) -> gateway_pb2.ListNotificationsResponse:
        require_admin(context, self._admin_token)
        size = request.page.page_size or DEFAULT_PAGE_SIZE
        if not 1 <= size <= MAX_PAGE_SIZE:
            raise InvalidArgument("page.page_size", f"page_size must be 1..{MAX_PAGE_SIZE}")
        if request.state and request.state not in NotifyState.NAMES:
            raise InvalidArgument("state", "state must be SENDING, SUCCESS or FAILED")
        after = decode_cursor(request.page.page_token) if request.page.page_token else None
        rows = await self._records.page(request.order_id, int(request.state), size + 1, after)
        page, has_more = rows[:size], len(rows) > size
        return gateway_pb2.ListNotificationsResponse(
            notifications=[notification_message(record) for record in page],
            page=common_pb2.PageResponse(
                next_page_token=encode_cursor(page[-1]) if has_more else "",
                has_more=has_more))

    async def GetNotification(self, request: gateway_pb2.GetNotificationRequest,
                              context: grpc.aio.ServicerContext
                              ) -> gateway_pb2.GetNotificationResponse:
        require_admin(context, self._admin_token)
        record = await self._records.get(request.notify_id)
        if record is None:
            raise NotFound("NOTIFY_NOT_FOUND", f"notification {request.notify_id} not found")
        attempts = await self._records.attempts_of(record.notify_id)
        return gateway_pb2.GetNotificationResponse(
            notification=notification_message(record),
            attempts=[attempt_message(attempt) for attempt in attempts])

    async def ResendNotification(self, request: gateway_pb2.ResendNotificationRequest,
                                 context: grpc.aio.ServicerContext
                                 ) -> gateway_pb2.ResendNotificationResponse:
        require_admin(context, self._admin_token)
        record = await self._notifications.resend(request.notify_id)
        return gateway_pb2.ResendNotificationResponse(notification=notification_message(record))

    async def DeliverDueNotifications(self, request: gateway_pb2.DeliverDueNotificationsRequest,
                                      context: grpc.aio.ServicerContext
                                      ) -> gateway_pb2.DeliverDueNotificationsResponse:
        refuse_edge(context)
        if request.limit < 0:
            raise InvalidArgument("limit", "limit must be 0 (the default) or more")
        attempted, succeeded = await self._notifications.deliver_due(request.limit or BATCH)
        return gateway_pb2.DeliverDueNotificationsResponse(attempted=attempted,
                                                           succeeded=succeeded)
