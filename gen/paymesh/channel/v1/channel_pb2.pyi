from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChannelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_STATE_UNSPECIFIED: _ClassVar[ChannelState]
    CHANNEL_STATE_CONFIRM_SUCCESS: _ClassVar[ChannelState]
    CHANNEL_STATE_CONFIRM_FAIL: _ClassVar[ChannelState]
    CHANNEL_STATE_WAITING: _ClassVar[ChannelState]
    CHANNEL_STATE_UNKNOWN: _ClassVar[ChannelState]
    CHANNEL_STATE_SYS_ERROR: _ClassVar[ChannelState]

class CallbackKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CALLBACK_KIND_UNSPECIFIED: _ClassVar[CallbackKind]
    CALLBACK_KIND_PAY: _ClassVar[CallbackKind]
    CALLBACK_KIND_REFUND: _ClassVar[CallbackKind]

class BillRowKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILL_ROW_KIND_UNSPECIFIED: _ClassVar[BillRowKind]
    BILL_ROW_KIND_PAY: _ClassVar[BillRowKind]
    BILL_ROW_KIND_REFUND: _ClassVar[BillRowKind]

class BillRowStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BILL_ROW_STATUS_UNSPECIFIED: _ClassVar[BillRowStatus]
    BILL_ROW_STATUS_SUCCESS: _ClassVar[BillRowStatus]
    BILL_ROW_STATUS_PROCESSING: _ClassVar[BillRowStatus]
    BILL_ROW_STATUS_FAILED: _ClassVar[BillRowStatus]
CHANNEL_STATE_UNSPECIFIED: ChannelState
CHANNEL_STATE_CONFIRM_SUCCESS: ChannelState
CHANNEL_STATE_CONFIRM_FAIL: ChannelState
CHANNEL_STATE_WAITING: ChannelState
CHANNEL_STATE_UNKNOWN: ChannelState
CHANNEL_STATE_SYS_ERROR: ChannelState
CALLBACK_KIND_UNSPECIFIED: CallbackKind
CALLBACK_KIND_PAY: CallbackKind
CALLBACK_KIND_REFUND: CallbackKind
BILL_ROW_KIND_UNSPECIFIED: BillRowKind
BILL_ROW_KIND_PAY: BillRowKind
BILL_ROW_KIND_REFUND: BillRowKind
BILL_ROW_STATUS_UNSPECIFIED: BillRowStatus
BILL_ROW_STATUS_SUCCESS: BillRowStatus
BILL_ROW_STATUS_PROCESSING: BillRowStatus
BILL_ROW_STATUS_FAILED: BillRowStatus

class PaymentOrder(_message.Message):
    __slots__ = ("pay_order_id", "way_code", "amount", "currency", "subject", "body", "client_ip", "expire_at", "channel_extra", "return_url")
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WAY_CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_EXTRA_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    pay_order_id: str
    way_code: str
    amount: int
    currency: str
    subject: str
    body: str
    client_ip: str
    expire_at: int
    channel_extra: str
    return_url: str
    def __init__(self, pay_order_id: _Optional[str] = ..., way_code: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., client_ip: _Optional[str] = ..., expire_at: _Optional[int] = ..., channel_extra: _Optional[str] = ..., return_url: _Optional[str] = ...) -> None: ...

class PayRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "order", "notify_url")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    order: PaymentOrder
    notify_url: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., order: _Optional[_Union[PaymentOrder, _Mapping]] = ..., notify_url: _Optional[str] = ...) -> None: ...

class PayResponse(_message.Message):
    __slots__ = ("channel_state", "channel_order_no", "pay_data_type", "pay_data", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    PAY_DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAY_DATA_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    channel_order_no: str
    pay_data_type: str
    pay_data: str
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., channel_order_no: _Optional[str] = ..., pay_data_type: _Optional[str] = ..., pay_data: _Optional[str] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class QueryPaymentRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "pay_order_id", "channel_order_no")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    pay_order_id: str
    channel_order_no: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., channel_order_no: _Optional[str] = ...) -> None: ...

class QueryPaymentResponse(_message.Message):
    __slots__ = ("channel_state", "channel_order_no", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    channel_order_no: str
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., channel_order_no: _Optional[str] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class ClosePaymentRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "pay_order_id", "channel_order_no")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    pay_order_id: str
    channel_order_no: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., channel_order_no: _Optional[str] = ...) -> None: ...

