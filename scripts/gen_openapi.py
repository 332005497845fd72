"""Generates docs/openapi.json (OpenAPI 3.1) from the contracts; never edit that file by hand.

    python scripts/gen_openapi.py           # write docs/openapi.json
    python scripts/gen_openapi.py --check   # exit 1 when docs/openapi.json is out of date

Every RPC with a ``google.api.http`` rule in gen/paymesh/descriptor.binpb becomes an operation
(additional bindings too): path templates, path and query parameters, and JSON schemas derived
from the message descriptors with the proto3 JSON mapping Envoy's transcoder applies (camelCase
names, 64-bit integers as strings, enums as their names, Timestamps as RFC 3339 date-times).
Comments in the .proto files become descriptions.

The merchant API (MerchantApiService) takes raw bodies (``google.api.HttpBody``) so signatures
cover what was sent; its JeePay parameters come from the gateway's own tables
(``paymesh.services.gateway.validation.MERCHANT_API_PARAMS``), documented as JSON and as form
bodies, answered with the envelope. Admin operations (/admin/) declare the bearer token.

The output depends only on the descriptor set and those tables: the same inputs give the same
bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from paymesh.services.gateway import protocol
from paymesh.services.gateway.validation import MERCHANT_API_PARAMS, Param

ROOT = Path(__file__).resolve().parent.parent
DESCRIPTOR = ROOT / "gen" / "paymesh" / "descriptor.binpb"
OUTPUT = ROOT / "docs" / "openapi.json"
MERCHANT_API_SERVICE = "paymesh.gateway.v1.MerchantApiService"
HTTP_BODY = ".google.api.HttpBody"
METHODS = ("get", "put", "post", "delete", "patch")
F = descriptor_pb2.FieldDescriptorProto
_INT64 = {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
_UINT64 = {"type": "string", "format": "uint64", "pattern": "^[0-9]+$"}
_INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}
_UINT32 = {"type": "integer", "format": "uint32", "minimum": 0, "maximum": 2**32 - 1}
SCALARS: dict[int, dict[str, Any]] = {
    F.TYPE_DOUBLE: {"type": "number", "format": "double"},
    F.TYPE_FLOAT: {"type": "number", "format": "float"},
    F.TYPE_INT64: _INT64, F.TYPE_SINT64: _INT64, F.TYPE_SFIXED64: _INT64,
    F.TYPE_UINT64: _UINT64, F.TYPE_FIXED64: _UINT64,
    F.TYPE_INT32: _INT32, F.TYPE_SINT32: _INT32, F.TYPE_SFIXED32: _INT32,
    F.TYPE_UINT32: _UINT32, F.TYPE_FIXED32: _UINT32,
    F.TYPE_BOOL: {"type": "boolean"},
    F.TYPE_STRING: {"type": "string"},
    F.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}
# Well-known types with a JSON form of their own (proto3 JSON mapping).
WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$"},
    ".google.protobuf.FieldMask": {"type": "string"},
    ".google.protobuf.Struct": {"type": "object"},
    ".google.protobuf.Value": {},
    ".google.protobuf.ListValue": {"type": "array"},
    ".google.protobuf.Empty": {"type": "object"},
    ".google.protobuf.Any": {"type": "object", "required": ["@type"],
                             "properties": {"@type": {"type": "string"}}},
    ".google.protobuf.DoubleValue": SCALARS[F.TYPE_DOUBLE],
    ".google.protobuf.FloatValue": SCALARS[F.TYPE_FLOAT],
    ".google.protobuf.Int64Value": _INT64, ".google.protobuf.UInt64Value": _UINT64,
    ".google.protobuf.Int32Value": _INT32, ".google.protobuf.UInt32Value": _UINT32,
    ".google.protobuf.BoolValue": SCALARS[F.TYPE_BOOL],
    ".google.protobuf.StringValue": SCALARS[F.TYPE_STRING],
    ".google.protobuf.BytesValue": SCALARS[F.TYPE_BYTES],
}
STATUS = "google.rpc.Status"
ENVELOPE = "MerchantApiEnvelope"
# How deep a GET request's nested messages are spread into query parameters (page.pageSize).
QUERY_DEPTH = 3


@dataclass(frozen=True)
class Binding:
    """One HTTP rule of one RPC."""

    service: str
    method: descriptor_pb2.MethodDescriptorProto
    rule: http_pb2.HttpRule
    index: int
    comment: str


class Descriptors:
    """The descriptor set's messages, enums and comments, by fully qualified name."""

    def __init__(self, files: list[descriptor_pb2.FileDescriptorProto]) -> None:
        self.files = files
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.comments: dict[str, str] = {}
        for file in files:
            locations = {tuple(loc.path): loc.leading_comments
                         for loc in file.source_code_info.location if loc.leading_comments}
            prefix = f".{file.package}" if file.package else ""
            for i, message in enumerate(file.message_type):
                self._message(prefix, message, (4, i), locations)
            for i, enum in enumerate(file.enum_type):
                self._enum(prefix, enum, (5, i), locations)
            for s, service in enumerate(file.service):
                name = f"{prefix}.{service.name}"
                self.comments[name] = _clean(locations.get((6, s), ""))
                for m, method in enumerate(service.method):
                    self.comments[f"{name}.{method.name}"] = _clean(
                        locations.get((6, s, 2, m), ""))

    def _message(self, prefix: str, message: descriptor_pb2.DescriptorProto,
                 path: tuple[int, ...], locations: dict[tuple[int, ...], str]) -> None:
        name = f"{prefix}.{message.name}"
        self.messages[name] = message
        self.comments[name] = _clean(locations.get(path, ""))
        for i, field in enumerate(message.field):
            self.comments[f"{name}.{field.name}"] = _clean(locations.get((*path, 2, i), ""))
        for i, nested in enumerate(message.nested_type):
            self._message(name, nested, (*path, 3, i), locations)
        for i, enum in enumerate(message.enum_type):
            self._enum(name, enum, (*path, 4, i), locations)

    def _enum(self, prefix: str, enum: descriptor_pb2.EnumDescriptorProto,
              path: tuple[int, ...], locations: dict[tuple[int, ...], str]) -> None:
        name = f"{prefix}.{enum.name}"
        self.enums[name] = enum
        self.comments[name] = _clean(locations.get(path, ""))

    def bindings(self) -> Iterator[Binding]:
        for file in self.files:
            for service in file.service:
                full = f"{file.package}.{service.name}"
                for method in service.method:
                    if not method.options.HasExtension(annotations_pb2.http):
                        continue
                    rule = method.options.Extensions[annotations_pb2.http]
                    comment = self.comments.get(f".{full}.{method.name}", "")
                    yield Binding(full, method, rule, 0, comment)
                    for i, extra in enumerate(rule.additional_bindings, start=1):
                        merged = http_pb2.HttpRule()
                        merged.CopyFrom(extra)
                        yield Binding(full, method, merged, i, comment)


