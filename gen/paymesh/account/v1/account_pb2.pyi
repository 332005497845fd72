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

class AccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_ACTIVE: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_STOP_IN: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_STOP_OUT: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_FROZEN: _ClassVar[AccountStatus]
    ACCOUNT_STATUS_CANCELLED: _ClassVar[AccountStatus]

class WithdrawalState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WITHDRAWAL_STATE_UNSPECIFIED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_REQUESTED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_APPROVED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_REJECTED: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_PAID: _ClassVar[WithdrawalState]
    WITHDRAWAL_STATE_FAILED: _ClassVar[WithdrawalState]

class AccountKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_KIND_UNSPECIFIED: _ClassVar[AccountKind]
    ACCOUNT_KIND_PENDING: _ClassVar[AccountKind]
    ACCOUNT_KIND_AVAILABLE: _ClassVar[AccountKind]
    ACCOUNT_KIND_FROZEN: _ClassVar[AccountKind]
    ACCOUNT_KIND_RESERVE: _ClassVar[AccountKind]
    ACCOUNT_KIND_CHANNEL_CLEARING: _ClassVar[AccountKind]
    ACCOUNT_KIND_FEE_INCOME: _ClassVar[AccountKind]
    ACCOUNT_KIND_SETTLEMENT_PAYABLE: _ClassVar[AccountKind]

class SettlementSkipReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SETTLEMENT_SKIP_REASON_UNSPECIFIED: _ClassVar[SettlementSkipReason]
    SETTLEMENT_SKIP_REASON_HELD: _ClassVar[SettlementSkipReason]
    SETTLEMENT_SKIP_REASON_ACCOUNT_STATUS: _ClassVar[SettlementSkipReason]
    SETTLEMENT_SKIP_REASON_PENDING_SHORT: _ClassVar[SettlementSkipReason]

class PostingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POSTING_STATUS_UNSPECIFIED: _ClassVar[PostingStatus]
    POSTING_STATUS_POSTED: _ClassVar[PostingStatus]
    POSTING_STATUS_REFUSED: _ClassVar[PostingStatus]
ACCOUNT_STATUS_UNSPECIFIED: AccountStatus
ACCOUNT_STATUS_ACTIVE: AccountStatus
ACCOUNT_STATUS_STOP_IN: AccountStatus
ACCOUNT_STATUS_STOP_OUT: AccountStatus
ACCOUNT_STATUS_FROZEN: AccountStatus
ACCOUNT_STATUS_CANCELLED: AccountStatus
WITHDRAWAL_STATE_UNSPECIFIED: WithdrawalState
WITHDRAWAL_STATE_REQUESTED: WithdrawalState
WITHDRAWAL_STATE_APPROVED: WithdrawalState
WITHDRAWAL_STATE_REJECTED: WithdrawalState
WITHDRAWAL_STATE_PAID: WithdrawalState
WITHDRAWAL_STATE_FAILED: WithdrawalState
ACCOUNT_KIND_UNSPECIFIED: AccountKind
ACCOUNT_KIND_PENDING: AccountKind
ACCOUNT_KIND_AVAILABLE: AccountKind
ACCOUNT_KIND_FROZEN: AccountKind
ACCOUNT_KIND_RESERVE: AccountKind
ACCOUNT_KIND_CHANNEL_CLEARING: AccountKind
ACCOUNT_KIND_FEE_INCOME: AccountKind
ACCOUNT_KIND_SETTLEMENT_PAYABLE: AccountKind
SETTLEMENT_SKIP_REASON_UNSPECIFIED: SettlementSkipReason
SETTLEMENT_SKIP_REASON_HELD: SettlementSkipReason
SETTLEMENT_SKIP_REASON_ACCOUNT_STATUS: SettlementSkipReason
SETTLEMENT_SKIP_REASON_PENDING_SHORT: SettlementSkipReason
POSTING_STATUS_UNSPECIFIED: PostingStatus
POSTING_STATUS_POSTED: PostingStatus
POSTING_STATUS_REFUSED: PostingStatus