class ClosePaymentResponse(_message.Message):
    __slots__ = ("channel_state", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class HttpHeader(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class VerifyCallbackRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "headers", "body", "content_type")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    headers: _containers.RepeatedCompositeFieldContainer[HttpHeader]
    body: bytes
    content_type: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[HttpHeader, _Mapping]]] = ..., body: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class VerifyCallbackResponse(_message.Message):
    __slots__ = ("verified", "reject_reason", "pay_order_id", "channel_order_no", "amount", "currency", "channel_state", "err_code", "err_msg", "ack_ok", "ack_retry", "kind", "refund_order_id", "channel_refund_no", "refund_amount")
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    REJECT_REASON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    ACK_OK_FIELD_NUMBER: _ClassVar[int]
    ACK_RETRY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    verified: bool
    reject_reason: str
    pay_order_id: str
    channel_order_no: str
    amount: int
    currency: str
    channel_state: ChannelState
    err_code: str
    err_msg: str
    ack_ok: AckReply
    ack_retry: AckReply
    kind: CallbackKind
    refund_order_id: str
    channel_refund_no: str
    refund_amount: int
    def __init__(self, verified: _Optional[bool] = ..., reject_reason: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., channel_order_no: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., channel_state: _Optional[_Union[ChannelState, str]] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ..., ack_ok: _Optional[_Union[AckReply, _Mapping]] = ..., ack_retry: _Optional[_Union[AckReply, _Mapping]] = ..., kind: _Optional[_Union[CallbackKind, str]] = ..., refund_order_id: _Optional[str] = ..., channel_refund_no: _Optional[str] = ..., refund_amount: _Optional[int] = ...) -> None: ...

class BuildUserAuthUrlRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "redirect_url", "state")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    redirect_url: str
    state: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., redirect_url: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class BuildUserAuthUrlResponse(_message.Message):
    __slots__ = ("url",)
    URL_FIELD_NUMBER: _ClassVar[int]
    url: str
    def __init__(self, url: _Optional[str] = ...) -> None: ...

class ResolveChannelUserRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "code")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    code: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class ResolveChannelUserResponse(_message.Message):
    __slots__ = ("channel_user_id",)
    CHANNEL_USER_ID_FIELD_NUMBER: _ClassVar[int]
    channel_user_id: str
    def __init__(self, channel_user_id: _Optional[str] = ...) -> None: ...

class IdentifyCallbackRequest(_message.Message):
    __slots__ = ("if_code", "headers", "body", "content_type")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    headers: _containers.RepeatedCompositeFieldContainer[HttpHeader]
    body: bytes
    content_type: str
    def __init__(self, if_code: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[HttpHeader, _Mapping]]] = ..., body: _Optional[bytes] = ..., content_type: _Optional[str] = ...) -> None: ...

class IdentifyCallbackResponse(_message.Message):
    __slots__ = ("kind", "pay_order_id", "refund_order_id")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    kind: CallbackKind
    pay_order_id: str
    refund_order_id: str
    def __init__(self, kind: _Optional[_Union[CallbackKind, str]] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ...) -> None: ...

class CancelPaymentRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "pay_order_id", "channel_order_no")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    pay_order_id: str
    channel_order_no: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., channel_order_no: _Optional[str] = ...) -> None: ...

class CancelPaymentResponse(_message.Message):
    __slots__ = ("channel_state", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class RefundRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "pay_order_id", "channel_order_no", "refund_order_id", "pay_amount", "refund_amount", "currency", "reason", "notify_url")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PAY_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    pay_order_id: str
    channel_order_no: str
    refund_order_id: str
    pay_amount: int
    refund_amount: int
    currency: str
    reason: str
    notify_url: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., channel_order_no: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., pay_amount: _Optional[int] = ..., refund_amount: _Optional[int] = ..., currency: _Optional[str] = ..., reason: _Optional[str] = ..., notify_url: _Optional[str] = ...) -> None: ...

class RefundResponse(_message.Message):
    __slots__ = ("channel_state", "channel_refund_no", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    channel_refund_no: str
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., channel_refund_no: _Optional[str] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class QueryRefundRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "pay_order_id", "refund_order_id", "channel_refund_no", "channel_order_no")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    pay_order_id: str
    refund_order_id: str
    channel_refund_no: str
    channel_order_no: str
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., channel_refund_no: _Optional[str] = ..., channel_order_no: _Optional[str] = ...) -> None: ...

class QueryRefundResponse(_message.Message):
    __slots__ = ("channel_state", "channel_refund_no", "refund_amount", "err_code", "err_msg")
    CHANNEL_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    REFUND_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ERR_CODE_FIELD_NUMBER: _ClassVar[int]
    ERR_MSG_FIELD_NUMBER: _ClassVar[int]
    channel_state: ChannelState
    channel_refund_no: str
    refund_amount: int
    err_code: str
    err_msg: str
    def __init__(self, channel_state: _Optional[_Union[ChannelState, str]] = ..., channel_refund_no: _Optional[str] = ..., refund_amount: _Optional[int] = ..., err_code: _Optional[str] = ..., err_msg: _Optional[str] = ...) -> None: ...