def _clean(comment: str) -> str:
    lines = [line[1:] if line.startswith(" ") else line for line in comment.strip("\n").split("\n")]
    return "\n".join(lines).strip()


def _component(name: str) -> str:
    return name.lstrip(".")


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{_component(name)}"}


def _with_doc(schema: dict[str, Any], doc: str) -> dict[str, Any]:
    """The schema with a description (OpenAPI 3.1 allows one beside a $ref)."""
    return {**schema, "description": doc} if doc else schema


class SchemaBuilder:
    """JSON schemas of messages and enums, collected as components while they are used."""

    def __init__(self, descriptors: Descriptors) -> None:
        self.d = descriptors
        self.components: dict[str, dict[str, Any]] = {}

    def type_schema(self, field: descriptor_pb2.FieldDescriptorProto) -> dict[str, Any]:
        if field.type == F.TYPE_MESSAGE:
            return self.message(field.type_name)
        if field.type == F.TYPE_ENUM:
            return self.enum(field.type_name)
        return dict(SCALARS[field.type])

    def field_schema(self, owner: str, field: descriptor_pb2.FieldDescriptorProto
                     ) -> dict[str, Any]:
        doc = self.d.comments.get(f"{owner}.{field.name}", "")
        entry = self._map_entry(field)
        if entry is not None:
            key, value = entry
            schema: dict[str, Any] = {"type": "object",
                                      "additionalProperties": self.type_schema(value)}
            if key.type in (F.TYPE_STRING,):
                schema["propertyNames"] = {"type": "string"}
            return _with_doc(schema, doc)
        if field.label == F.LABEL_REPEATED:
            return _with_doc({"type": "array", "items": self.type_schema(field)}, doc)
        return _with_doc(self.type_schema(field), doc)

    def _map_entry(self, field: descriptor_pb2.FieldDescriptorProto
                   ) -> tuple[descriptor_pb2.FieldDescriptorProto,
                              descriptor_pb2.FieldDescriptorProto] | None:
        if field.type != F.TYPE_MESSAGE or field.label != F.LABEL_REPEATED:
            return None
        entry = self.d.messages.get(field.type_name)
        if entry is None or not entry.options.map_entry:
            return None
        return entry.field[0], entry.field[1]

    def message(self, type_name: str, exclude: frozenset[str] = frozenset()
                ) -> dict[str, Any]:
        if type_name in WELL_KNOWN:
            return dict(WELL_KNOWN[type_name])
        if exclude:
            return self._object(type_name, exclude)
        name = _component(type_name)
        if name not in self.components:
            self.components[name] = {}  # placeholder: recursive messages end here
            self.components[name] = self._object(type_name, exclude)
        return _ref(type_name)

    def _object(self, type_name: str, exclude: frozenset[str]) -> dict[str, Any]:
        message = self.d.messages[type_name]
        properties = {f.json_name: self.field_schema(type_name, f)
                      for f in message.field if f.name not in exclude}
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        doc = self.d.comments.get(type_name, "")
        return _with_doc(schema, doc)

    def enum(self, type_name: str) -> dict[str, Any]:
        name = _component(type_name)
        if name not in self.components:
            enum = self.d.enums[type_name]
            self.components[name] = _with_doc(
                {"type": "string", "enum": [v.name for v in enum.value]},
                self.d.comments.get(type_name, ""))
        return _ref(type_name)


