import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from paymesh.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BATCH_STATE_UNSPECIFIED: _ClassVar[BatchState]
    BATCH_STATE_RUNNING: _ClassVar[BatchState]
    BATCH_STATE_SUCCESS: _ClassVar[BatchState]
    BATCH_STATE_FAIL: _ClassVar[BatchState]
    BATCH_STATE_ERROR: _ClassVar[BatchState]
    BATCH_STATE_NOBILL: _ClassVar[BatchState]

class TradeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRADE_KIND_UNSPECIFIED: _ClassVar[TradeKind]
    TRADE_KIND_PAY: _ClassVar[TradeKind]
    TRADE_KIND_REFUND: _ClassVar[TradeKind]

class MistakeType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MISTAKE_TYPE_UNSPECIFIED: _ClassVar[MistakeType]
    MISTAKE_TYPE_BANK_MISS: _ClassVar[MistakeType]
    MISTAKE_TYPE_PLATFORM_MISS: _ClassVar[MistakeType]
    MISTAKE_TYPE_PLATFORM_SHORT_STATUS_MISMATCH: _ClassVar[MistakeType]
    MISTAKE_TYPE_PLATFORM_OVER_STATUS_MISMATCH: _ClassVar[MistakeType]
    MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH: _ClassVar[MistakeType]
    MISTAKE_TYPE_PLATFORM_OVER_CASH_MISMATCH: _ClassVar[MistakeType]
    MISTAKE_TYPE_FEE_MISMATCH: _ClassVar[MistakeType]

class MistakeState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MISTAKE_STATE_UNSPECIFIED: _ClassVar[MistakeState]
    MISTAKE_STATE_NOHANDLE: _ClassVar[MistakeState]
    MISTAKE_STATE_HANDLING: _ClassVar[MistakeState]
    MISTAKE_STATE_HANDLED: _ClassVar[MistakeState]

class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DECISION_UNSPECIFIED: _ClassVar[Decision]
    DECISION_CHANNEL_AUTHORITATIVE: _ClassVar[Decision]
    DECISION_PLATFORM_AUTHORITATIVE: _ClassVar[Decision]
BATCH_STATE_UNSPECIFIED: BatchState
BATCH_STATE_RUNNING: BatchState
BATCH_STATE_SUCCESS: BatchState
BATCH_STATE_FAIL: BatchState
BATCH_STATE_ERROR: BatchState
BATCH_STATE_NOBILL: BatchState
TRADE_KIND_UNSPECIFIED: TradeKind
TRADE_KIND_PAY: TradeKind
TRADE_KIND_REFUND: TradeKind
MISTAKE_TYPE_UNSPECIFIED: MistakeType
MISTAKE_TYPE_BANK_MISS: MistakeType
MISTAKE_TYPE_PLATFORM_MISS: MistakeType
MISTAKE_TYPE_PLATFORM_SHORT_STATUS_MISMATCH: MistakeType
MISTAKE_TYPE_PLATFORM_OVER_STATUS_MISMATCH: MistakeType
MISTAKE_TYPE_PLATFORM_SHORT_CASH_MISMATCH: MistakeType
MISTAKE_TYPE_PLATFORM_OVER_CASH_MISMATCH: MistakeType
MISTAKE_TYPE_FEE_MISMATCH: MistakeType
MISTAKE_STATE_UNSPECIFIED: MistakeState
MISTAKE_STATE_NOHANDLE: MistakeState
MISTAKE_STATE_HANDLING: MistakeState
MISTAKE_STATE_HANDLED: MistakeState
DECISION_UNSPECIFIED: Decision
DECISION_CHANNEL_AUTHORITATIVE: Decision
DECISION_PLATFORM_AUTHORITATIVE: Decision

