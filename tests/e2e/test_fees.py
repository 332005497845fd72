"""A passage's whole fee model is snapshotted on the order and the ledger books that fee."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from paymesh.account.v1 import account_pb2 as apb
from paymesh.account.v1 import account_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2 as mpb
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials
from tests.e2e.conftest import RunningMesh
from tests.e2e.helpers import gateway_rows, order_params, pay_on_sandbox_page, signed_post
from tests.e2e.test_ledger import balance, moved_by, until

pytestmark = pytest.mark.e2e
PENDING, CLEARING, FEE = (apb.ACCOUNT_KIND_PENDING, apb.ACCOUNT_KIND_CHANNEL_CLEARING,
                          apb.ACCOUNT_KIND_FEE_INCOME)
SNAPSHOT = ("fee_rate, fee_amount, fee_fixed, fee_floor, fee_cap, fee_rounding, refund_fee_rule, "
            "channel_cost_rate, channel_fee_amount, channel_config_key")


@pytest.fixture
async def ledger(mesh: RunningMesh) -> AsyncIterator[account_pb2_grpc.AccountServiceStub]:
    async with grpc.aio.insecure_channel(mesh.config.addrs["account"]) as channel:
        yield account_pb2_grpc.AccountServiceStub(channel)


async def put_passage(mesh: RunningMesh, app_id: str, **fees: object) -> None:
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        await merchant_pb2_grpc.MerchantServiceStub(channel).PutPayPassage(
            mpb.PutPayPassageRequest(app_id=app_id, way_code="WX_H5", if_code="sandbox", **fees))


async def capped_shop(mesh: RunningMesh) -> MerchantCredentials:
    """A merchant of its own paying WX_H5 through the sandbox at 0.6 % + 10 fen, capped at 50
    fen, rounded up, keeping the fee on refunds, at a channel cost of 0.38 %."""
    async with grpc.aio.insecure_channel(mesh.config.addrs["merchant"]) as channel:
        created = await merchant_pb2_grpc.MerchantServiceStub(channel).CreateMerchant(
            mpb.CreateMerchantRequest(name="Capped Shop"))
    await put_passage(mesh, created.app.app_id, fee_rate="0.006", fee_fixed=10, fee_cap=50,
                      fee_rounding=mpb.FEE_ROUNDING_CEILING,
                      refund_fee_rule=mpb.REFUND_FEE_RULE_KEEP, channel_cost_rate="0.0038")
    return MerchantCredentials(created.merchant.mch_no, created.app.app_id, created.app_secret)


async def test_a_capped_fee_is_snapshotted_and_booked_and_outlives_passage_changes(
        mesh: RunningMesh, http: httpx.AsyncClient,
        ledger: account_pb2_grpc.AccountServiceStub) -> None:
    shop = await capped_shop(mesh)
    key = f"{shop.app_id}.sandbox"
    small = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=1001),
                              shop)
    large = await signed_post(http, mesh, "/api/pay/unifiedOrder", order_params(amount=10000),
                              shop)
    small_id, large_id = small["data"]["payOrderId"], large["data"]["payOrderId"]

    def snapshot(pay_order_id: str) -> tuple[object, ...]:
        [row] = gateway_rows(mesh, f"SELECT {SNAPSHOT} FROM pay_order WHERE pay_order_id = :p",
                             p=pay_order_id)
        return tuple(row)

    # 1001 × 0.6 % = 6.006 → 7 (ceiling) + 10 = 17; channel 3.8038 → 4.
    assert snapshot(small_id) == ("0.006", 17, 10, 0, 50, 2, 2, "0.0038", 4, key)
    # 10000 × 0.6 % = 60 + 10 = 70, capped at 50; channel 38.
    assert snapshot(large_id) == ("0.006", 50, 10, 0, 50, 2, 2, "0.0038", 38, key)

    # The passage changes; orders already made keep what they were made with.
    await put_passage(mesh, shop.app_id, fee_rate="0.01")
    for created in (small, large):
        await pay_on_sandbox_page(http, created["data"]["payData"])
    await until(lambda: balance(ledger, shop.mch_no, PENDING), (1001 - 17) + (10000 - 50))
    pays = {f"pay:{small_id}", f"pay:{large_id}"}
    assert await moved_by(ledger, "platform", FEE, pays) == 17 + 50
    assert await balance(ledger, f"channel:{key}", CLEARING) == -11001
    assert snapshot(large_id)[:2] == ("0.006", 50)

    # The order kept its fee (KEEP): a refund takes its whole amount from the merchant.
    answer = await signed_post(http, mesh, "/api/refund/refundOrder", {
        "payOrderId": large_id, "mchRefundNo": f"FEE{large_id[-10:]}", "refundAmount": 4000,
        "currency": "cny", "refundReason": "returned"}, shop)
    assert answer["data"]["state"] == 2, answer
    await until(lambda: balance(ledger, shop.mch_no, PENDING), (1001 - 17) + (10000 - 50) - 4000)
    refund = {f"refund:{answer['data']['refundOrderId']}"}
    assert await moved_by(ledger, "platform", FEE, refund) == 0
    # Pending fell when the refund was held; clearing moves when the refund is booked.
    await until(lambda: balance(ledger, f"channel:{key}", CLEARING), -11001 + 4000)
