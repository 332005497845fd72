import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.rpc import error_details_pb2 as _error_details_pb2
from paymesh.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FeeRounding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEE_ROUNDING_UNSPECIFIED: _ClassVar[FeeRounding]
    FEE_ROUNDING_HALF_UP: _ClassVar[FeeRounding]
    FEE_ROUNDING_CEILING: _ClassVar[FeeRounding]

class RefundFeeRule(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_FEE_RULE_UNSPECIFIED: _ClassVar[RefundFeeRule]
    REFUND_FEE_RULE_RETURN_PRO_RATA: _ClassVar[RefundFeeRule]
    REFUND_FEE_RULE_KEEP: _ClassVar[RefundFeeRule]

class MerchantType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MERCHANT_TYPE_UNSPECIFIED: _ClassVar[MerchantType]
    MERCHANT_TYPE_NORMAL: _ClassVar[MerchantType]
    MERCHANT_TYPE_ISV_SUB: _ClassVar[MerchantType]

class SignType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIGN_TYPE_UNSPECIFIED: _ClassVar[SignType]
    SIGN_TYPE_MD5: _ClassVar[SignType]
    SIGN_TYPE_HMAC_SHA256: _ClassVar[SignType]
FEE_ROUNDING_UNSPECIFIED: FeeRounding
FEE_ROUNDING_HALF_UP: FeeRounding
FEE_ROUNDING_CEILING: FeeRounding
REFUND_FEE_RULE_UNSPECIFIED: RefundFeeRule
REFUND_FEE_RULE_RETURN_PRO_RATA: RefundFeeRule
REFUND_FEE_RULE_KEEP: RefundFeeRule
MERCHANT_TYPE_UNSPECIFIED: MerchantType
MERCHANT_TYPE_NORMAL: MerchantType
MERCHANT_TYPE_ISV_SUB: MerchantType
SIGN_TYPE_UNSPECIFIED: SignType
SIGN_TYPE_MD5: SignType
SIGN_TYPE_HMAC_SHA256: SignType

class Merchant(_message.Message):
    __slots__ = ("mch_no", "name", "contact", "state", "create_time", "type", "isv_no")
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    name: str
    contact: str
    state: _common_pb2.EntityState
    create_time: _timestamp_pb2.Timestamp
    type: MerchantType
    isv_no: str
    def __init__(self, mch_no: _Optional[str] = ..., name: _Optional[str] = ..., contact: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[_Union[MerchantType, str]] = ..., isv_no: _Optional[str] = ...) -> None: ...

class Isv(_message.Message):
    __slots__ = ("isv_no", "name", "state", "create_time")
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    isv_no: str
    name: str
    state: _common_pb2.EntityState
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, isv_no: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class App(_message.Message):
    __slots__ = ("app_id", "mch_no", "name", "state", "create_time", "allow_private_notify_url")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PRIVATE_NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    mch_no: str
    name: str
    state: _common_pb2.EntityState
    create_time: _timestamp_pb2.Timestamp
    allow_private_notify_url: bool
    def __init__(self, app_id: _Optional[str] = ..., mch_no: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allow_private_notify_url: _Optional[bool] = ...) -> None: ...

class ChannelConfig(_message.Message):
    __slots__ = ("app_id", "if_code", "state", "param_names", "isv_no", "channel_config_key")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PARAM_NAMES_FIELD_NUMBER: _ClassVar[int]
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    if_code: str
    state: _common_pb2.EntityState
    param_names: _containers.RepeatedScalarFieldContainer[str]
    isv_no: str
    channel_config_key: str
    def __init__(self, app_id: _Optional[str] = ..., if_code: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., param_names: _Optional[_Iterable[str]] = ..., isv_no: _Optional[str] = ..., channel_config_key: _Optional[str] = ...) -> None: ...

class PayPassage(_message.Message):
    __slots__ = ("app_id", "way_code", "if_code", "fee_rate", "state", "priority", "weight", "max_amount_per_order", "daily_amount_limit", "fee_fixed", "fee_floor", "fee_cap", "fee_rounding", "refund_fee_rule", "channel_cost_rate")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    WAY_CODE_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_AMOUNT_PER_ORDER_FIELD_NUMBER: _ClassVar[int]
    DAILY_AMOUNT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    FEE_FIXED_FIELD_NUMBER: _ClassVar[int]
    FEE_FLOOR_FIELD_NUMBER: _ClassVar[int]
    FEE_CAP_FIELD_NUMBER: _ClassVar[int]
    FEE_ROUNDING_FIELD_NUMBER: _ClassVar[int]
    REFUND_FEE_RULE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_COST_RATE_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    way_code: str
    if_code: str
    fee_rate: str
    state: _common_pb2.EntityState
    priority: int
    weight: int
    max_amount_per_order: int
    daily_amount_limit: int
    fee_fixed: int
    fee_floor: int
    fee_cap: int
    fee_rounding: FeeRounding
    refund_fee_rule: RefundFeeRule
    channel_cost_rate: str
    def __init__(self, app_id: _Optional[str] = ..., way_code: _Optional[str] = ..., if_code: _Optional[str] = ..., fee_rate: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., priority: _Optional[int] = ..., weight: _Optional[int] = ..., max_amount_per_order: _Optional[int] = ..., daily_amount_limit: _Optional[int] = ..., fee_fixed: _Optional[int] = ..., fee_floor: _Optional[int] = ..., fee_cap: _Optional[int] = ..., fee_rounding: _Optional[_Union[FeeRounding, str]] = ..., refund_fee_rule: _Optional[_Union[RefundFeeRule, str]] = ..., channel_cost_rate: _Optional[str] = ...) -> None: ...

class CreateMerchantRequest(_message.Message):
    __slots__ = ("name", "contact", "isv_no")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    name: str
    contact: str
    isv_no: str
    def __init__(self, name: _Optional[str] = ..., contact: _Optional[str] = ..., isv_no: _Optional[str] = ...) -> None: ...

class CreateIsvRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateIsvResponse(_message.Message):
    __slots__ = ("isv",)
    ISV_FIELD_NUMBER: _ClassVar[int]
    isv: Isv
    def __init__(self, isv: _Optional[_Union[Isv, _Mapping]] = ...) -> None: ...

class GetIsvRequest(_message.Message):
    __slots__ = ("isv_no",)
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    isv_no: str
    def __init__(self, isv_no: _Optional[str] = ...) -> None: ...

class GetIsvResponse(_message.Message):
    __slots__ = ("isv",)
    ISV_FIELD_NUMBER: _ClassVar[int]
    isv: Isv
    def __init__(self, isv: _Optional[_Union[Isv, _Mapping]] = ...) -> None: ...

class SetIsvStateRequest(_message.Message):
    __slots__ = ("isv_no", "state")
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    isv_no: str
    state: _common_pb2.EntityState
    def __init__(self, isv_no: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ...) -> None: ...

class SetIsvStateResponse(_message.Message):
    __slots__ = ("isv",)
    ISV_FIELD_NUMBER: _ClassVar[int]
    isv: Isv
    def __init__(self, isv: _Optional[_Union[Isv, _Mapping]] = ...) -> None: ...

class PutIsvChannelConfigRequest(_message.Message):
    __slots__ = ("isv_no", "if_code", "params_json", "state")
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    isv_no: str
    if_code: str
    params_json: str
    state: _common_pb2.EntityState
    def __init__(self, isv_no: _Optional[str] = ..., if_code: _Optional[str] = ..., params_json: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ...) -> None: ...

class PutIsvChannelConfigResponse(_message.Message):
    __slots__ = ("channel_config",)
    CHANNEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    channel_config: ChannelConfig
    def __init__(self, channel_config: _Optional[_Union[ChannelConfig, _Mapping]] = ...) -> None: ...

class ListIsvChannelConfigsRequest(_message.Message):
    __slots__ = ("isv_no",)
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    isv_no: str
    def __init__(self, isv_no: _Optional[str] = ...) -> None: ...

class ListIsvChannelConfigsResponse(_message.Message):
    __slots__ = ("channel_configs",)
    CHANNEL_CONFIGS_FIELD_NUMBER: _ClassVar[int]
    channel_configs: _containers.RepeatedCompositeFieldContainer[ChannelConfig]
    def __init__(self, channel_configs: _Optional[_Iterable[_Union[ChannelConfig, _Mapping]]] = ...) -> None: ...

class CreateMerchantResponse(_message.Message):
    __slots__ = ("merchant", "app", "app_secret")
    MERCHANT_FIELD_NUMBER: _ClassVar[int]
    APP_FIELD_NUMBER: _ClassVar[int]
    APP_SECRET_FIELD_NUMBER: _ClassVar[int]
    merchant: Merchant
    app: App
    app_secret: str
    def __init__(self, merchant: _Optional[_Union[Merchant, _Mapping]] = ..., app: _Optional[_Union[App, _Mapping]] = ..., app_secret: _Optional[str] = ...) -> None: ...

class GetMerchantRequest(_message.Message):
    __slots__ = ("mch_no",)
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    def __init__(self, mch_no: _Optional[str] = ...) -> None: ...

class GetMerchantResponse(_message.Message):
    __slots__ = ("merchant",)
    MERCHANT_FIELD_NUMBER: _ClassVar[int]
    merchant: Merchant
    def __init__(self, merchant: _Optional[_Union[Merchant, _Mapping]] = ...) -> None: ...

class ListMerchantsRequest(_message.Message):
    __slots__ = ("page",)
    PAGE_FIELD_NUMBER: _ClassVar[int]
    page: _common_pb2.PageRequest
    def __init__(self, page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListMerchantsResponse(_message.Message):
    __slots__ = ("merchants", "page")
    MERCHANTS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    merchants: _containers.RepeatedCompositeFieldContainer[Merchant]
    page: _common_pb2.PageResponse
    def __init__(self, merchants: _Optional[_Iterable[_Union[Merchant, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class SetMerchantStateRequest(_message.Message):
    __slots__ = ("mch_no", "state")
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    state: _common_pb2.EntityState
    def __init__(self, mch_no: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ...) -> None: ...

class SetMerchantStateResponse(_message.Message):
    __slots__ = ("merchant",)
    MERCHANT_FIELD_NUMBER: _ClassVar[int]
    merchant: Merchant
    def __init__(self, merchant: _Optional[_Union[Merchant, _Mapping]] = ...) -> None: ...

class CreateAppRequest(_message.Message):
    __slots__ = ("mch_no", "name", "allow_private_notify_url")
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PRIVATE_NOTIFY_URL_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    name: str
    allow_private_notify_url: bool
    def __init__(self, mch_no: _Optional[str] = ..., name: _Optional[str] = ..., allow_private_notify_url: _Optional[bool] = ...) -> None: ...

class CreateAppResponse(_message.Message):
    __slots__ = ("app", "app_secret")
    APP_FIELD_NUMBER: _ClassVar[int]
    APP_SECRET_FIELD_NUMBER: _ClassVar[int]
    app: App
    app_secret: str
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ..., app_secret: _Optional[str] = ...) -> None: ...

class GetAppRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class GetAppResponse(_message.Message):
    __slots__ = ("app",)
    APP_FIELD_NUMBER: _ClassVar[int]
    app: App
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ...) -> None: ...

class ListAppsRequest(_message.Message):
    __slots__ = ("mch_no",)
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    mch_no: str
    def __init__(self, mch_no: _Optional[str] = ...) -> None: ...

class ListAppsResponse(_message.Message):
    __slots__ = ("apps",)
    APPS_FIELD_NUMBER: _ClassVar[int]
    apps: _containers.RepeatedCompositeFieldContainer[App]
    def __init__(self, apps: _Optional[_Iterable[_Union[App, _Mapping]]] = ...) -> None: ...

class SetAppStateRequest(_message.Message):
    __slots__ = ("app_id", "state")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    state: _common_pb2.EntityState
    def __init__(self, app_id: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ...) -> None: ...

class SetAppStateResponse(_message.Message):
    __slots__ = ("app",)
    APP_FIELD_NUMBER: _ClassVar[int]
    app: App
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ...) -> None: ...

class RotateAppSecretRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class RotateAppSecretResponse(_message.Message):
    __slots__ = ("app", "app_secret")
    APP_FIELD_NUMBER: _ClassVar[int]
    APP_SECRET_FIELD_NUMBER: _ClassVar[int]
    app: App
    app_secret: str
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ..., app_secret: _Optional[str] = ...) -> None: ...

class PutChannelConfigRequest(_message.Message):
    __slots__ = ("app_id", "if_code", "params_json", "state")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    if_code: str
    params_json: str
    state: _common_pb2.EntityState
    def __init__(self, app_id: _Optional[str] = ..., if_code: _Optional[str] = ..., params_json: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ...) -> None: ...

class PutChannelConfigResponse(_message.Message):
    __slots__ = ("channel_config",)
    CHANNEL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    channel_config: ChannelConfig
    def __init__(self, channel_config: _Optional[_Union[ChannelConfig, _Mapping]] = ...) -> None: ...

class ListChannelConfigsRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class ListChannelConfigsResponse(_message.Message):
    __slots__ = ("channel_configs",)
    CHANNEL_CONFIGS_FIELD_NUMBER: _ClassVar[int]
    channel_configs: _containers.RepeatedCompositeFieldContainer[ChannelConfig]
    def __init__(self, channel_configs: _Optional[_Iterable[_Union[ChannelConfig, _Mapping]]] = ...) -> None: ...

class PutPayPassageRequest(_message.Message):
    __slots__ = ("app_id", "way_code", "if_code", "fee_rate", "state", "priority", "weight", "max_amount_per_order", "daily_amount_limit", "fee_fixed", "fee_floor", "fee_cap", "fee_rounding", "refund_fee_rule", "channel_cost_rate")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    WAY_CODE_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    FEE_RATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_AMOUNT_PER_ORDER_FIELD_NUMBER: _ClassVar[int]
    DAILY_AMOUNT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    FEE_FIXED_FIELD_NUMBER: _ClassVar[int]
    FEE_FLOOR_FIELD_NUMBER: _ClassVar[int]
    FEE_CAP_FIELD_NUMBER: _ClassVar[int]
    FEE_ROUNDING_FIELD_NUMBER: _ClassVar[int]
    REFUND_FEE_RULE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_COST_RATE_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    way_code: str
    if_code: str
    fee_rate: str
    state: _common_pb2.EntityState
    priority: int
    weight: int
    max_amount_per_order: int
    daily_amount_limit: int
    fee_fixed: int
    fee_floor: int
    fee_cap: int
    fee_rounding: FeeRounding
    refund_fee_rule: RefundFeeRule
    channel_cost_rate: str
    def __init__(self, app_id: _Optional[str] = ..., way_code: _Optional[str] = ..., if_code: _Optional[str] = ..., fee_rate: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., priority: _Optional[int] = ..., weight: _Optional[int] = ..., max_amount_per_order: _Optional[int] = ..., daily_amount_limit: _Optional[int] = ..., fee_fixed: _Optional[int] = ..., fee_floor: _Optional[int] = ..., fee_cap: _Optional[int] = ..., fee_rounding: _Optional[_Union[FeeRounding, str]] = ..., refund_fee_rule: _Optional[_Union[RefundFeeRule, str]] = ..., channel_cost_rate: _Optional[str] = ...) -> None: ...

class PutPayPassageResponse(_message.Message):
    __slots__ = ("passage",)
    PASSAGE_FIELD_NUMBER: _ClassVar[int]
    passage: PayPassage
    def __init__(self, passage: _Optional[_Union[PayPassage, _Mapping]] = ...) -> None: ...

class ListPayPassagesRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class ListPayPassagesResponse(_message.Message):
    __slots__ = ("passages",)
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    passages: _containers.RepeatedCompositeFieldContainer[PayPassage]
    def __init__(self, passages: _Optional[_Iterable[_Union[PayPassage, _Mapping]]] = ...) -> None: ...

class ResolvePayContextRequest(_message.Message):
    __slots__ = ("app_id",)
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    def __init__(self, app_id: _Optional[str] = ...) -> None: ...

class ResolvedPassage(_message.Message):
    __slots__ = ("passage", "channel_config_state", "channel_params_json", "channel_config_key")
    PASSAGE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_STATE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    passage: PayPassage
    channel_config_state: _common_pb2.EntityState
    channel_params_json: str
    channel_config_key: str
    def __init__(self, passage: _Optional[_Union[PayPassage, _Mapping]] = ..., channel_config_state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., channel_params_json: _Optional[str] = ..., channel_config_key: _Optional[str] = ...) -> None: ...

class ResolvePayContextResponse(_message.Message):
    __slots__ = ("app", "merchant", "app_secret", "passages")
    APP_FIELD_NUMBER: _ClassVar[int]
    MERCHANT_FIELD_NUMBER: _ClassVar[int]
    APP_SECRET_FIELD_NUMBER: _ClassVar[int]
    PASSAGES_FIELD_NUMBER: _ClassVar[int]
    app: App
    merchant: Merchant
    app_secret: str
    passages: _containers.RepeatedCompositeFieldContainer[ResolvedPassage]
    def __init__(self, app: _Optional[_Union[App, _Mapping]] = ..., merchant: _Optional[_Union[Merchant, _Mapping]] = ..., app_secret: _Optional[str] = ..., passages: _Optional[_Iterable[_Union[ResolvedPassage, _Mapping]]] = ...) -> None: ...

class ResolveChannelConfigsRequest(_message.Message):
    __slots__ = ("channel_config_key",)
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    def __init__(self, channel_config_key: _Optional[str] = ...) -> None: ...

class ResolvedChannelConfig(_message.Message):
    __slots__ = ("channel_config_key", "if_code", "state", "app_id", "isv_no", "mch_no", "channel_params_json")
    CHANNEL_CONFIG_KEY_FIELD_NUMBER: _ClassVar[int]
    IF_CODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    ISV_NO_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    channel_config_key: str
    if_code: str
    state: _common_pb2.EntityState
    app_id: str
    isv_no: str
    mch_no: str
    channel_params_json: str
    def __init__(self, channel_config_key: _Optional[str] = ..., if_code: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.EntityState, str]] = ..., app_id: _Optional[str] = ..., isv_no: _Optional[str] = ..., mch_no: _Optional[str] = ..., channel_params_json: _Optional[str] = ...) -> None: ...