class SideTotals(_message.Message):
    __slots__ = ("pay_count", "pay_amount", "refund_count", "refund_amount", "fee")
    PAY_COUNT_FIELD_NUMBER: _ClassVar[int]
    PAY_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_COUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    pay_count: int
    pay_amount: int
    refund_count: int
    refund_amount: int
    fee: int
    def __init__(self, pay_count: _Optional[int] = ..., pay_amount: _Optional[int] = ..., refund_count: _Optional[int] = ..., refund_amount: _Optional[int] = ..., fee: _Optional[int] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("batch_id", "channel_config_key", "if_code", "bill_date", "state", "attempts", "error_reason", "error_message", "platform", "channel", "matched_count", "mistake_count", "open_mistake_count", "bill_row_count", "platform_record_count", "pool_added", "pool_cleared", "pool_expired", "mch_no", "start_time", "finish_time", "create_time")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    MATCHED_COUNT_FIELD_NUMBER: _ClassVar[int]
    MISTAKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_MISTAKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    BILL_ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    POOL_ADDED_FIELD_NUMBER: _ClassVar[int]
    POOL_CLEARED_FIELD_NUMBER: _ClassVar[int]
    POOL_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    FINISH_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    channel_config_key: str
    if_code: str
    bill_date: str
    state: BatchState
    attempts: int
    error_reason: str
    error_message: str
    platform: SideTotals
    channel: SideTotals
    matched_count: int
    mistake_count: int
    open_mistake_count: int
    bill_row_count: int
    platform_record_count: int
    pool_added: int
    pool_cleared: int
    pool_expired: int
    mch_no: str
    start_time: _timestamp_pb2.Timestamp
    finish_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, batch_id: _Optional[str] = ..., channel_config_key: _Optional[str] = ..., if_code: _Optional[str] = ..., bill_date: _Optional[str] = ..., state: _Optional[_Union[BatchState, str]] = ..., attempts: _Optional[int] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., platform: _Optional[_Union[SideTotals, _Mapping]] = ..., channel: _Optional[_Union[SideTotals, _Mapping]] = ..., matched_count: _Optional[int] = ..., mistake_count: _Optional[int] = ..., open_mistake_count: _Optional[int] = ..., bill_row_count: _Optional[int] = ..., platform_record_count: _Optional[int] = ..., pool_added: _Optional[int] = ..., pool_cleared: _Optional[int] = ..., pool_expired: _Optional[int] = ..., mch_no: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Mistake(_message.Message):
    __slots__ = ("mistake_id", "batch_id", "bill_date", "channel_config_key", "kind", "type", "pay_order_id", "refund_order_id", "mch_no", "platform_found", "platform_state", "platform_amount", "platform_fee", "platform_channel_fee", "platform_success_time", "channel_found", "channel_status", "channel_amount", "channel_fee", "channel_order_no", "channel_trade_time", "state", "decision", "operator", "remark", "correction_action", "posting_id", "create_time", "handle_time")
    MISTAKE_ID_FIELD_NUMBER: _ClassVar[int]
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FOUND_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_STATE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FEE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_CHANNEL_FEE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_SUCCESS_TIME_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FOUND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_ACTION_FIELD_NUMBER: _ClassVar[int]
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    HANDLE_TIME_FIELD_NUMBER: _ClassVar[int]
    mistake_id: str
    batch_id: str
    bill_date: str
    channel_config_key: str
    kind: TradeKind
    type: MistakeType
    pay_order_id: str
    refund_order_id: str
    mch_no: str
    platform_found: bool
    platform_state: int
    platform_amount: int
    platform_fee: int
    platform_channel_fee: int
    platform_success_time: _timestamp_pb2.Timestamp
    channel_found: bool
    channel_status: str
    channel_amount: int
    channel_fee: int
    channel_order_no: str
    channel_trade_time: _timestamp_pb2.Timestamp
    state: MistakeState
    decision: Decision
    operator: str
    remark: str
    correction_action: str
    posting_id: str
    create_time: _timestamp_pb2.Timestamp
    handle_time: _timestamp_pb2.Timestamp
    def __init__(self, mistake_id: _Optional[str] = ..., batch_id: _Optional[str] = ..., bill_date: _Optional[str] = ..., channel_config_key: _Optional[str] = ..., kind: _Optional[_Union[TradeKind, str]] = ..., type: _Optional[_Union[MistakeType, str]] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., mch_no: _Optional[str] = ..., platform_found: _Optional[bool] = ..., platform_state: _Optional[int] = ..., platform_amount: _Optional[int] = ..., platform_fee: _Optional[int] = ..., platform_channel_fee: _Optional[int] = ..., platform_success_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel_found: _Optional[bool] = ..., channel_status: _Optional[str] = ..., channel_amount: _Optional[int] = ..., channel_fee: _Optional[int] = ..., channel_order_no: _Optional[str] = ..., channel_trade_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[MistakeState, str]] = ..., decision: _Optional[_Union[Decision, str]] = ..., operator: _Optional[str] = ..., remark: _Optional[str] = ..., correction_action: _Optional[str] = ..., posting_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., handle_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RunBatchRequest(_message.Message):
    __slots__ = ("channel_config_key", "bill_date", "force", "retry_after_seconds")
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    bill_date: str
    force: bool
    retry_after_seconds: int
    def __init__(self, channel_config_key: _Optional[str] = ..., bill_date: _Optional[str] = ..., force: _Optional[bool] = ..., retry_after_seconds: _Optional[int] = ...) -> None: ...

class RunBatchResponse(_message.Message):
    __slots__ = ("batch", "ran")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    RAN_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    ran: bool
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ..., ran: _Optional[bool] = ...) -> None: ...

class GetBatchRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class GetBatchResponse(_message.Message):
    __slots__ = ("batch",)
    BATCH_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ...) -> None: ...

