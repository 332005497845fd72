"""The merchant service through real stubs against an in-process grpc.aio server on port 0."""

from __future__ import annotations

import asyncio
import json
import os
import string
import sys
import time
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from sqlalchemy import text

from paymesh.common.v1 import common_pb2
from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.common import db, ids
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of
from paymesh.services.common.grpcserver import RunningServer
from paymesh.services.merchant.server import create

ACTIVE = common_pb2.ENTITY_STATE_ACTIVE
DISABLED = common_pb2.ENTITY_STATE_DISABLED
Stub = merchant_pb2_grpc.MerchantServiceStub


BACKEND = os.environ.get("PAYMESH_TEST_BACKEND", "sqlite")


def field_violations(error: grpc.aio.AioRpcError) -> list[str]:
    """The BadRequest field names carried by a failed call."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    return [v.field for v in bad.field_violations]
    return []


async def raw_scalar(config: MeshConfig, sql: str, **params: str) -> str:
    """One value read straight from the merchant database, bypassing the service."""
    engine = db.open_engine(config.db_urls["merchant"])
    try:
        async with engine.connect() as conn:
            return str((await conn.execute(text(sql), params)).scalar_one())
    finally:
        await engine.dispose()


async def new_merchant(stub: Stub, name: str = "Shop") -> pb.CreateMerchantResponse:
    return await stub.CreateMerchant(pb.CreateMerchantRequest(name=name, contact="a@b.cn"))


async def test_create_merchant_gives_default_app_and_a_secret_sealed_at_rest(
        stub: Stub, config: MeshConfig) -> None:
    created = await new_merchant(stub)

    assert created.merchant.mch_no.startswith("M") and created.merchant.name == "Shop"
    assert created.merchant.state == ACTIVE and created.merchant.create_time.seconds > 0
    assert created.app.mch_no == created.merchant.mch_no and created.app.name == "default"
    assert len(created.app.app_id) == 24 and created.app.state == ACTIVE
    secret = created.app_secret
    assert len(secret) == 128 and set(secret) <= set(string.ascii_letters + string.digits)
    sealed = await raw_scalar(config, "SELECT secret_sealed FROM app WHERE app_id = :a",
                              a=created.app.app_id)
    assert secret not in sealed and secret[:16] not in sealed
    assert sealed.startswith("v1:")

    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=created.app.app_id))
    assert context.app_secret == secret
    assert context.merchant.mch_no == created.merchant.mch_no
    assert context.app.app_id == created.app.app_id and list(context.passages) == []

    apps = await stub.ListApps(pb.ListAppsRequest(mch_no=created.merchant.mch_no))
    assert [a.app_id for a in apps.apps] == [created.app.app_id]


async def test_create_app_and_rotate_secret_replace_the_secret(stub: Stub) -> None:
    created = await new_merchant(stub)
    app = await stub.CreateApp(pb.CreateAppRequest(
        mch_no=created.merchant.mch_no, name="pos", allow_private_notify_url=True))
    assert app.app.allow_private_notify_url and len(app.app_secret) == 128
    assert app.app_secret != created.app_secret

    rotated = await stub.RotateAppSecret(pb.RotateAppSecretRequest(app_id=app.app.app_id))
    assert len(rotated.app_secret) == 128 and rotated.app_secret != app.app_secret
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app.app.app_id))
    assert context.app_secret == rotated.app_secret

    apps = await stub.ListApps(pb.ListAppsRequest(mch_no=created.merchant.mch_no))
    assert [a.app_id for a in apps.apps] == [created.app.app_id, app.app.app_id]


async def test_sandbox_passage_creates_its_config_with_a_generated_key(stub: Stub) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    put = await stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="WX_NATIVE", if_code="sandbox", fee_rate="0.0060"))
    assert put.passage.fee_rate == "0.006" and put.passage.state == ACTIVE

    configs = await stub.ListChannelConfigs(pb.ListChannelConfigsRequest(app_id=app_id))
    assert [(c.if_code, list(c.param_names), c.state) for c in configs.channel_configs] == [
        ("sandbox", ["key"], ACTIVE)]

    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    [resolved] = context.passages
    assert resolved.passage.way_code == "WX_NATIVE" and resolved.passage.if_code == "sandbox"
    assert resolved.channel_config_state == ACTIVE
    assert len(json.loads(resolved.channel_params_json)["key"]) >= 32


async def test_channel_config_is_sealed_and_never_listed_with_values(
        stub: Stub, config: MeshConfig) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    refused = await _failure(stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="WX_NATIVE", if_code="wxpay")))
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(refused) == "CHANNEL_CONFIG_NOT_FOUND"

    params = {"mchId": "1900000109", "apiV3Key": "very-secret-api-v3-key-0123456789"}
    put = await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json=json.dumps(params), state=DISABLED))
    assert sorted(put.channel_config.param_names) == ["apiV3Key", "mchId"]
    assert put.channel_config.state == DISABLED
    listed = await stub.ListChannelConfigs(pb.ListChannelConfigsRequest(app_id=app_id))
    assert params["apiV3Key"].encode() not in listed.SerializeToString()
    sealed = await raw_scalar(config, "SELECT params_sealed FROM channel_config "
                              "WHERE app_id = :a AND if_code = 'wxpay'", a=app_id)
    assert params["apiV3Key"] not in sealed and params["mchId"] not in sealed

    await stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="WX_NATIVE", if_code="wxpay", fee_rate="0.0038"))
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    [resolved] = context.passages
    assert json.loads(resolved.channel_params_json) == params
    assert resolved.channel_config_state == DISABLED and resolved.passage.fee_rate == "0.0038"


@pytest.mark.parametrize("given, stored", [("", "0"), ("0", "0"), ("0.10", "0.1"),
                                           ("0.000001", "0.000001"), ("0.999999", "0.999999")])
async def test_fee_rate_is_stored_normalized(stub: Stub, given: str, stored: str) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    put = await stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="ALI_QR", if_code="sandbox", fee_rate=given))
    assert put.passage.fee_rate == stored
    listed = await stub.ListPayPassages(pb.ListPayPassagesRequest(app_id=app_id))
    assert [p.fee_rate for p in listed.passages] == [stored]


@pytest.mark.parametrize("rate", ["1", "1.0", "-0.1", "0.0000001", "abc", "NaN", "1e-3", "0.1%"])
async def test_bad_fee_rates_are_refused_on_the_field(stub: Stub, rate: str) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    error = await _failure(stub.PutPayPassage(pb.PutPayPassageRequest(
        app_id=app_id, way_code="ALI_QR", if_code="sandbox", fee_rate=rate)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(error) == ["fee_rate"]
    listed = await stub.ListPayPassages(pb.ListPayPassagesRequest(app_id=app_id))
    assert list(listed.passages) == []


async def test_bad_fields_name_the_proto_field(stub: Stub) -> None:
    created = await new_merchant(stub)
    app_id = created.app.app_id
    cases = [
        (stub.CreateMerchant(pb.CreateMerchantRequest(name=" ")), "name"),
        (stub.CreateMerchant(pb.CreateMerchantRequest(name="x", contact="c" * 129)), "contact"),
        (stub.PutChannelConfig(pb.PutChannelConfigRequest(app_id=app_id, if_code="paypal",
                                                          params_json="{}")), "if_code"),
        (stub.PutChannelConfig(pb.PutChannelConfigRequest(app_id=app_id, if_code="wxpay")),
         "params_json"),
        (stub.PutChannelConfig(pb.PutChannelConfigRequest(app_id=app_id, if_code="alipay",
                                                          params_json="[1]")), "params_json"),
        (stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_PAYPAL",
                                                    if_code="sandbox")), "way_code"),
        (stub.SetAppState(pb.SetAppStateRequest(app_id=app_id)), "state"),
        (stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no=created.merchant.mch_no,
                                                          state=7)), "state"),
    ]
    for call, field in cases:
        error = await _failure(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert reason_of(error) == "INVALID_ARGUMENT" and field_violations(error) == [field]


async def test_unknown_ids_are_not_found_with_their_reason(stub: Stub) -> None:
    cases = [
        (stub.GetMerchant(pb.GetMerchantRequest(mch_no="M000000000000")), "MERCHANT_NOT_FOUND"),
        (stub.ListApps(pb.ListAppsRequest(mch_no="M1")), "MERCHANT_NOT_FOUND"),
        (stub.CreateApp(pb.CreateAppRequest(mch_no="M1", name="x")), "MERCHANT_NOT_FOUND"),
        (stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no="M1", state=ACTIVE)),
         "MERCHANT_NOT_FOUND"),
        (stub.GetApp(pb.GetAppRequest(app_id="0" * 24)), "APP_NOT_FOUND"),
        (stub.RotateAppSecret(pb.RotateAppSecretRequest(app_id="nope")), "APP_NOT_FOUND"),
        (stub.ListPayPassages(pb.ListPayPassagesRequest(app_id="nope")), "APP_NOT_FOUND"),
        (stub.PutChannelConfig(pb.PutChannelConfigRequest(app_id="nope", if_code="sandbox")),
         "APP_NOT_FOUND"),
        (stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id="nope")), "APP_NOT_FOUND"),
    ]
    for call, reason in cases:
        error = await _failure(call)
        assert (error.code(), reason_of(error)) == (grpc.StatusCode.NOT_FOUND, reason)


async def test_state_changes_reach_the_pay_context(stub: Stub) -> None:
    created = await new_merchant(stub)
    mch_no, app_id = created.merchant.mch_no, created.app.app_id
    changed = await stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no=mch_no,
                                                                      state=DISABLED))
    assert changed.merchant.state == DISABLED
    app = await stub.SetAppState(pb.SetAppStateRequest(app_id=app_id, state=DISABLED))
    assert app.app.state == DISABLED
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    assert (context.merchant.state, context.app.state) == (DISABLED, DISABLED)
    await stub.SetAppState(pb.SetAppStateRequest(app_id=app_id, state=ACTIVE))
    assert (await stub.GetApp(pb.GetAppRequest(app_id=app_id))).app.state == ACTIVE
    merchant = await stub.GetMerchant(pb.GetMerchantRequest(mch_no=mch_no))
    assert merchant.merchant.state == DISABLED


def _edge(token: str | None) -> tuple[tuple[str, str], ...]:
    auth = (("authorization", f"Bearer {token}"),) if token is not None else ()
    return (("x-paymesh-edge", "1"), *auth)


async def test_admin_calls_through_the_edge_need_the_bearer_token(
        stub: Stub, config: MeshConfig) -> None:
    request = pb.CreateMerchantRequest(name="Edge shop")
    no_bearer = (("x-paymesh-edge", "1"), ("authorization", str(config.admin_token)))
    for metadata in (_edge(None), _edge("wrong"), _edge(""), no_bearer):
        error = await _failure(stub.CreateMerchant(request, metadata=metadata))
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason_of(error) == "ADMIN_TOKEN_INVALID"
    listed = await stub.ListMerchants(pb.ListMerchantsRequest())
    assert list(listed.merchants) == []

    created = await stub.CreateMerchant(request, metadata=_edge(config.admin_token))
    assert created.merchant.name == "Edge shop"
    got = await stub.GetMerchant(pb.GetMerchantRequest(mch_no=created.merchant.mch_no),
                                 metadata=_edge(config.admin_token))
    assert got.merchant.mch_no == created.merchant.mch_no


async def test_internal_rpcs_refuse_the_edge_even_with_the_token(
        stub: Stub, config: MeshConfig) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    edge = _edge(config.admin_token)
    error = await _failure(stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id),
                                                  metadata=edge))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.PERMISSION_DENIED,
                                                "INTERNAL_ONLY")
    watch = stub.WatchConfigChanges(pb.WatchConfigChangesRequest(), metadata=edge)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await asyncio.wait_for(watch.read(), 5)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(caught.value) == "INTERNAL_ONLY"


async def test_watch_config_changes_streams_committed_changes(stub: Stub) -> None:
    created = await new_merchant(stub)
    mch_no, app_id = created.merchant.mch_no, created.app.app_id
    watch = stub.WatchConfigChanges(pb.WatchConfigChangesRequest())
    try:
        await asyncio.wait_for(watch.initial_metadata(), 15)  # subscribed from here on
        await stub.SetAppState(pb.SetAppStateRequest(app_id=app_id, state=DISABLED))
        event = await asyncio.wait_for(watch.read(), 5)
        assert (event.app_id, event.mch_no) == (app_id, mch_no)
        await stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no=mch_no, state=DISABLED))
        event = await asyncio.wait_for(watch.read(), 5)
        assert (event.app_id, event.mch_no) == ("", mch_no)
        await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="ALI_QR",
                                                         if_code="sandbox"))
        event = await asyncio.wait_for(watch.read(), 5)
        assert (event.app_id, event.mch_no) == (app_id, mch_no)
    finally:
        watch.cancel()


async def test_stopping_ends_open_watch_streams_without_waiting_out_the_grace(
        config: MeshConfig) -> None:
    running = await create(config, "127.0.0.1:0")
    async with open_channel(f"127.0.0.1:{running.port}") as channel:
        watch = Stub(channel).WatchConfigChanges(pb.WatchConfigChangesRequest())
        await asyncio.wait_for(watch.initial_metadata(), 15)
        started = time.monotonic()
        await running.stop(grace=30.0)
        assert time.monotonic() - started < 5
        assert await asyncio.wait_for(watch.read(), 5) is grpc.aio.EOF
        assert await watch.code() == grpc.StatusCode.OK


@pytest.mark.skipif(BACKEND != "mariadb", reason="replicas share changes through Redis only")
async def test_watch_hears_changes_made_on_another_replica(
        stub: Stub, config: MeshConfig) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    other = await create(config, "127.0.0.1:0")
    try:
        async with open_channel(f"127.0.0.1:{other.port}") as channel:
            watch = Stub(channel).WatchConfigChanges(pb.WatchConfigChangesRequest())
            try:
                await asyncio.wait_for(watch.initial_metadata(), 15)
                await stub.RotateAppSecret(pb.RotateAppSecretRequest(app_id=app_id))
                event = await asyncio.wait_for(watch.read(), 5)
                assert event.app_id == app_id
            finally:
                watch.cancel()
    finally:
        await other.stop(grace=1.0)


async def test_create_merchant_retries_when_a_generated_number_is_taken(
        stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    first = await new_merchant(stub)
    numbers = iter([first.merchant.mch_no, "M999999999999"])
    monkeypatch.setattr(ids, "merchant_no", lambda: next(numbers))
    second = await new_merchant(stub, "Second shop")
    assert second.merchant.mch_no == "M999999999999"
    got = await stub.GetMerchant(pb.GetMerchantRequest(mch_no=first.merchant.mch_no))
    assert got.merchant.name == "Shop"
    apps = await stub.ListApps(pb.ListAppsRequest(mch_no="M999999999999"))
    assert [a.app_id for a in apps.apps] == [second.app.app_id]


async def test_list_merchants_pages_newest_first(stub: Stub) -> None:
    made = [(await new_merchant(stub, f"shop {i}")).merchant.mch_no for i in range(5)]
    seen, token, pages = [], "", []
    while True:
        page = await stub.ListMerchants(pb.ListMerchantsRequest(
            page=common_pb2.PageRequest(page_size=2, page_token=token)))
        seen += [m.mch_no for m in page.merchants]
        pages.append((len(page.merchants), page.page.has_more))
        token = page.page.next_page_token
        if not page.page.has_more:
            assert token == ""
            break
    assert seen == made[::-1]
    assert pages == [(2, True), (2, True), (1, False)]
    default = await stub.ListMerchants(pb.ListMerchantsRequest())
    assert [m.mch_no for m in default.merchants] == made[::-1] and not default.page.has_more

    for page_request, field in [(common_pb2.PageRequest(page_size=101), "page.page_size"),
                                (common_pb2.PageRequest(page_size=-1), "page.page_size"),
                                (common_pb2.PageRequest(page_token="not a cursor"),
                                 "page.page_token")]:
        error = await _failure(stub.ListMerchants(pb.ListMerchantsRequest(page=page_request)))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(error) == [field]


async def test_cli_creates_and_lists_through_the_service(
        server: RunningServer, config: MeshConfig, tmp_path: Path) -> None:
    env = {"PAYMESH_DATA_DIR": str(tmp_path / "operator"),
           "PAYMESH_MERCHANT_ADDR": f"127.0.0.1:{server.port}"}
    created = await _cli(env, "merchant", "create", "--name", "CLI shop")
    assert len(created["appSecret"]) == 128
    app_id = created["app"]["appId"]
    passage = await _cli(env, "passage", "put", app_id, "WX_NATIVE", "--if-code", "sandbox",
                         "--fee-rate", "0.006")
    assert passage["passage"]["feeRate"] == "0.006"
    configs = await _cli(env, "channel-config", "list", app_id)
    assert configs["channelConfigs"][0]["paramNames"] == ["key"]
    disabled = await _cli(env, "app", "state", app_id, "disabled")
    assert disabled["app"]["state"] == "ENTITY_STATE_DISABLED"


_CLI = """
import argparse, sys
from paymesh.services.cli import admin
parser = argparse.ArgumentParser()
admin.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
args.run(args)
"""


async def _cli(env: dict[str, str], *argv: str) -> dict[str, object]:
    """Runs the operator commands in a child process, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _CLI, *argv, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    result: dict[str, object] = json.loads(out)
    return result


async def _failure(call: object) -> grpc.aio.AioRpcError:
    """The error a call ends with (the test fails when it succeeds)."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value
