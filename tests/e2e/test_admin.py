"""Operators: admin REST through Envoy behind the bearer token, and the command line."""

from __future__ import annotations

import grpc
import httpx
import pytest

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.errors import reason_of
from tests.e2e.conftest import RunningMesh

pytestmark = pytest.mark.e2e


def auth(mesh: RunningMesh) -> dict[str, str]:
    return {"authorization": f"Bearer {mesh.demo['adminToken']}"}


async def test_admin_rest_requires_the_token(mesh: RunningMesh,
                                             http: httpx.AsyncClient) -> None:
    url = f"{mesh.rest_url}/admin/v1/merchants/{mesh.demo['mchNo']}"
    missing = await http.get(url)
    assert missing.status_code == 401
    assert "ADMIN_TOKEN_INVALID" in missing.text
    wrong = await http.get(url, headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401
    good = await http.get(url, headers=auth(mesh))
    assert good.status_code == 200
    assert good.json()["merchant"]["mchNo"] == mesh.demo["mchNo"]


async def test_operator_onboards_a_merchant_over_rest(mesh: RunningMesh,
                                                      http: httpx.AsyncClient) -> None:
    created = await http.post(f"{mesh.rest_url}/admin/v1/merchants", headers=auth(mesh),
                              json={"name": "REST Shop", "contact": "ops@example.com"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert len(body["appSecret"]) == 128
    app_id = body["app"]["appId"]
    passage = await http.put(f"{mesh.rest_url}/admin/v1/apps/{app_id}/passages/ALI_QR",
                             headers=auth(mesh), json={"ifCode": "sandbox", "feeRate": "0.0038"})
    assert passage.status_code == 200, passage.text
    listed = await http.get(f"{mesh.rest_url}/admin/v1/apps/{app_id}/passages",
                            headers=auth(mesh))
    assert [p["wayCode"] for p in listed.json()["passages"]] == ["ALI_QR"]
    fetched = await http.get(f"{mesh.rest_url}/admin/v1/apps/{app_id}", headers=auth(mesh))
    assert "appSecret" not in fetched.text and body["appSecret"] not in fetched.text


async def test_bad_admin_input_names_the_field(mesh: RunningMesh,
                                               http: httpx.AsyncClient) -> None:
    answer = await http.put(
        f"{mesh.rest_url}/admin/v1/apps/{mesh.demo['appId']}/passages/WX_H5",
        headers=auth(mesh), json={"ifCode": "sandbox", "feeRate": "1.5"})
    assert answer.status_code == 400
    assert "fee_rate" in answer.text
    assert "Traceback" not in answer.text


async def test_internal_rpcs_are_refused_through_the_edge(mesh: RunningMesh) -> None:
    edge = f"127.0.0.1:{mesh.config.http_port}"
    async with grpc.aio.insecure_channel(edge) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ResolvePayContext(
                merchant_pb2.ResolvePayContextRequest(app_id=mesh.demo["appId"]),
                metadata=auth(mesh).items(), timeout=10)
        with pytest.raises(grpc.aio.AioRpcError) as configs:
            await stub.ResolveChannelConfigs(merchant_pb2.ResolveChannelConfigsRequest(),
                                             metadata=auth(mesh).items(), timeout=10)
    for call in (refused.value, configs.value):
        assert call.code() == grpc.StatusCode.PERMISSION_DENIED
        assert reason_of(call) == "INTERNAL_ONLY"


async def test_the_fee_model_round_trips_through_admin_rest(mesh: RunningMesh,
                                                            http: httpx.AsyncClient) -> None:
    created = await http.post(f"{mesh.rest_url}/admin/v1/merchants", headers=auth(mesh),
                              json={"name": "Fee Shop"})
    app_id = created.json()["app"]["appId"]
    url = f"{mesh.rest_url}/admin/v1/apps/{app_id}/passages/WX_NATIVE"
    put = await http.put(url, headers=auth(mesh), json={
        "ifCode": "sandbox", "feeRate": "0.006", "feeFixed": "10", "feeCap": "2000",
        "feeRounding": "FEE_ROUNDING_CEILING"})
    assert put.status_code == 200, put.text
    expected = {"feeRate": "0.006", "feeFixed": "10", "feeCap": "2000",
                "feeRounding": "FEE_ROUNDING_CEILING",
                "refundFeeRule": "REFUND_FEE_RULE_RETURN_PRO_RATA"}
    passage = put.json()["passage"]
    assert {k: passage.get(k) for k in expected} == expected
    assert (passage.get("feeFloor", "0"), passage.get("channelCostRate", "")) == ("0", "")
    listed = await http.get(f"{mesh.rest_url}/admin/v1/apps/{app_id}/passages",
                            headers=auth(mesh))
    [again] = listed.json()["passages"]
    assert {k: again.get(k) for k in expected} == expected

    refused = await http.put(url, headers=auth(mesh), json={
        "ifCode": "sandbox", "feeFloor": "300", "feeCap": "200"})
    assert refused.status_code == 400, refused.text
    assert "fee_cap" in refused.text
    configs = await http.get(f"{mesh.rest_url}/admin/v1/apps/{app_id}/channel-configs",
                             headers=auth(mesh))
    assert [c["channelConfigKey"] for c in configs.json()["channelConfigs"]] == [
        f"{app_id}.sandbox"]


def test_cli_puts_a_passage_with_its_fee_model(mesh: RunningMesh) -> None:
    created = mesh.cli_json("merchant", "create", "--name", "CLI Fees")
    app_id = str(created["app"]["appId"])  # type: ignore[index]
    answer = mesh.cli_json(
        "passage", "put", app_id, "ALI_QR", "--if-code", "sandbox", "--fee-rate", "0.003",
        "--fee-fixed", "10", "--fee-floor", "20", "--fee-cap", "500", "--fee-rounding",
        "CEILING", "--refund-fee-rule", "KEEP", "--channel-cost-rate", "0.0021")
    passage = answer["passage"]
    assert isinstance(passage, dict)
    expected = {"feeRate": "0.003", "feeFixed": "10", "feeFloor": "20", "feeCap": "500",
                "feeRounding": "FEE_ROUNDING_CEILING", "refundFeeRule": "REFUND_FEE_RULE_KEEP",
                "channelCostRate": "0.0021"}
    assert {k: passage.get(k) for k in expected} == expected
    refused = mesh.cli("passage", "put", app_id, "ALI_QR", "--if-code", "sandbox",
                       "--fee-fixed", "-1")
    assert refused.returncode != 0 and "fee_fixed" in refused.stderr