class AckReply(_message.Message):
    __slots__ = ("status", "content_type", "body")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    status: int
    content_type: str
    body: bytes
    def __init__(self, status: _Optional[int] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ...) -> None: ...

class ShowPayPageRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ShowPayPageResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class SubmitPayPageRequest(_message.Message):
    __slots__ = ("token", "http_body")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    token: str
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, token: _Optional[str] = ..., http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class SubmitPayPageResponse(_message.Message):
    __slots__ = ("http_body",)
    HTTP_BODY_FIELD_NUMBER: _ClassVar[int]
    http_body: _httpbody_pb2.HttpBody
    def __init__(self, http_body: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class DownloadBillRequest(_message.Message):
    __slots__ = ("if_code", "channel_params_json", "bill_date", "columnar", "partitions")
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    BILL_DATE_FIELD_NUMBER: _ClassVar[int]
    COLUMNAR_FIELD_NUMBER: _ClassVar[int]
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    if_code: str
    channel_params_json: str
    bill_date: str
    columnar: bool
    partitions: int
    def __init__(self, if_code: _Optional[str] = ..., channel_params_json: _Optional[str] = ..., bill_date: _Optional[str] = ..., columnar: _Optional[bool] = ..., partitions: _Optional[int] = ...) -> None: ...

class BillRow(_message.Message):
    __slots__ = ("kind", "channel_order_no", "pay_order_id", "refund_order_id", "channel_refund_no", "amount", "fee", "status", "trade_time", "currency")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NO_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FEE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRADE_TIME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    kind: BillRowKind
    channel_order_no: str
    pay_order_id: str
    refund_order_id: str
    channel_refund_no: str
    amount: int
    fee: int
    status: BillRowStatus
    trade_time: int
    currency: str
    def __init__(self, kind: _Optional[_Union[BillRowKind, str]] = ..., channel_order_no: _Optional[str] = ..., pay_order_id: _Optional[str] = ..., refund_order_id: _Optional[str] = ..., channel_refund_no: _Optional[str] = ..., amount: _Optional[int] = ..., fee: _Optional[int] = ..., status: _Optional[_Union[BillRowStatus, str]] = ..., trade_time: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class BillTotals(_message.Message):
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

class BillColumns(_message.Message):
    __slots__ = ("kinds", "channel_order_nos", "pay_order_ids", "refund_order_ids", "channel_refund_nos", "amounts", "fees", "statuses", "trade_times", "currencies")
    KINDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ORDER_NOS_FIELD_NUMBER: _ClassVar[int]
    PAY_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    REFUND_ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_REFUND_NOS_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TRADE_TIMES_FIELD_NUMBER: _ClassVar[int]
    CURRENCIES_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[BillRowKind]
    channel_order_nos: _containers.RepeatedScalarFieldContainer[str]
    pay_order_ids: _containers.RepeatedScalarFieldContainer[str]
    refund_order_ids: _containers.RepeatedScalarFieldContainer[str]
    channel_refund_nos: _containers.RepeatedScalarFieldContainer[str]
    amounts: _containers.RepeatedScalarFieldContainer[int]
    fees: _containers.RepeatedScalarFieldContainer[int]
    statuses: _containers.RepeatedScalarFieldContainer[BillRowStatus]
    trade_times: _containers.RepeatedScalarFieldContainer[int]
    currencies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kinds: _Optional[_Iterable[_Union[BillRowKind, str]]] = ..., channel_order_nos: _Optional[_Iterable[str]] = ..., pay_order_ids: _Optional[_Iterable[str]] = ..., refund_order_ids: _Optional[_Iterable[str]] = ..., channel_refund_nos: _Optional[_Iterable[str]] = ..., amounts: _Optional[_Iterable[int]] = ..., fees: _Optional[_Iterable[int]] = ..., statuses: _Optional[_Iterable[_Union[BillRowStatus, str]]] = ..., trade_times: _Optional[_Iterable[int]] = ..., currencies: _Optional[_Iterable[str]] = ...) -> None: ...

class DownloadBillResponse(_message.Message):
    __slots__ = ("rows", "totals", "columns", "partition")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    PARTITION_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[BillRow]
    totals: BillTotals
    columns: BillColumns
    partition: int
    def __init__(self, rows: _Optional[_Iterable[_Union[BillRow, _Mapping]]] = ..., totals: _Optional[_Union[BillTotals, _Mapping]] = ..., columns: _Optional[_Union[BillColumns, _Mapping]] = ..., partition: _Optional[int] = ...) -> None: ...