def _template(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind not in METHODS:
        raise SystemExit(f"unsupported HTTP rule {kind!r}")
    return kind, getattr(rule, kind)


_VARIABLE = re.compile(r"\{([^}=]+)(=[^}]*)?\}")


def _path_variables(template: str) -> tuple[str, list[str]]:
    """The OpenAPI path (``{a.b=**}`` becomes ``{a.b}``) and the bound field paths."""
    names = [m.group(1) for m in _VARIABLE.finditer(template)]
    return _VARIABLE.sub(lambda m: "{" + m.group(1) + "}", template), names


def _field(message: descriptor_pb2.DescriptorProto, name: str
           ) -> descriptor_pb2.FieldDescriptorProto:
    for field in message.field:
        if field.name == name:
            return field
    raise SystemExit(f"{message.name} has no field {name}")


class OperationBuilder:
    """One OpenAPI operation per HTTP binding."""

    def __init__(self, descriptors: Descriptors, schemas: SchemaBuilder) -> None:
        self.d = descriptors
        self.s = schemas

    def _resolve(self, type_name: str, path: str
                 ) -> tuple[str, descriptor_pb2.FieldDescriptorProto]:
        """The message owning the last segment of a dotted field path, and that field."""
        owner = type_name
        parts = path.split(".")
        for part in parts[:-1]:
            owner = _field(self.d.messages[owner], part).type_name
        return owner, _field(self.d.messages[owner], parts[-1])

    def build(self, b: Binding) -> tuple[str, str, dict[str, Any]]:
        verb, template = _template(b.rule)
        path, variables = _path_variables(template)
        request = b.method.input_type
        message = self.d.messages[request]
        kind = self._kind(b, path, message)
        rpc = f"{b.service}.{b.method.name}"
        summary, _, rest = b.comment.partition("\n")
        operation: dict[str, Any] = {
            "operationId": rpc + (f"_{b.index + 1}" if b.index else ""),
            "tags": [kind],
            "summary": summary or b.method.name,
            "x-paymesh-rpc": rpc,
        }
        if rest.strip():
            operation["description"] = b.comment
        parameters = [self._path_parameter(request, name) for name in variables]
        bound = {name.split(".")[0] for name in variables}
        body = b.rule.body
        if not body:
            parameters += self._query_parameters(request, bound, "", QUERY_DEPTH)
        if parameters:
            operation["parameters"] = parameters
        if kind == "merchant" and body:
            operation["requestBody"] = self._merchant_body(b)
        elif body == "*":
            operation["requestBody"] = self._json_body(self.s.message(request, frozenset(bound)))
        elif body:
            field = _field(message, body)
            if field.type_name == HTTP_BODY:
                operation["requestBody"] = _raw_body()
            else:
                operation["requestBody"] = self._json_body(self.s.field_schema(request, field))
        operation["responses"] = self._responses(b, kind)
        if kind == "admin":
            operation["security"] = [{"adminToken": []}]
        return path, verb, operation

    @staticmethod
    def _kind(b: Binding, path: str, message: descriptor_pb2.DescriptorProto) -> str:
        if path.startswith("/admin/"):
            return "admin"
        if b.service == MERCHANT_API_SERVICE:
            return "merchant"
        body = b.rule.body
        raw_in = body not in ("", "*") and _field(message, body).type_name == HTTP_BODY
        if raw_in and path.startswith("/api/"):
            return "callbacks"
        return "pages"

    def _path_parameter(self, request: str, name: str) -> dict[str, Any]:
        owner, field = self._resolve(request, name)
        schema = self.s.field_schema(owner, field)
        if schema.get("type") == "string":
            schema = {**schema, "minLength": 1}
        return {"name": name, "in": "path", "required": True, "schema": schema}

    def _query_parameters(self, type_name: str, bound: set[str], prefix: str,
                          depth: int) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = []
        for field in self.d.messages[type_name].field:
            if field.name in bound:
                continue
            name = prefix + field.json_name
            repeated = field.label == F.LABEL_REPEATED
            nested = field.type == F.TYPE_MESSAGE and field.type_name not in WELL_KNOWN
            if nested:
                if not repeated and depth > 1:
                    parameters += self._query_parameters(field.type_name, set(), name + ".",
                                                         depth - 1)
                continue
            parameter: dict[str, Any] = {"name": name, "in": "query", "required": False,
                                         "schema": self.s.field_schema(type_name, field)}
            if repeated:
                parameter.update(style="form", explode=True)
            parameters.append(parameter)
        return parameters

    @staticmethod
    def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def _merchant_body(self, b: Binding) -> dict[str, Any]:
        params = MERCHANT_API_PARAMS.get(b.method.name)
        if params is None:
            raise SystemExit(f"{b.service}.{b.method.name} takes a raw body but has no parameter "
                             "table: add it to MERCHANT_API_PARAMS in "
                             "services/gateway/validation.py")
        name = f"MerchantApi.{b.method.name}Params"
        self.s.components[name] = merchant_params_schema(params, b.comment)
        ref = {"$ref": f"#/components/schemas/{name}"}
        return {"required": True, "content": {
            "application/json": {"schema": ref},
            "application/x-www-form-urlencoded": {"schema": ref},
        }}

    def _responses(self, b: Binding, kind: str) -> dict[str, Any]:
        status = {"description": "Refused: google.rpc.Status as JSON.",
                  "content": {"application/json": {"schema": _ref(STATUS)}}}
        if kind == "merchant" and b.rule.response_body:
            return {"200": {
                "description": "The envelope, for successes and refusals alike (HTTP 200).",
                "content": {"application/json": {"schema": _ref(ENVELOPE)}}}}
        output = b.method.output_type
        responses: dict[str, Any] = {}
        if b.rule.response_body:
            field = _field(self.d.messages[output], b.rule.response_body)
            if field.type_name == HTTP_BODY:
                media = "text/plain" if kind == "callbacks" else "text/html"
                responses["200"] = {"description": "The raw answer the caller's protocol expects.",
                                    "content": {media: {"schema": {"type": "string"}}}}
            else:
                responses["200"] = {"description": "OK", "content": {"application/json": {
                    "schema": self.s.field_schema(output, field)}}}
        else:
            responses["200"] = {"description": "OK", "content": {"application/json": {
                "schema": self.s.message(output)}}}
        if kind == "admin":
            responses["401"] = {"description": "Missing or wrong admin bearer token.",
                                "content": {"application/json": {"schema": _ref(STATUS)}}}
        responses["default"] = status
        return responses


def _raw_body() -> dict[str, Any]:
    return {"required": False, "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "additionalProperties": {"type": "string"}}},
    }}


