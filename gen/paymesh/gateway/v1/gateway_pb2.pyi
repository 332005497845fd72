import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from paymesh.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotifyOrderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFY_ORDER_TYPE_UNSPECIFIED: _ClassVar[NotifyOrderType]
    NOTIFY_ORDER_TYPE_PAY: _ClassVar[NotifyOrderType]
    NOTIFY_ORDER_TYPE_REFUND: _ClassVar[NotifyOrderType]

class NotifyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFY_STATE_UNSPECIFIED: _ClassVar[NotifyState]
    NOTIFY_STATE_SENDING: _ClassVar[NotifyState]
    NOTIFY_STATE_SUCCESS: _ClassVar[NotifyState]
    NOTIFY_STATE_FAILED: _ClassVar[NotifyState]

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_PAY: _ClassVar[RecordKind]
    RECORD_KIND_REFUND: _ClassVar[RecordKind]

class CorrectionAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CORRECTION_ACTION_UNSPECIFIED: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_MARK_PAY_SUCCEEDED: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_MARK_PAY_FAILED: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_CORRECT_PAY_AMOUNT: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_SET_CHANNEL_FEE: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_MARK_REFUND_SUCCEEDED: _ClassVar[CorrectionAction]
    CORRECTION_ACTION_MARK_REFUND_FAILED: _ClassVar[CorrectionAction]

class PayOrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAY_ORDER_STATE_UNSPECIFIED: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_INIT: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_PAYING: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_SUCCESS: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_FAIL: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_CANCEL: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_REFUND: _ClassVar[PayOrderState]
    PAY_ORDER_STATE_CLOSED: _ClassVar[PayOrderState]
NOTIFY_ORDER_TYPE_UNSPECIFIED: NotifyOrderType
NOTIFY_ORDER_TYPE_PAY: NotifyOrderType
NOTIFY_ORDER_TYPE_REFUND: NotifyOrderType
NOTIFY_STATE_UNSPECIFIED: NotifyState
NOTIFY_STATE_SENDING: NotifyState
NOTIFY_STATE_SUCCESS: NotifyState
NOTIFY_STATE_FAILED: NotifyState
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_PAY: RecordKind
RECORD_KIND_REFUND: RecordKind
CORRECTION_ACTION_UNSPECIFIED: CorrectionAction
CORRECTION_ACTION_MARK_PAY_SUCCEEDED: CorrectionAction
CORRECTION_ACTION_MARK_PAY_FAILED: CorrectionAction
CORRECTION_ACTION_CORRECT_PAY_AMOUNT: CorrectionAction
CORRECTION_ACTION_SET_CHANNEL_FEE: CorrectionAction
CORRECTION_ACTION_MARK_REFUND_SUCCEEDED: CorrectionAction
CORRECTION_ACTION_MARK_REFUND_FAILED: CorrectionAction
PAY_ORDER_STATE_UNSPECIFIED: PayOrderState
PAY_ORDER_STATE_INIT: PayOrderState
PAY_ORDER_STATE_PAYING: PayOrderState
PAY_ORDER_STATE_SUCCESS: PayOrderState
PAY_ORDER_STATE_FAIL: PayOrderState
PAY_ORDER_STATE_CANCEL: PayOrderState
PAY_ORDER_STATE_REFUND: PayOrderState
PAY_ORDER_STATE_CLOSED: PayOrderState

class ShowCashierRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ShowCashierResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class CashierReturnRequest(_message.Message):
    __slots__ = ("token", "way", "code", "auth_code")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    WAY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AUTH_CODE_FIELD_NUMBER: _ClassVar[int]
    token: str
    way: str
    code: str
    auth_code: str
    def __init__(self, token: _Optional[str] = ..., way: _Optional[str] = ..., code: _Optional[str] = ..., auth_code: _Optional[str] = ...) -> None: ...

class CashierReturnResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notify_id", "order_id", "order_type", "mch_no", "app_id", "mch_order_no", "notify_url", "state", "attempts", "attempt_limit", "next_attempt_time", "create_time")
    NOTIFY_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    notify_id: str
    order_id: str
    order_type: NotifyOrderType
    mch_no: str
    app_id: str
    mch_order_no: str
    notify_url: str
    state: NotifyState
    attempts: int
    attempt_limit: int
    next_attempt_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, notify_id: _Optional[str] = ..., order_id: _Optional[str] = ..., order_type: _Optional[_Union[NotifyOrderType, str]] = ..., mch_no: _Optional[str] = ..., app_id: _Optional[str] = ..., mch_order_no: _Optional[str] = ..., notify_url: _Optional[str] = ..., state: _Optional[_Union[NotifyState, str]] = ..., attempts: _Optional[int] = ..., attempt_limit: _Optional[int] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NotificationAttempt(_message.Message):
    __slots__ = ("attempt", "time", "http_status", "latency_ms", "response_excerpt", "error")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_EXCERPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    time: _timestamp_pb2.Timestamp
    http_status: int
    latency_ms: int
    response_excerpt: str
    error: str
    def __init__(self, attempt: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., http_status: _Optional[int] = ..., latency_ms: _Optional[int] = ..., response_excerpt: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("order_id", "state", "page")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    state: NotifyState
    page: _common_pb2.PageRequest
    def __init__(self, order_id: _Optional[str] = ..., state: _Optional[_Union[NotifyState, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "page")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    page: _common_pb2.PageResponse
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class GetNotificationRequest(_message.Message):
    __slots__ = ("notify_id",)
    NOTIFY_ID_FIELD_NUMBER: _ClassVar[int]
    notify_id: str
    def __init__(self, notify_id: _Optional[str] = ...) -> None: ...

class GetNotificationResponse(_message.Message):
    __slots__ = ("notification", "attempts")
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    attempts: _containers.RepeatedCompositeFieldContainer[NotificationAttempt]
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ..., attempts: _Optional[_Iterable[_Union[NotificationAttempt, _Mapping]]] = ...) -> None: ...

class ResendNotificationRequest(_message.Message):
    __slots__ = ("notify_id",)
    NOTIFY_ID_FIELD_NUMBER: _ClassVar[int]
    notify_id: str
    def __init__(self, notify_id: _Optional[str] = ...) -> None: ...

class ResendNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ...) -> None: ...

class DeliverDueNotificationsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class DeliverDueNotificationsResponse(_message.Message):
    __slots__ = ("attempted", "succeeded")
    ATTEMPTED_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    attempted: int
    succeeded: int
    def __init__(self, attempted: _Optional[int] = ..., succeeded: _Optional[int] = ...) -> None: ...

class SweepPayingOrdersRequest(_message.Message):
    __slots__ = ("older_than_seconds", "limit")
    OLDER_THAN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    older_than_seconds: int
    limit: int
    def __init__(self, older_than_seconds: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class SweepPayingOrdersResponse(_message.Message):
    __slots__ = ("examined", "settled", "cancelled")
    EXAMINED_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    examined: int
    settled: int
    cancelled: int
    def __init__(self, examined: _Optional[int] = ..., settled: _Optional[int] = ..., cancelled: _Optional[int] = ...) -> None: ...

class ExpireOrdersRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ExpireOrdersResponse(_message.Message):
    __slots__ = ("examined", "closed", "paid")
    EXAMINED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    PAID_FIELD_NUMBER: _ClassVar[int]
    examined: int
    closed: int
    paid: int
    def __init__(self, examined: _Optional[int] = ..., closed: _Optional[int] = ..., paid: _Optional[int] = ...) -> None: ...

class SweepPendingRefundsRequest(_message.Message):
    __slots__ = ("limit", "stuck_after_seconds")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STUCK_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    limit: int
    stuck_after_seconds: int
    def __init__(self, limit: _Optional[int] = ..., stuck_after_seconds: _Optional[int] = ...) -> None: ...

class SweepPendingRefundsResponse(_message.Message):
    __slots__ = ("examined", "settled")
    EXAMINED_FIELD_NUMBER: _ClassVar[int]
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    examined: int
    settled: int
    def __init__(self, examined: _Optional[int] = ..., settled: _Optional[int] = ...) -> None: ...

class StreamPaidOrdersRequest(_message.Message):
    __slots__ = ("mch_no", "pay_order_ids")
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    pay_order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mch_no: _Optional[str] = ..., pay_order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamPaidOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[PaidOrder]
    def __init__(self, orders: _Optional[_Iterable[_Union[PaidOrder, _Mapping]]] = ...) -> None: ...

class PaidOrder(_message.Message):
    __slots__ = ("pay_order_id", "mch_no", "currency", "amount", "fee_amount", "state", "reversed", "ledger_pending", "refunds", "correction_ids")
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVERSED_FIELD_NUMBER: _ClassVar[int]
    LEDGER_PENDING_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_IDS_FIELD_NUMBER: _ClassVar[int]
    pay_order_id: str
    mch_no: str
    currency: str
    amount: int
    fee_amount: int
    state: PayOrderState
    reversed: bool
    ledger_pending: bool
    refunds: _containers.RepeatedCompositeFieldContainer[PaidOrderRefund]
    correction_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pay_order_id: _Optional[str] = ..., mch_no: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[int] = ..., fee_amount: _Optional[int] = ..., state: _Optional[_Union[PayOrderState, str]] = ..., reversed: _Optional[bool] = ..., ledger_pending: _Optional[bool] = ..., refunds: _Optional[_Iterable[_Union[PaidOrderRefund, _Mapping]]] = ..., correction_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class PaidOrderRefund(_message.Message):
    __slots__ = ("refund_order_id", "refund_amount", "state", "ledger_pending")
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    LEDGER_PENDING_FIELD_NUMBER: _ClassVar[int]
    refund_order_id: str
    refund_amount: int
    state: int
    ledger_pending: bool
    def __init__(self, refund_order_id: _Optional[str] = ..., refund_amount: _Optional[int] = ..., state: _Optional[int] = ..., ledger_pending: _Optional[bool] = ...) -> None: ...

class PlatformRecord(_message.Message):
    __slots__ = ("kind", "pay_order_id", "refund_order_id", "mch_no", "channel_order_no", "amount", "state", "fee_amount", "channel_fee_amount", "success_time", "create_time", "currency", "channel_config_key", "refunded_amount")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    kind: RecordKind
    pay_order_id: str
    refund_order_id: str
    mch_no: str
    channel_order_no: str
    amount: int
    state: int
    fee_amount: int
    channel_fee_amount: int
    success_time: int
    create_time: int
    currency: str
    channel_config_key: str
    refunded_amount: int
    def __init__(self, kind: _Optional[_Union[RecordKind, str]] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., mch_no: _Optional[str] = ..., channel_order_no: _Optional[str] = ..., amount: _Optional[int] = ..., state: _Optional[int] = ..., fee_amount: _Optional[int] = ..., channel_fee_amount: _Optional[int] = ..., success_time: _Optional[int] = ..., create_time: _Optional[int] = ..., currency: _Optional[str] = ..., channel_config_key: _Optional[str] = ..., refunded_amount: _Optional[int] = ...) -> None: ...

class StreamDayRecordsRequest(_message.Message):
    __slots__ = ("channel_config_key", "bill_date", "columnar", "partitions")
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    COLUMNAR_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    bill_date: str
    columnar: bool
    partitions: int
    def __init__(self, channel_config_key: _Optional[str] = ..., bill_date: _Optional[str] = ..., columnar: _Optional[bool] = ..., partitions: _Optional[int] = ...) -> None: ...

class PlatformRecordColumns(_message.Message):
    __slots__ = ("kinds", "pay_order_ids", "refund_order_ids", "mch_nos", "channel_order_nos", "amounts", "states", "fee_amounts", "channel_fee_amounts", "channel_fee_known", "success_times", "currencies")
    KINDS_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    MCH_NOS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NOS_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    FEE_AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_KNOWN_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TIMES_FIELD_NUMBER: _ClassVar[int]
    CURRENCIES_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[RecordKind]
    pay_order_ids: _containers.RepeatedScalarFieldContainer[str]
    refund_order_ids: _containers.RepeatedScalarFieldContainer[str]
    mch_nos: _containers.RepeatedScalarFieldContainer[str]
    channel_order_nos: _containers.RepeatedScalarFieldContainer[str]
    amounts: _containers.RepeatedScalarFieldContainer[int]
    states: _containers.RepeatedScalarFieldContainer[int]
    fee_amounts: _containers.RepeatedScalarFieldContainer[int]
    channel_fee_amounts: _containers.RepeatedScalarFieldContainer[int]
    channel_fee_known: _containers.RepeatedScalarFieldContainer[bool]
    success_times: _containers.RepeatedScalarFieldContainer[int]
    currencies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kinds: _Optional[_Iterable[_Union[RecordKind, str]]] = ..., pay_order_ids: _Optional[_Iterable[str]] = ..., refund_order_ids: _Optional[_Iterable[str]] = ..., mch_nos: _Optional[_Iterable[str]] = ..., channel_order_nos: _Optional[_Iterable[str]] = ..., amounts: _Optional[_Iterable[int]] = ..., states: _Optional[_Iterable[int]] = ..., fee_amounts: _Optional[_Iterable[int]] = ..., channel_fee_amounts: _Optional[_Iterable[int]] = ..., channel_fee_known: _Optional[_Iterable[bool]] = ..., success_times: _Optional[_Iterable[int]] = ..., currencies: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamDayRecordsResponse(_message.Message):
    __slots__ = ("records", "columns", "partition")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[PlatformRecord]
    columns: PlatformRecordColumns
    partition: int
    def __init__(self, records: _Optional[_Iterable[_Union[PlatformRecord, _Mapping]]] = ..., columns: _Optional[_Union[PlatformRecordColumns, _Mapping]] = ..., partition: _Optional[int] = ...) -> None: ...

class LookupRecordsRequest(_message.Message):
    __slots__ = ("pay_order_ids", "refund_order_ids")
    PAY_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    pay_order_ids: _containers.RepeatedScalarFieldContainer[str]
    refund_order_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pay_order_ids: _Optional[_Iterable[str]] = ..., refund_order_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class LookupRecordsResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[PlatformRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[PlatformRecord, _Mapping]]] = ...) -> None: ...