class ListBatchesRequest(_message.Message):
    __slots__ = ("channel_config_key", "bill_date_from", "bill_date_to", "state", "page")
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_TO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    bill_date_from: str
    bill_date_to: str
    state: BatchState
    page: _common_pb2.PageRequest
    def __init__(self, channel_config_key: _Optional[str] = ..., bill_date_from: _Optional[str] = ..., bill_date_to: _Optional[str] = ..., state: _Optional[_Union[BatchState, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListBatchesResponse(_message.Message):
    __slots__ = ("batches", "page")
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[Batch]
    page: _common_pb2.PageResponse
    def __init__(self, batches: _Optional[_Iterable[_Union[Batch, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class MistakeTypeSummary(_message.Message):
    __slots__ = ("type", "kind", "count", "open_count", "platform_amount", "channel_amount", "platform_fee", "channel_fee")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    OPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_FEE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FEE_FIELD_NUMBER: _ClassVar[int]
    type: MistakeType
    kind: TradeKind
    count: int
    open_count: int
    platform_amount: int
    channel_amount: int
    platform_fee: int
    channel_fee: int
    def __init__(self, type: _Optional[_Union[MistakeType, str]] = ..., kind: _Optional[_Union[TradeKind, str]] = ..., count: _Optional[int] = ..., open_count: _Optional[int] = ..., platform_amount: _Optional[int] = ..., channel_amount: _Optional[int] = ..., platform_fee: _Optional[int] = ..., channel_fee: _Optional[int] = ...) -> None: ...

class GetBatchSummaryRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class GetBatchSummaryResponse(_message.Message):
    __slots__ = ("batch", "mistakes")
    BATCH_FIELD_NUMBER: _ClassVar[int]
    MISTAKES_FIELD_NUMBER: _ClassVar[int]
    batch: Batch
    mistakes: _containers.RepeatedCompositeFieldContainer[MistakeTypeSummary]
    def __init__(self, batch: _Optional[_Union[Batch, _Mapping]] = ..., mistakes: _Optional[_Iterable[_Union[MistakeTypeSummary, _Mapping]]] = ...) -> None: ...

class ListMistakesRequest(_message.Message):
    __slots__ = ("batch_id", "type", "state", "open_only", "mch_no", "page")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    type: MistakeType
    state: MistakeState
    open_only: bool
    mch_no: str
    page: _common_pb2.PageRequest
    def __init__(self, batch_id: _Optional[str] = ..., type: _Optional[_Union[MistakeType, str]] = ..., state: _Optional[_Union[MistakeState, str]] = ..., open_only: _Optional[bool] = ..., mch_no: _Optional[str] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListMistakesResponse(_message.Message):
    __slots__ = ("mistakes", "page")
    MISTAKES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    mistakes: _containers.RepeatedCompositeFieldContainer[Mistake]
    page: _common_pb2.PageResponse
    def __init__(self, mistakes: _Optional[_Iterable[_Union[Mistake, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class GetMistakeRequest(_message.Message):
    __slots__ = ("mistake_id",)
    MISTAKE_ID_FIELD_NUMBER: _ClassVar[int]
    mistake_id: str
    def __init__(self, mistake_id: _Optional[str] = ...) -> None: ...

class GetMistakeResponse(_message.Message):
    __slots__ = ("mistake",)
    MISTAKE_FIELD_NUMBER: _ClassVar[int]
    mistake: Mistake
    def __init__(self, mistake: _Optional[_Union[Mistake, _Mapping]] = ...) -> None: ...

class HandleMistakeRequest(_message.Message):
    __slots__ = ("mistake_id", "decision", "operator", "remark")
    MISTAKE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REMARK_FIELD_NUMBER: _ClassVar[int]
    mistake_id: str
    decision: Decision
    operator: str
    remark: str
    def __init__(self, mistake_id: _Optional[str] = ..., decision: _Optional[_Union[Decision, str]] = ..., operator: _Optional[str] = ..., remark: _Optional[str] = ...) -> None: ...

class HandleMistakeResponse(_message.Message):
    __slots__ = ("mistake", "replayed")
    MISTAKE_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    mistake: Mistake
    replayed: bool
    def __init__(self, mistake: _Optional[_Union[Mistake, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetSettlementGateRequest(_message.Message):
    __slots__ = ("today",)
    TODAY_FIELD_NUMBER: _ClassVar[int]
    today: str
    def __init__(self, today: _Optional[str] = ...) -> None: ...

class ConfigGate(_message.Message):
    __slots__ = ("channel_config_key", "reconciled_through")
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    RECONCILED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    reconciled_through: str
    def __init__(self, channel_config_key: _Optional[str] = ..., reconciled_through: _Optional[str] = ...) -> None: ...

class BlockedMerchant(_message.Message):
    __slots__ = ("mch_no", "open_mistakes", "earliest_bill_date")
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    OPEN_MISTAKES_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    open_mistakes: int
    earliest_bill_date: str
    def __init__(self, mch_no: _Optional[str] = ..., open_mistakes: _Optional[int] = ..., earliest_bill_date: _Optional[str] = ...) -> None: ...

class GetSettlementGateResponse(_message.Message):
    __slots__ = ("reconciled_through", "configs", "blocked_merchants")
    RECONCILED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    CONFIGS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_MERCHANTS_FIELD_NUMBER: _ClassVar[int]
    reconciled_through: str
    configs: _containers.RepeatedCompositeFieldContainer[ConfigGate]
    blocked_merchants: _containers.RepeatedCompositeFieldContainer[BlockedMerchant]
    def __init__(self, reconciled_through: _Optional[str] = ..., configs: _Optional[_Iterable[_Union[ConfigGate, _Mapping]]] = ..., blocked_merchants: _Optional[_Iterable[_Union[BlockedMerchant, _Mapping]]] = ...) -> None: ...