def param_schema(param: Param) -> dict[str, Any]:
    """A JeePay parameter's JSON schema (form bodies send the same values as text)."""
    schema: dict[str, Any]
    if param.low is not None:
        schema = {"type": "integer", "minimum": param.low, "maximum": param.high}
    else:
        schema = {"type": "string"}
        if param.choices:
            schema["enum"] = list(param.choices)
        if param.pattern:
            schema["pattern"] = f"^(?:{param.pattern})$"
        if param.max_len:
            schema["maxLength"] = param.max_len
    schema["description"] = param.doc + (f" Unit: {param.unit}." if param.unit else "")
    return schema


def merchant_params_schema(params: tuple[Param, ...], doc: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": (doc + "\n\n" if doc else "") + "JeePay parameters, signed as sent.",
        "properties": {p.name: param_schema(p) for p in params},
        "required": [p.name for p in params if p.required],
    }


def fixed_components() -> dict[str, dict[str, Any]]:
    codes = sorted({protocol.CODE_SUCCESS, protocol.CODE_PARAM_ERROR,
                    protocol.CODE_BUSINESS_ERROR, protocol.CODE_SYSTEM_ERROR})
    return {
        ENVELOPE: {
            "type": "object",
            "description": "JeePay's answer. A refusal carries code and msg only, no data, no "
                           "sign.",
            "required": ["code", "msg"],
            "properties": {
                "code": {"type": "integer", "enum": codes,
                         "description": f"{protocol.CODE_SUCCESS} success, "
                                        f"{protocol.CODE_PARAM_ERROR} bad parameter, "
                                        f"{protocol.CODE_BUSINESS_ERROR} business refusal, "
                                        f"{protocol.CODE_SYSTEM_ERROR} system error."},
                "msg": {"type": "string", "minLength": 1,
                        "description": "SUCCESS, or why the request was refused."},
                "data": {"type": "object",
                         "description": "The answer's fields (JeePay names); only on success."},
                "sign": {"type": "string",
                         "description": "Signature of data with the app secret, as requests "
                                        "are signed."},
            },
        },
        STATUS: {
            "type": "object",
            "description": "An error of the admin API, callbacks and pages (gRPC status).",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "integer",
                         "description": "gRPC status code; the HTTP status when the edge refused "
                                        "the request itself (malformed JSON, too large)."},
                "message": {"type": "string", "minLength": 1},
                "details": {"type": "array", "items": {"type": "object"},
                            "description": "google.rpc.ErrorInfo and BadRequest, with @type."},
            },
        },
    }