class Account(_message.Message):
    __slots__ = ("account_id", "owner", "currency", "kind", "may_go_negative", "balance", "create_time", "status")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAY_GO_NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    owner: str
    currency: str
    kind: AccountKind
    may_go_negative: bool
    balance: int
    create_time: _timestamp_pb2.Timestamp
    status: AccountStatus
    def __init__(self, account_id: _Optional[int] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ..., may_go_negative: _Optional[bool] = ..., balance: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[AccountStatus, str]] = ...) -> None: ...

class OpenAccountRequest(_message.Message):
    __slots__ = ("owner", "currency", "kind")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    owner: str
    currency: str
    kind: AccountKind
    def __init__(self, owner: _Optional[str] = ..., currency: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ...) -> None: ...

class OpenAccountResponse(_message.Message):
    __slots__ = ("account", "created")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    account: Account
    created: bool
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("debit_account_id", "credit_account_id", "amount", "code", "memo", "value_date")
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str
    memo: str
    value_date: str
    def __init__(self, debit_account_id: _Optional[int] = ..., credit_account_id: _Optional[int] = ..., amount: _Optional[int] = ..., code: _Optional[str] = ..., memo: _Optional[str] = ..., value_date: _Optional[str] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("transfer_id", "posting_id", "index", "debit_account_id", "credit_account_id", "amount", "code", "memo", "create_time", "value_date")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    transfer_id: int
    posting_id: str
    index: int
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str
    memo: str
    create_time: _timestamp_pb2.Timestamp
    value_date: str
    def __init__(self, transfer_id: _Optional[int] = ..., posting_id: _Optional[str] = ..., index: _Optional[int] = ..., debit_account_id: _Optional[int] = ..., credit_account_id: _Optional[int] = ..., amount: _Optional[int] = ..., code: _Optional[str] = ..., memo: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value_date: _Optional[str] = ...) -> None: ...

class PostRequest(_message.Message):
    __slots__ = ("posting_id", "transfers")
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    posting_id: str
    transfers: _containers.RepeatedCompositeFieldContainer[TransferRequest]
    def __init__(self, posting_id: _Optional[str] = ..., transfers: _Optional[_Iterable[_Union[TransferRequest, _Mapping]]] = ...) -> None: ...

class PostResponse(_message.Message):
    __slots__ = ("transfers", "replayed")
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfers: _containers.RepeatedCompositeFieldContainer[Transfer]
    replayed: bool
    def __init__(self, transfers: _Optional[_Iterable[_Union[Transfer, _Mapping]]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetBalancesRequest(_message.Message):
    __slots__ = ("account_id", "owner")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    owner: str
    def __init__(self, account_id: _Optional[int] = ..., owner: _Optional[str] = ...) -> None: ...

class GetBalancesResponse(_message.Message):
    __slots__ = ("accounts",)
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class Entry(_message.Message):
    __slots__ = ("transfer", "amount", "balance_after", "counterparty_account_id")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    amount: int
    balance_after: int
    counterparty_account_id: int
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., amount: _Optional[int] = ..., balance_after: _Optional[int] = ..., counterparty_account_id: _Optional[int] = ...) -> None: ...

class ListEntriesRequest(_message.Message):
    __slots__ = ("account_id", "page", "code", "value_date_from", "value_date_to", "created_after", "created_before")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FROM_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_TO_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    page: _common_pb2.PageRequest
    code: str
    value_date_from: str
    value_date_to: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[int] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ..., code: _Optional[str] = ..., value_date_from: _Optional[str] = ..., value_date_to: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListEntriesResponse(_message.Message):
    __slots__ = ("entries", "page")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[Entry]
    page: _common_pb2.PageResponse
    def __init__(self, entries: _Optional[_Iterable[_Union[Entry, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class CheckInvariantsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CurrencyTotal(_message.Message):
    __slots__ = ("currency", "total", "account_count")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_COUNT_FIELD_NUMBER: _ClassVar[int]
    currency: str
    total: int
    account_count: int
    def __init__(self, currency: _Optional[str] = ..., total: _Optional[int] = ..., account_count: _Optional[int] = ...) -> None: ...

class AccountDiscrepancy(_message.Message):
    __slots__ = ("account_id", "stored_balance", "transfers_balance", "disallowed_negative")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STORED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DISALLOWED_NEGATIVE_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    stored_balance: int
    transfers_balance: int
    disallowed_negative: bool
    def __init__(self, account_id: _Optional[int] = ..., stored_balance: _Optional[int] = ..., transfers_balance: _Optional[int] = ..., disallowed_negative: _Optional[bool] = ...) -> None: ...

class CheckInvariantsResponse(_message.Message):
    __slots__ = ("totals", "discrepancies", "sound")
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCIES_FIELD_NUMBER: _ClassVar[int]
    SOUND_FIELD_NUMBER: _ClassVar[int]
    totals: _containers.RepeatedCompositeFieldContainer[CurrencyTotal]
    discrepancies: _containers.RepeatedCompositeFieldContainer[AccountDiscrepancy]
    sound: bool
    def __init__(self, totals: _Optional[_Iterable[_Union[CurrencyTotal, _Mapping]]] = ..., discrepancies: _Optional[_Iterable[_Union[AccountDiscrepancy, _Mapping]]] = ..., sound: _Optional[bool] = ...) -> None: ...

class SetAccountStatusRequest(_message.Message):
    __slots__ = ("account_id", "status", "operator", "note")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    status: AccountStatus
    operator: str
    note: str
    def __init__(self, account_id: _Optional[int] = ..., status: _Optional[_Union[AccountStatus, str]] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class SetAccountStatusResponse(_message.Message):
    __slots__ = ("account", "changed")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    account: Account
    changed: bool
    def __init__(self, account: _Optional[_Union[Account, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...

class FreezeAmountRequest(_message.Message):
    __slots__ = ("freeze_id", "owner", "currency", "amount", "operator", "note")
    FREEZE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    freeze_id: str
    owner: str
    currency: str
    amount: int
    operator: str
    note: str
    def __init__(self, freeze_id: _Optional[str] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[int] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class FreezeAmountResponse(_message.Message):
    __slots__ = ("transfer", "replayed")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    replayed: bool
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class UnfreezeAmountRequest(_message.Message):
    __slots__ = ("unfreeze_id", "owner", "currency", "amount", "operator", "note")
    UNFREEZE_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    unfreeze_id: str
    owner: str
    currency: str
    amount: int
    operator: str
    note: str
    def __init__(self, unfreeze_id: _Optional[str] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[int] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class UnfreezeAmountResponse(_message.Message):
    __slots__ = ("transfer", "replayed")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    replayed: bool
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class WithdrawalStep(_message.Message):
    __slots__ = ("state", "operator", "note", "posting_id", "create_time")
    STATE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    state: WithdrawalState
    operator: str
    note: str
    posting_id: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[WithdrawalState, str]] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ..., posting_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Withdrawal(_message.Message):
    __slots__ = ("withdrawal_id", "owner", "currency", "amount", "state", "steps", "create_time", "update_time")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    owner: str
    currency: str
    amount: int
    state: WithdrawalState
    steps: _containers.RepeatedCompositeFieldContainer[WithdrawalStep]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, withdrawal_id: _Optional[str] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[int] = ..., state: _Optional[_Union[WithdrawalState, str]] = ..., steps: _Optional[_Iterable[_Union[WithdrawalStep, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestWithdrawalRequest(_message.Message):
    __slots__ = ("withdrawal_id", "owner", "currency", "amount", "operator", "note")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    owner: str
    currency: str
    amount: int
    operator: str
    note: str
    def __init__(self, withdrawal_id: _Optional[str] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., amount: _Optional[int] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RequestWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal", "replayed")
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    replayed: bool
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class ApproveWithdrawalRequest(_message.Message):
    __slots__ = ("withdrawal_id", "operator", "note")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    operator: str
    note: str
    def __init__(self, withdrawal_id: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ApproveWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal", "replayed")
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    replayed: bool
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class RejectWithdrawalRequest(_message.Message):
    __slots__ = ("withdrawal_id", "operator", "note")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    operator: str
    note: str
    def __init__(self, withdrawal_id: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RejectWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal", "replayed")
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    replayed: bool
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class MarkWithdrawalPaidRequest(_message.Message):
    __slots__ = ("withdrawal_id", "operator", "note")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    operator: str
    note: str
    def __init__(self, withdrawal_id: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class MarkWithdrawalPaidResponse(_message.Message):
    __slots__ = ("withdrawal", "replayed")
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    replayed: bool
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class MarkWithdrawalFailedRequest(_message.Message):
    __slots__ = ("withdrawal_id", "operator", "note")
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    operator: str
    note: str
    def __init__(self, withdrawal_id: _Optional[str] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class MarkWithdrawalFailedResponse(_message.Message):
    __slots__ = ("withdrawal", "replayed")
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    replayed: bool
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class AdjustRequest(_message.Message):
    __slots__ = ("adjustment_id", "debit_account_id", "credit_account_id", "amount", "reason", "operator")
    ADJUSTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    adjustment_id: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    reason: str
    operator: str
    def __init__(self, adjustment_id: _Optional[str] = ..., debit_account_id: _Optional[int] = ..., credit_account_id: _Optional[int] = ..., amount: _Optional[int] = ..., reason: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class AdjustResponse(_message.Message):
    __slots__ = ("transfer", "replayed")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    replayed: bool
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., replayed: _Optional[bool] = ...) -> None: ...

class GetWithdrawalRequest(_message.Message):
    __slots__ = ("withdrawal_id",)
    WITHDRAWAL_ID_FIELD_NUMBER: _ClassVar[int]
    withdrawal_id: str
    def __init__(self, withdrawal_id: _Optional[str] = ...) -> None: ...

class GetWithdrawalResponse(_message.Message):
    __slots__ = ("withdrawal",)
    WITHDRAWAL_FIELD_NUMBER: _ClassVar[int]
    withdrawal: Withdrawal
    def __init__(self, withdrawal: _Optional[_Union[Withdrawal, _Mapping]] = ...) -> None: ...

class ListWithdrawalsRequest(_message.Message):
    __slots__ = ("owner", "state", "page")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    state: WithdrawalState
    page: _common_pb2.PageRequest
    def __init__(self, owner: _Optional[str] = ..., state: _Optional[_Union[WithdrawalState, str]] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

class ListWithdrawalsResponse(_message.Message):
    __slots__ = ("withdrawals", "page")
    WITHDRAWALS_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    withdrawals: _containers.RepeatedCompositeFieldContainer[Withdrawal]
    page: _common_pb2.PageResponse
    def __init__(self, withdrawals: _Optional[_Iterable[_Union[Withdrawal, _Mapping]]] = ..., page: _Optional[_Union[_common_pb2.PageResponse, _Mapping]] = ...) -> None: ...

class SettlementTerms(_message.Message):
    __slots__ = ("owner", "settle_days", "is_default", "operator", "note", "update_time")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SETTLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    owner: str
    settle_days: int
    is_default: bool
    operator: str
    note: str
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, owner: _Optional[str] = ..., settle_days: _Optional[int] = ..., is_default: _Optional[bool] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetSettlementTermsRequest(_message.Message):
    __slots__ = ("owner", "settle_days", "operator", "note")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SETTLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    settle_days: int
    operator: str
    note: str
    def __init__(self, owner: _Optional[str] = ..., settle_days: _Optional[int] = ..., operator: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class SetSettlementTermsResponse(_message.Message):
    __slots__ = ("terms", "changed")
    TERMS_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    terms: SettlementTerms
    changed: bool
    def __init__(self, terms: _Optional[_Union[SettlementTerms, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...

class GetSettlementTermsRequest(_message.Message):
    __slots__ = ("owner",)
    OWNER_FIELD_NUMBER: _ClassVar[int]
    owner: str
    def __init__(self, owner: _Optional[str] = ...) -> None: ...

class GetSettlementTermsResponse(_message.Message):
    __slots__ = ("terms",)
    TERMS_FIELD_NUMBER: _ClassVar[int]
    terms: SettlementTerms
    def __init__(self, terms: _Optional[_Union[SettlementTerms, _Mapping]] = ...) -> None: ...

class SettleDueRequest(_message.Message):
    __slots__ = ("today", "reconciled_through", "held_owners", "owners")
    TODAY_FIELD_NUMBER: _ClassVar[int]
    RECONCILED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    HELD_OWNERS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    today: str
    reconciled_through: str
    held_owners: _containers.RepeatedScalarFieldContainer[str]
    owners: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, today: _Optional[str] = ..., reconciled_through: _Optional[str] = ..., held_owners: _Optional[_Iterable[str]] = ..., owners: _Optional[_Iterable[str]] = ...) -> None: ...

class SettlementPosting(_message.Message):
    __slots__ = ("owner", "currency", "value_date", "amount", "posting_id")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    owner: str
    currency: str
    value_date: str
    amount: int
    posting_id: str
    def __init__(self, owner: _Optional[str] = ..., currency: _Optional[str] = ..., value_date: _Optional[str] = ..., amount: _Optional[int] = ..., posting_id: _Optional[str] = ...) -> None: ...

class SettlementSkip(_message.Message):
    __slots__ = ("owner", "currency", "value_date", "reason", "amount", "message")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    currency: str
    value_date: str
    reason: SettlementSkipReason
    amount: int
    message: str
    def __init__(self, owner: _Optional[str] = ..., currency: _Optional[str] = ..., value_date: _Optional[str] = ..., reason: _Optional[_Union[SettlementSkipReason, str]] = ..., amount: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class SettledTotal(_message.Message):
    __slots__ = ("currency", "amount", "posting_count")
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    POSTING_COUNT_FIELD_NUMBER: _ClassVar[int]
    currency: str
    amount: int
    posting_count: int
    def __init__(self, currency: _Optional[str] = ..., amount: _Optional[int] = ..., posting_count: _Optional[int] = ...) -> None: ...

class SettleDueResponse(_message.Message):
    __slots__ = ("merchants_examined", "postings_made", "totals", "postings", "skipped", "today")
    MERCHANTS_EXAMINED_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_MADE_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    POSTINGS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    TODAY_FIELD_NUMBER: _ClassVar[int]
    merchants_examined: int
    postings_made: int
    totals: _containers.RepeatedCompositeFieldContainer[SettledTotal]
    postings: _containers.RepeatedCompositeFieldContainer[SettlementPosting]
    skipped: _containers.RepeatedCompositeFieldContainer[SettlementSkip]
    today: str
    def __init__(self, merchants_examined: _Optional[int] = ..., postings_made: _Optional[int] = ..., totals: _Optional[_Iterable[_Union[SettledTotal, _Mapping]]] = ..., postings: _Optional[_Iterable[_Union[SettlementPosting, _Mapping]]] = ..., skipped: _Optional[_Iterable[_Union[SettlementSkip, _Mapping]]] = ..., today: _Optional[str] = ...) -> None: ...

class GetDailyStatementRequest(_message.Message):
    __slots__ = ("owner", "currency", "date")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    owner: str
    currency: str
    date: str
    def __init__(self, owner: _Optional[str] = ..., currency: _Optional[str] = ..., date: _Optional[str] = ...) -> None: ...

class CodeTotal(_message.Message):
    __slots__ = ("code", "credits", "debits", "entry_count")
    CODE_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    code: str
    credits: int
    debits: int
    entry_count: int
    def __init__(self, code: _Optional[str] = ..., credits: _Optional[int] = ..., debits: _Optional[int] = ..., entry_count: _Optional[int] = ...) -> None: ...

class AccountStatement(_message.Message):
    __slots__ = ("account_id", "currency", "kind", "opening_balance", "credits", "debits", "closing_balance", "entry_count", "codes")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    CLOSING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    ENTRY_COUNT_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    currency: str
    kind: AccountKind
    opening_balance: int
    credits: int
    debits: int
    closing_balance: int
    entry_count: int
    codes: _containers.RepeatedCompositeFieldContainer[CodeTotal]
    def __init__(self, account_id: _Optional[int] = ..., currency: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ..., opening_balance: _Optional[int] = ..., credits: _Optional[int] = ..., debits: _Optional[int] = ..., closing_balance: _Optional[int] = ..., entry_count: _Optional[int] = ..., codes: _Optional[_Iterable[_Union[CodeTotal, _Mapping]]] = ...) -> None: ...

class GetDailyStatementResponse(_message.Message):
    __slots__ = ("owner", "date", "window_start", "window_end", "accounts")
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    owner: str
    date: str
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    accounts: _containers.RepeatedCompositeFieldContainer[AccountStatement]
    def __init__(self, owner: _Optional[str] = ..., date: _Optional[str] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accounts: _Optional[_Iterable[_Union[AccountStatement, _Mapping]]] = ...) -> None: ...

class PostingAccount(_message.Message):
    __slots__ = ("account_id", "owner", "currency", "kind")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    owner: str
    currency: str
    kind: AccountKind
    def __init__(self, account_id: _Optional[int] = ..., owner: _Optional[str] = ..., currency: _Optional[str] = ..., kind: _Optional[_Union[AccountKind, str]] = ...) -> None: ...

class PostingTransfer(_message.Message):
    __slots__ = ("transfer", "debit_account", "credit_account")
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    transfer: Transfer
    debit_account: PostingAccount
    credit_account: PostingAccount
    def __init__(self, transfer: _Optional[_Union[Transfer, _Mapping]] = ..., debit_account: _Optional[_Union[PostingAccount, _Mapping]] = ..., credit_account: _Optional[_Union[PostingAccount, _Mapping]] = ...) -> None: ...

class LedgerPosting(_message.Message):
    __slots__ = ("posting_id", "status", "reason", "transfers", "create_time")
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    posting_id: str
    status: PostingStatus
    reason: str
    transfers: _containers.RepeatedCompositeFieldContainer[PostingTransfer]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, posting_id: _Optional[str] = ..., status: _Optional[_Union[PostingStatus, str]] = ..., reason: _Optional[str] = ..., transfers: _Optional[_Iterable[_Union[PostingTransfer, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetPostingsRequest(_message.Message):
    __slots__ = ("posting_ids",)
    POSTING_IDS_FIELD_NUMBER: _ClassVar[int]
    posting_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, posting_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPostingsResponse(_message.Message):
    __slots__ = ("postings",)
    POSTINGS_FIELD_NUMBER: _ClassVar[int]
    postings: _containers.RepeatedCompositeFieldContainer[LedgerPosting]
    def __init__(self, postings: _Optional[_Iterable[_Union[LedgerPosting, _Mapping]]] = ...) -> None: ...

class ListPostingIdsRequest(_message.Message):
    __slots__ = ("prefix", "page_size", "page_token", "include_refused")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_REFUSED_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    page_size: int
    page_token: str
    include_refused: bool
    def __init__(self, prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_refused: _Optional[bool] = ...) -> None: ...

class ListPostingIdsResponse(_message.Message):
    __slots__ = ("posting_ids", "next_page_token", "has_more")
    POSTING_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    posting_ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    has_more: bool
    def __init__(self, posting_ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...
