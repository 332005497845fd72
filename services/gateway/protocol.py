"""JeePay's wire protocol: request bodies in, signed envelopes out.

Parameters are kept as the literal text received (JSON numbers included), because the signature
covers exactly what the merchant sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from paymesh.services.common import signing

CODE_SUCCESS = 0
CODE_SYSTEM_ERROR = 10
CODE_PARAM_ERROR = 11
CODE_BUSINESS_ERROR = 9999


class ApiError(Exception):
    """A refusal rendered as the envelope {code, msg} with no data and no sign."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


def param_error(msg: str) -> ApiError:
    return ApiError(CODE_PARAM_ERROR, msg)


def business_error(msg: str) -> ApiError:
    return ApiError(CODE_BUSINESS_ERROR, msg)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise param_error(f"parameter {key} is given twice")
        result[key] = value
    return result


def _literal(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    raise param_error(f"parameter {key} must be a string or a number; JSON objects such as "
                      "channelExtra are sent as JSON text inside a string")


def parse_params(content_type: str, data: bytes) -> dict[str, str | None]:
    """The request's parameters from a JSON or form body, values as literal text."""
    media = content_type.split(";", 1)[0].strip().lower()
    if not data.strip():
        raise param_error("request body is empty; send the parameters as a JSON object")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise param_error("request body is not valid UTF-8") from None
    if media == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True,
                              errors="strict")
        except UnicodeDecodeError:
            raise param_error("form body has a percent-escape that is not valid UTF-8") from None
        except ValueError:
            raise param_error("form body is malformed") from None
        return dict(_unique_pairs(pairs))
    if media in ("", "application/json", "text/json", "text/plain") or media.endswith("+json"):
        try:
            parsed = json.loads(text, parse_int=str, parse_float=str,
                                parse_constant=_reject_constant, object_pairs_hook=_unique_pairs)
        except ApiError:
            raise
        except ValueError as error:
            raise param_error(f"request body is not valid JSON: {error}") from None
        if not isinstance(parsed, dict):
            raise param_error("request body must be a JSON object of parameters")
        return {key: _literal(key, value) for key, value in parsed.items()}
    raise param_error(f"unsupported Content-Type {media!r}; send application/json or "
                      "application/x-www-form-urlencoded")


def _signable(data: Mapping[str, Any]) -> dict[str, str | None]:
    return {k: None if v is None else str(v) for k, v in data.items()}


def envelope(data: Mapping[str, Any] | None, secret: str | None, sign_type: str) -> bytes:
    """``{"code":0,"msg":"SUCCESS","data":...,"sign":...}``; data's null members are left out."""
    body: dict[str, Any] = {"code": CODE_SUCCESS, "msg": "SUCCESS"}
    if data is not None:
        clean = {k: v for k, v in data.items() if v is not None and v != ""}
        body["data"] = clean
        if secret is not None:
            body["sign"] = signing.sign(_signable(clean), secret, sign_type)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_envelope(error: ApiError) -> bytes:
    return json.dumps({"code": error.code, "msg": error.msg}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