class ApplyCorrectionRequest(_message.Message):
    __slots__ = ("correction_id", "action", "pay_order_id", "refund_order_id", "amount", "channel_fee", "channel_order_no", "success_time", "reason")
    CORRECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    correction_id: str
    action: CorrectionAction
    pay_order_id: str
    refund_order_id: str
    amount: int
    channel_fee: int
    channel_order_no: str
    success_time: int
    reason: str
    def __init__(self, correction_id: _Optional[str] = ..., action: _Optional[_Union[CorrectionAction, str]] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., amount: _Optional[int] = ..., channel_fee: _Optional[int] = ..., channel_order_no: _Optional[str] = ..., success_time: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ApplyCorrectionResponse(_message.Message):
    __slots__ = ("record", "replayed", "previous_amount", "previous_fee_amount", "previous_state")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATE_FIELD_NUMBER: _ClassVar[int]
    record: PlatformRecord
    replayed: bool
    previous_amount: int
    previous_fee_amount: int
    previous_state: int
    def __init__(self, record: _Optional[_Union[PlatformRecord, _Mapping]] = ..., replayed: _Optional[bool] = ..., previous_amount: _Optional[int] = ..., previous_fee_amount: _Optional[int] = ..., previous_state: _Optional[int] = ...) -> None: ...

class UnifiedOrderRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class UnifiedOrderResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class QueryOrderRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class QueryOrderResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class CloseOrderRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class CloseOrderResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class RefundOrderRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class RefundOrderResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class QueryRefundRequest(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class QueryRefundResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class PingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PingResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class ReceivePayNotifyRequest(_message.Message):
    __slots__ = ("if_code", "pay_order_id", "http_body")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    pay_order_id: str
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, if_code: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class ReceiveAccountNotifyRequest(_message.Message):
    __slots__ = ("if_code", "http_body")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, if_code: _Optional[str] = ..., http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class ReceiveAccountNotifyResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class ReceivePayNotifyResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class PayOrder(_message.Message):
    __slots__ = ("pay_order_id", "mch_no", "app_id", "mch_order_no", "if_code", "way_code", "amount", "currency", "state", "state_code", "subject", "channel_order_no", "fee_rate", "fee_amount", "err_code", "err_msg", "late_success", "create_time", "success_time", "expire_time", "route_attempts")
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    WAY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_CODE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    LATE_SUCCESS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ROUTE_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    pay_order_id: str
    mch_no: str
    app_id: str
    mch_order_no: str
    if_code: str
    way_code: str
    amount: int
    currency: str
    state: PayOrderState
    state_code: int
    subject: str
    channel_order_no: str
    fee_rate: str
    fee_amount: int
    err_code: str
    err_msg: str
    late_success: bool
    create_time: _timestamp_pb2.Timestamp
    success_time: _timestamp_pb2.Timestamp
    expire_time: _timestamp_pb2.Timestamp
    route_attempts: str
    def __init__(self, pay_order_id: _Optional[str] = ..., mch_no: _Optional[str] = ..., app_id: _Optional[str] = ..., mch_order_no: _Optional[str] = ..., if_code: _Optional[str] = ..., way_code: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., state: _Optional[_Union[PayOrderState, str]] = ..., state_code: _Optional[int] = ..., subject: _Optional[str] = ..., channel_order_no: _Optional[str] = ..., fee_rate: _Optional[str] = ..., fee_amount: _Optional[int] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ..., late_success: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., success_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., route_attempts: _Optional[str] = ...) -> None: ...

class GetPayOrderRequest(_message.Message):
    __slots__ = ("pay_order_id",)
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    pay_order_id: str
    def __init__(self, pay_order_id: _Optional[str] = ...) -> None: ...

class GetPayOrderResponse(_message.Message):
    __slots__ = ("pay_order",)
    PAY_ORDER_FIELD_NUMBER: _ClassVar[int]
    pay_order: PayOrder
    def __init__(self, pay_order: _Optional[_Union[PayOrder, _Mapping]] = ...) -> None: ...
