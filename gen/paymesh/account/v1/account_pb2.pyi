import datetime

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
    __slots__ = ("debit_account_id", "credit_account_id", "amount", "code", "memo")
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str
    memo: str
    def __init__(self, debit_account_id: _Optional[int] = ..., credit_account_id: _Optional[int] = ..., amount: _Optional[int] = ..., code: _Optional[str] = ..., memo: _Optional[str] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("transfer_id", "posting_id", "index", "debit_account_id", "credit_account_id", "amount", "code", "memo", "create_time")
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    POSTING_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    DEBIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    transfer_id: int
    posting_id: str
    index: int
    debit_account_id: int
    credit_account_id: int
    amount: int
    code: str
    memo: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, transfer_id: _Optional[int] = ..., posting_id: _Optional[str] = ..., index: _Optional[int] = ..., debit_account_id: _Optional[int] = ..., credit_account_id: _Optional[int] = ..., amount: _Optional[int] = ..., code: _Optional[str] = ..., memo: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("account_id", "page")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    account_id: int
    page: _common_pb2.PageRequest
    def __init__(self, account_id: _Optional[int] = ..., page: _Optional[_Union[_common_pb2.PageRequest, _Mapping]] = ...) -> None: ...

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
