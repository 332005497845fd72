"""The OpenAPI document is generated from the contracts, deterministically and correctly."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import schemathesis
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from paymesh.services.gateway.validation import MAX_AMOUNT, MERCHANT_API_PARAMS

ROOT = Path(__file__).resolve().parents[2]
F = descriptor_pb2.FieldDescriptorProto


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_openapi", ROOT / "scripts/gen_openapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    built: dict[str, Any] = gen.build()
    return built


def _descriptors() -> list[descriptor_pb2.FileDescriptorProto]:
    data = (ROOT / "gen/paymesh/descriptor.binpb").read_bytes()
    return list(descriptor_pb2.FileDescriptorSet.FromString(data).file)


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for methods in document["paths"].values() for op in methods.values()]


def test_the_same_contracts_give_the_same_bytes(document: dict[str, Any]) -> None:
    assert gen.render(gen.build()) == gen.render(document)


def test_it_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()


def test_every_rpc_with_an_http_rule_is_an_operation(document: dict[str, Any]) -> None:
    expected = set()
    for file in _descriptors():
        for service in file.service:
            for method in service.method:
                if method.options.HasExtension(annotations_pb2.http):
                    expected.add(f"{file.package}.{service.name}.{method.name}")
    documented = {op["x-paymesh-rpc"] for op in _operations(document)}
    assert expected and documented == expected


def test_messages_follow_the_proto3_json_mapping(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    checked = 0
    for file in _descriptors():
        for message in file.message_type:
            name = f"{file.package}.{message.name}"
            if name not in schemas:
                continue
            properties = schemas[name]["properties"]
            assert set(properties) == {f.json_name for f in message.field}, name
            for field in message.field:
                schema = properties[field.json_name]
                if field.label == F.LABEL_REPEATED:
                    if "items" not in schema:  # a map
                        continue
                    schema = schema["items"]
                checked += 1
                if field.type in (F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_SINT64):
                    assert schema["type"] == "string", (name, field.name)
                elif field.type in (F.TYPE_INT32, F.TYPE_UINT32):
                    assert schema["type"] == "integer", (name, field.name)
                elif field.type == F.TYPE_ENUM:
                    enum = schemas[schema["$ref"].rsplit("/", 1)[-1]]
                    assert enum["type"] == "string" and enum["enum"], (name, field.name)
                elif field.type_name == ".google.protobuf.Timestamp":
                    assert (schema["type"], schema["format"]) == ("string", "date-time")
    assert checked > 50


def test_merchant_parameters_come_from_the_gateway_tables(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for rpc, params in MERCHANT_API_PARAMS.items():
        schema = schemas[f"MerchantApi.{rpc}Params"]
        assert list(schema["properties"]) == [p.name for p in params]
        assert schema["required"] == [p.name for p in params if p.required]
        for param in params:
            prop = schema["properties"][param.name]
            if param.low is not None:
                assert (prop["minimum"], prop["maximum"]) == (param.low, param.high)
            elif param.max_len:
                assert prop["maxLength"] == param.max_len
    order = schemas["MerchantApi.UnifiedOrderParams"]["properties"]
    assert order["amount"]["maximum"] == MAX_AMOUNT and order["subject"]["maxLength"] == 64
    unified = document["paths"]["/api/pay/unifiedOrder"]["post"]
    assert set(unified["requestBody"]["content"]) == {
        "application/json", "application/x-www-form-urlencoded"}
    envelope = unified["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert envelope.endswith("/MerchantApiEnvelope")


def test_admin_operations_and_only_they_need_the_token(document: dict[str, Any]) -> None:
    for path, methods in document["paths"].items():
        for op in methods.values():
            assert ("security" in op) == path.startswith("/admin/"), path
            assert (op["tags"] == ["admin"]) == path.startswith("/admin/"), path
    assert document["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"


def test_path_and_query_parameters_name_request_fields(document: dict[str, Any]) -> None:
    merchant = document["paths"]["/admin/v1/merchants/{mch_no}"]["get"]["parameters"]
    assert merchant == [{"name": "mch_no", "in": "path", "required": True,
                         "schema": merchant[0]["schema"]}]
    listing = document["paths"]["/admin/v1/notifications"]["get"]["parameters"]
    assert {p["name"] for p in listing} >= {"orderId", "state", "page.pageSize",
                                            "page.pageToken"}
    created = document["paths"]["/admin/v1/merchants/{mch_no}/apps"]["post"]
    body = created["requestBody"]["content"]["application/json"]["schema"]
    assert "mchNo" not in body["properties"]  # bound to the path, not the body


def test_check_mode_fails_on_a_stale_document(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "openapi.json"
    stale.write_text(json.dumps({"openapi": "3.1.0"}))
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(sys, "argv", ["gen_openapi.py", "--check"])
    with pytest.raises(SystemExit) as exit_:
        gen.main()
    assert exit_.value.code == 1
    monkeypatch.setattr(sys, "argv", ["gen_openapi.py"])
    gen.main()
    monkeypatch.setattr(sys, "argv", ["gen_openapi.py", "--check"])
    gen.main()  # up to date now: no exit
    assert json.loads(stale.read_text())["paths"]
