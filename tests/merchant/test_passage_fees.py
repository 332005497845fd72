"""Pay passages carry the whole fee model: stored, validated field by field, returned everywhere."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.services.common import db
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of
from tests.merchant.test_merchant_grpc import Stub, field_violations, new_merchant, raw_scalar

FEES = {"fee_rate": "0.0060", "fee_fixed": 10, "fee_floor": 50, "fee_cap": 2000,
        "fee_rounding": pb.FEE_ROUNDING_CEILING, "refund_fee_rule": pb.REFUND_FEE_RULE_KEEP,
        "channel_cost_rate": "0.00380"}


def fee_fields(passage: pb.PayPassage) -> dict[str, Any]:
    return {name: getattr(passage, name) for name in FEES}


STORED = {**FEES, "fee_rate": "0.006", "channel_cost_rate": "0.0038"}


async def put(stub: Stub, app_id: str, **fields: Any) -> pb.PutPayPassageResponse:
    return await stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="WX_NATIVE", if_code="sandbox", **fields))


async def test_the_fee_model_is_stored_and_returned_by_every_rpc(stub: Stub,
                                                                config: MeshConfig) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    answer = await put(stub, app_id, **FEES)
    assert fee_fields(answer.passage) == STORED

    [listed] = (await stub.ListPayPassages(pb.ListPayPassagesRequest(app_id=app_id))).passages
    assert fee_fields(listed) == STORED
    [resolved] = (await stub.ResolvePayContext(
        pb.ResolvePayContextRequest(app_id=app_id))).passages
    assert fee_fields(resolved.passage) == STORED
    assert resolved.channel_config_key == f"{app_id}.sandbox"
    stored = await raw_scalar(config, "SELECT fee_rounding * 10 + refund_fee_rule "
                              "FROM pay_passage WHERE app_id = :a", a=app_id)
    assert stored == "22"  # CEILING and KEEP, as their enum numbers


async def test_unspecified_enums_store_and_return_the_defaults(stub: Stub,
                                                              config: MeshConfig) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    await put(stub, app_id, **FEES)
    answer = await put(stub, app_id, fee_rate="0.006")  # a PUT replaces the whole model
    assert fee_fields(answer.passage) == {
        "fee_rate": "0.006", "fee_fixed": 0, "fee_floor": 0, "fee_cap": 0,
        "fee_rounding": pb.FEE_ROUNDING_HALF_UP,
        "refund_fee_rule": pb.REFUND_FEE_RULE_RETURN_PRO_RATA, "channel_cost_rate": ""}
    stored = await raw_scalar(config, "SELECT fee_rounding * 10 + refund_fee_rule "
                              "FROM pay_passage WHERE app_id = :a", a=app_id)
    assert stored == "11"
    assert await raw_scalar(config, "SELECT COUNT(*) FROM pay_passage WHERE app_id = :a "
                            "AND channel_cost_rate IS NULL", a=app_id) == "1"


@pytest.mark.parametrize("fields", [
    {"fee_fixed": 100_000_000}, {"fee_floor": 7, "fee_cap": 7}, {"fee_cap": 1},
    {"fee_floor": 10**12}, {"channel_cost_rate": "0.999999"}, {"channel_cost_rate": "0"},
    {"fee_rounding": pb.FEE_ROUNDING_HALF_UP}])
async def test_the_edges_of_each_range_are_accepted(stub: Stub, fields: dict[str, Any]) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    answer = await put(stub, app_id, **fields)
    for name, value in fields.items():
        assert getattr(answer.passage, name) == value


@pytest.mark.parametrize(("fields", "field"), [
    ({"fee_fixed": -1}, "fee_fixed"),
    ({"fee_fixed": 100_000_001}, "fee_fixed"),
    ({"fee_floor": -1}, "fee_floor"),
    ({"fee_cap": -5}, "fee_cap"),
    ({"fee_floor": 100, "fee_cap": 99}, "fee_cap"),
    ({"fee_rounding": 3}, "fee_rounding"),
    ({"refund_fee_rule": 7}, "refund_fee_rule"),
    ({"channel_cost_rate": "1"}, "channel_cost_rate"),
    ({"channel_cost_rate": "-0.001"}, "channel_cost_rate"),
    ({"channel_cost_rate": "0.0000001"}, "channel_cost_rate"),
    ({"channel_cost_rate": "0.6%"}, "channel_cost_rate"),
])
async def test_bad_fee_fields_are_refused_naming_the_field_and_store_nothing(
        stub: Stub, fields: dict[str, Any], field: str) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await put(stub, app_id, fee_rate="0.006", **fields)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(refused.value) == "INVALID_ARGUMENT"
    assert field_violations(refused.value) == [field]
    assert field in (refused.value.details() or "")
    listed = await stub.ListPayPassages(pb.ListPayPassagesRequest(app_id=app_id))
    assert list(listed.passages) == []


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(db.SERVICES_DIR / "merchant" / "migrations"))
    config.attributes["sync_url"] = db._sync_url(url)
    return config


def test_passages_from_before_the_migration_get_the_default_model(config: MeshConfig) -> None:
    url = config.db_urls["merchant"]
    alembic = _alembic(url)
    command.downgrade(alembic, "0003")
    engine = create_engine(db._sync_url(url))
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO merchant (mch_no, name, contact, state, created_at, "
                              "type) VALUES ('M1', 'Old', '', 1, '2026-01-01 00:00:00', 1)"))
            conn.execute(text("INSERT INTO app (app_id, mch_no, name, state, secret_sealed, "
                              "allow_private_notify_url, created_at) VALUES ('a1', 'M1', 'x', "
                              "1, 's', 0, '2026-01-01 00:00:00')"))
            conn.execute(text("INSERT INTO pay_passage (app_id, way_code, if_code, fee_rate, "
                              "state, updated_at) VALUES ('a1', 'WX_NATIVE', 'sandbox', "
                              "'0.006', 1, '2026-01-01 00:00:00')"))
        command.upgrade(alembic, "head")
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT fee_rate, fee_fixed, fee_floor, fee_cap, fee_rounding, refund_fee_rule, "
                "channel_cost_rate FROM pay_passage WHERE app_id = 'a1'")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("0.006", 0, 0, 0, 1, 1, None)
