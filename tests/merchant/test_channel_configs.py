"""Channel config keys, and ResolveChannelConfigs: every config (an app's or an ISV's) in clear."""

from __future__ import annotations

import json

import grpc
import pytest

from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.services.common.errors import reason_of
from tests.merchant.test_isv import ISV_PARAMS, sub_merchant
from tests.merchant.test_merchant_grpc import ACTIVE, DISABLED, Stub, new_merchant

WX_PARAMS = {"mchId": "1900000109", "apiV3Key": "an-api-v3-key-that-is-secret-012"}


async def resolve(stub: Stub, key: str = "") -> list[pb.ResolvedChannelConfig]:
    answer = await stub.ResolveChannelConfigs(pb.ResolveChannelConfigsRequest(
        channel_config_key=key))
    return list(answer.channel_configs)


async def test_app_and_isv_configs_are_keyed_by_owner_and_ifcode(stub: Stub) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    put = await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json=json.dumps(WX_PARAMS)))
    assert put.channel_config.channel_config_key == f"{app_id}.wxpay"
    listed = await stub.ListChannelConfigs(pb.ListChannelConfigsRequest(app_id=app_id))
    assert [c.channel_config_key for c in listed.channel_configs] == [f"{app_id}.wxpay"]

    isv_no = (await stub.CreateIsv(pb.CreateIsvRequest(name="ISV"))).isv.isv_no
    put_isv = await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="alipay", params_json='{"appId": "2021"}'))
    assert put_isv.channel_config.channel_config_key == f"{isv_no}.alipay"
    listed_isv = await stub.ListIsvChannelConfigs(pb.ListIsvChannelConfigsRequest(isv_no=isv_no))
    assert [c.channel_config_key for c in listed_isv.channel_configs] == [f"{isv_no}.alipay"]


async def test_a_sub_merchants_passage_is_served_by_its_isvs_config(stub: Stub) -> None:
    isv_no, _, app_id = await sub_merchant(stub)
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS)))
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json='{"subMchId": "1900000901"}'))
    for if_code in ("wxpay", "sandbox"):
        await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_NATIVE",
                                                         if_code=if_code))
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    keys = {p.passage.if_code: p.channel_config_key for p in context.passages}
    assert keys == {"wxpay": f"{isv_no}.wxpay", "sandbox": f"{app_id}.sandbox"}


async def test_every_config_is_resolved_in_clear_by_key_order(stub: Stub) -> None:
    created = await new_merchant(stub)
    app_id, mch_no = created.app.app_id, created.merchant.mch_no
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json=json.dumps(WX_PARAMS)))
    await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_H5",
                                                     if_code="sandbox"))
    isv_no = (await stub.CreateIsv(pb.CreateIsvRequest(name="ISV"))).isv.isv_no
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS)))

    configs = await resolve(stub)
    keys = [c.channel_config_key for c in configs]
    assert keys == sorted([f"{app_id}.sandbox", f"{app_id}.wxpay", f"{isv_no}.wxpay"])
    by_key = {c.channel_config_key: c for c in configs}
    app_wx = by_key[f"{app_id}.wxpay"]
    assert (app_wx.if_code, app_wx.state, app_wx.app_id, app_wx.mch_no, app_wx.isv_no) == (
        "wxpay", ACTIVE, app_id, mch_no, "")
    assert json.loads(app_wx.channel_params_json) == WX_PARAMS
    assert len(json.loads(by_key[f"{app_id}.sandbox"].channel_params_json)["key"]) >= 32
    isv_wx = by_key[f"{isv_no}.wxpay"]
    assert (isv_wx.if_code, isv_wx.state, isv_wx.app_id, isv_wx.mch_no, isv_wx.isv_no) == (
        "wxpay", ACTIVE, "", "", isv_no)
    assert json.loads(isv_wx.channel_params_json) == ISV_PARAMS

    assert [c.channel_config_key for c in await resolve(stub, f"{isv_no}.wxpay")] == [
        f"{isv_no}.wxpay"]
    [one] = await resolve(stub, f"{app_id}.wxpay")
    assert one == app_wx
    for unknown in (f"{app_id}.alipay", f"{isv_no}.alipay", "nobody.wxpay", "no-dot", ".wxpay",
                    f"{app_id}."):
        assert await resolve(stub, unknown) == [], unknown


async def states(stub: Stub) -> dict[str, int]:
    return {c.channel_config_key: c.state for c in await resolve(stub)}


async def test_a_config_is_disabled_with_its_app_merchant_or_isv(stub: Stub) -> None:
    created = await new_merchant(stub)
    app_id, mch_no = created.app.app_id, created.merchant.mch_no
    other = (await stub.CreateApp(pb.CreateAppRequest(mch_no=mch_no, name="pos"))).app.app_id
    for app in (app_id, other):
        await stub.PutChannelConfig(pb.PutChannelConfigRequest(
            app_id=app, if_code="wxpay", params_json=json.dumps(WX_PARAMS)))
    isv_no = (await stub.CreateIsv(pb.CreateIsvRequest(name="ISV"))).isv.isv_no
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS)))
    mine, theirs, isv = f"{app_id}.wxpay", f"{other}.wxpay", f"{isv_no}.wxpay"
    assert await states(stub) == {mine: ACTIVE, theirs: ACTIVE, isv: ACTIVE}

    await stub.SetAppState(pb.SetAppStateRequest(app_id=app_id, state=DISABLED))
    assert await states(stub) == {mine: DISABLED, theirs: ACTIVE, isv: ACTIVE}
    await stub.SetAppState(pb.SetAppStateRequest(app_id=app_id, state=ACTIVE))
    await stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no=mch_no, state=DISABLED))
    assert await states(stub) == {mine: DISABLED, theirs: DISABLED, isv: ACTIVE}
    await stub.SetMerchantState(pb.SetMerchantStateRequest(mch_no=mch_no, state=ACTIVE))
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=other, if_code="wxpay", params_json=json.dumps(WX_PARAMS), state=DISABLED))
    assert await states(stub) == {mine: ACTIVE, theirs: DISABLED, isv: ACTIVE}
    await stub.SetIsvState(pb.SetIsvStateRequest(isv_no=isv_no, state=DISABLED))
    assert await states(stub) == {mine: ACTIVE, theirs: DISABLED, isv: DISABLED}
    await stub.SetIsvState(pb.SetIsvStateRequest(isv_no=isv_no, state=ACTIVE))
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS), state=DISABLED))
    assert (await states(stub))[isv] == DISABLED


async def test_channel_configs_in_clear_are_never_served_to_the_edge(stub: Stub) -> None:
    app_id = (await new_merchant(stub)).app.app_id
    await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_H5",
                                                     if_code="sandbox"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ResolveChannelConfigs(pb.ResolveChannelConfigsRequest(),
                                         metadata=(("x-paymesh-edge", "1"),))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert reason_of(refused.value) == "INTERNAL_ONLY"
