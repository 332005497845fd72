"""Service providers (服务商): sub-merchants pay through their ISV's channel accounts."""

from __future__ import annotations

import asyncio
import json

import grpc
import pytest

from paymesh.merchant.v1 import merchant_pb2 as pb
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.errors import reason_of
from tests.merchant.test_merchant_grpc import ACTIVE, DISABLED, Stub, raw_scalar

ISV_PARAMS = {"mchId": "1900000109", "appId": "wxsp0001", "apiV3Key": "k" * 32,
              "apiClientKey": "-----BEGIN PRIVATE KEY-----secret-----END PRIVATE KEY-----"}


async def sub_merchant(stub: Stub) -> tuple[str, str, str]:
    isv = (await stub.CreateIsv(pb.CreateIsvRequest(name="Big ISV"))).isv
    created = await stub.CreateMerchant(pb.CreateMerchantRequest(name="Corner shop",
                                                                 isv_no=isv.isv_no))
    return isv.isv_no, created.merchant.mch_no, created.app.app_id


async def test_sub_merchant_pays_through_the_isv_account_with_its_own_ids(
        stub: Stub, config: MeshConfig) -> None:
    isv_no, mch_no, app_id = await sub_merchant(stub)
    merchant = (await stub.GetMerchant(pb.GetMerchantRequest(mch_no=mch_no))).merchant
    assert (merchant.type, merchant.isv_no) == (pb.MERCHANT_TYPE_ISV_SUB, isv_no)
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS)))
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json='{"subMchId": "1900000901"}'))
    await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_NATIVE",
                                                     if_code="wxpay"))
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    [resolved] = context.passages
    assert resolved.channel_config_state == ACTIVE
    assert json.loads(resolved.channel_params_json) == {**ISV_PARAMS,
                                                        "sub": {"subMchId": "1900000901"}}
    sealed = await raw_scalar(config, "SELECT params_sealed FROM isv_channel_config "
                              "WHERE isv_no = :i", i=isv_no)
    assert "secret" not in sealed and "1900000109" not in sealed
    listed = await stub.ListIsvChannelConfigs(pb.ListIsvChannelConfigsRequest(isv_no=isv_no))
    assert list(listed.channel_configs[0].param_names) == sorted(ISV_PARAMS)


async def test_a_passage_needs_the_isv_account_first(stub: Stub) -> None:
    isv_no, _, app_id = await sub_merchant(stub)
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="alipay", params_json='{"appAuthToken": "t"}'))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="ALI_QR",
                                                         if_code="alipay"))
    assert reason_of(refused.value) == "CHANNEL_CONFIG_NOT_FOUND"
    assert isv_no in (refused.value.details() or "")


async def test_disabling_the_isv_or_its_account_disables_every_sub_merchant_passage(
        stub: Stub) -> None:
    isv_no, _, app_id = await sub_merchant(stub)
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS)))
    await stub.PutChannelConfig(pb.PutChannelConfigRequest(
        app_id=app_id, if_code="wxpay", params_json='{"subMchId": "1"}'))
    await stub.PutPayPassage(pb.PutPayPassageRequest(app_id=app_id, way_code="WX_NATIVE",
                                                     if_code="wxpay"))
    watch = stub.WatchConfigChanges(pb.WatchConfigChangesRequest())
    try:
        await asyncio.wait_for(watch.initial_metadata(), 15)
        await stub.SetIsvState(pb.SetIsvStateRequest(isv_no=isv_no, state=DISABLED))
        event = await asyncio.wait_for(watch.read(), 5)
        assert (event.app_id, event.mch_no) == ("", "")  # every cached context is stale
    finally:
        watch.cancel()
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    assert context.passages[0].channel_config_state == DISABLED
    await stub.SetIsvState(pb.SetIsvStateRequest(isv_no=isv_no, state=ACTIVE))
    await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
        isv_no=isv_no, if_code="wxpay", params_json=json.dumps(ISV_PARAMS), state=DISABLED))
    context = await stub.ResolvePayContext(pb.ResolvePayContextRequest(app_id=app_id))
    assert context.passages[0].channel_config_state == DISABLED


async def test_sub_merchant_of_an_unknown_or_disabled_isv_is_refused(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.CreateMerchant(pb.CreateMerchantRequest(name="x", isv_no="V000"))
    assert reason_of(unknown.value) == "ISV_NOT_FOUND"
    isv = (await stub.CreateIsv(pb.CreateIsvRequest(name="Gone"))).isv
    await stub.SetIsvState(pb.SetIsvStateRequest(isv_no=isv.isv_no, state=DISABLED))
    with pytest.raises(grpc.aio.AioRpcError) as disabled:
        await stub.CreateMerchant(pb.CreateMerchantRequest(name="x", isv_no=isv.isv_no))
    assert reason_of(disabled.value) == "ISV_DISABLED"


async def test_isv_account_is_not_for_the_sandbox(stub: Stub) -> None:
    isv = (await stub.CreateIsv(pb.CreateIsvRequest(name="Sandboxer"))).isv
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.PutIsvChannelConfig(pb.PutIsvChannelConfigRequest(
            isv_no=isv.isv_no, if_code="sandbox", params_json="{}"))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
