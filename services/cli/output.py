"""How the command line prints answers: JSON, one document per command."""

from __future__ import annotations

import json
import sys
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message


def print_json(value: Message | dict[str, Any] | list[Any]) -> None:
    if isinstance(value, Message):
        value = MessageToDict(value, preserving_proto_field_name=False)
    json.dump(value, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
