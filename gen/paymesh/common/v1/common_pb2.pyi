from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EntityState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_STATE_UNSPECIFIED: _ClassVar[EntityState]
    ENTITY_STATE_ACTIVE: _ClassVar[EntityState]
    ENTITY_STATE_DISABLED: _ClassVar[EntityState]
ENTITY_STATE_UNSPECIFIED: EntityState
ENTITY_STATE_ACTIVE: EntityState
ENTITY_STATE_DISABLED: EntityState

class PageRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PageResponse(_message.Message):
    __slots__ = ("next_page_token", "has_more")
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    has_more: bool
    def __init__(self, next_page_token: _Optional[str] = ..., has_more: _Optional[bool] = ...) -> None: ...