def _version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return str(project["version"])


def build(descriptor: Path = DESCRIPTOR) -> dict[str, Any]:
    """The OpenAPI document of every REST route in the descriptor set."""
    files = list(descriptor_pb2.FileDescriptorSet.FromString(descriptor.read_bytes()).file)
    descriptors = Descriptors(files)
    schemas = SchemaBuilder(descriptors)
    operations = OperationBuilder(descriptors, schemas)
    paths: dict[str, dict[str, Any]] = {}
    for binding in descriptors.bindings():
        path, verb, operation = operations.build(binding)
        if verb in paths.setdefault(path, {}):
            raise SystemExit(f"two RPCs bind {verb.upper()} {path}")
        paths[path][verb] = operation
    components = {**schemas.components, **fixed_components()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "paymesh REST API",
            "version": _version(),
            "description": "The merchant API (JeePay-compatible), the admin API and the routes "
                           "for channel callbacks and payer pages, as Envoy serves them. "
                           "Generated from the contracts by scripts/gen_openapi.py; do not "
                           "edit.",
        },
        "servers": [{"url": "http://127.0.0.1:9216", "description": "./dev up"}],
        "tags": [
            {"name": "merchant", "description": "JeePay merchant API: signed requests, the "
                                                "envelope in every answer."},
            {"name": "admin", "description": "Operators' API: Authorization: Bearer <admin "
                                             "token>."},
            {"name": "callbacks", "description": "Channel notifications, answered as each "
                                                 "channel expects."},
            {"name": "pages", "description": "Pages for payers (cashier, sandbox)."},
        ],
        "paths": {p: {v: paths[p][v] for v in METHODS if v in paths[p]} for p in sorted(paths)},
        "components": {
            "schemas": {name: components[name] for name in sorted(components)},
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer",
                                               "description": "The admin token "
                                                              "(.paymesh/admin.token or "
                                                              "PAYMESH_ADMIN_TOKEN)."}},
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    check = parser.parse_args().check
    text = render(build())
    relative = OUTPUT.relative_to(ROOT) if OUTPUT.is_relative_to(ROOT) else OUTPUT
    if check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{relative} is out of date; run: python scripts/gen_openapi.py")
            sys.exit(1)
        print(f"{relative} is up to date")
        return
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(text)
    print(f"generated {relative}")


if __name__ == "__main__":
    main()