class ResolveChannelConfigsResponse(_message.Message):
    __slots__ = ("channel_configs",)
    CHANNEL_CONFIGS_FIELD_NUMBER: _ClassVar[int]
    channel_configs: _containers.RepeatedCompositeFieldContainer[ResolvedChannelConfig]
    def __init__(self, channel_configs: _Optional[_Iterable[_Union[ResolvedChannelConfig, _Mapping]]] = ...) -> None: ...

class WatchConfigChangesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WatchConfigChangesResponse(_message.Message):
    __slots__ = ("app_id", "mch_no")
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    MCH_NO_FIELD_NUMBER: _ClassVar[int]
    app_id: str
    mch_no: str
    def __init__(self, app_id: _Optional[str] = ..., mch_no: _Optional[str] = ...) -> None: ...

class ErrorDetailTypes(_message.Message):
    __slots__ = ("error_info", "bad_request")
    ERROR_INFO_FIELD_NUMBER: _ClassVar[int]
    BAD_REQUEST_FIELD_NUMBER: _ClassVar[int]
    error_info: _error_details_pb2.ErrorInfo
    bad_request: _error_details_pb2.BadRequest
    def __init__(self, error_info: _Optional[_Union[_error_details_pb2.ErrorInfo, _Mapping]] = ..., bad_request: _Optional[_Union[_error_details_pb2.BadRequest, _Mapping]] = ...) -> None: ...
