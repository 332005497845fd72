"""A fresh merchant for each drill run, so the audit owns every order and every fen.

The merchant gets one app that may notify a loopback address (the drill's endpoint) and a
sandbox passage for every wayCode the load uses, at a known fee rate, so the client can say what
each order's fee and the merchant's balance must be without asking the platform.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import grpc

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.client.merchant import MerchantCredentials
from paymesh.services.common.config import MeshConfig

FEE_RATE = "0.006"
# Sandbox wayCodes paid on the sandbox page (barcodes are charged at once, the cashier is a page).
WAY_CODES = ("WX_NATIVE", "WX_H5", "ALI_QR", "ALI_WAP", "UP_QR")
TIMEOUT = 10.0


@dataclass(frozen=True)
class Tenant:
    """The drill's merchant and app."""

    mch_no: str
    app_id: str
    secret: str
    fee_rate: str = FEE_RATE

    @property
    def credentials(self) -> MerchantCredentials:
        return MerchantCredentials(self.mch_no, self.app_id, self.secret)

    def fee(self, amount: int) -> int:
        """The merchant fee of an order of ``amount`` fen: rate × amount, half up."""
        return int((Decimal(amount) * Decimal(self.fee_rate)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP))

    def refund_fee_share(self, amount: int, refunded_before: int, refund: int) -> int:
        """The fee a refund returns (pro rata, cumulative, half up: the shares of a full refund
        add up to the fee)."""
        fee = self.fee(amount)

        def due(refunded: int) -> int:
            return int((Decimal(fee) * refunded / amount).quantize(
                Decimal(1), rounding=ROUND_HALF_UP))
        return due(refunded_before + refund) - due(refunded_before)


async def create_tenant(config: MeshConfig, label: str,
                        way_codes: tuple[str, ...] = WAY_CODES) -> Tenant:
    """A new merchant named after the drill, its app and sandbox passages."""
    async with grpc.aio.insecure_channel(config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        merchant = await stub.CreateMerchant(merchant_pb2.CreateMerchantRequest(
            name=f"drill {label} {secrets.token_hex(2)}"[:64], contact="drill@example.com"),
            timeout=TIMEOUT)
        app = await stub.CreateApp(merchant_pb2.CreateAppRequest(
            mch_no=merchant.merchant.mch_no, name="drill", allow_private_notify_url=True),
            timeout=TIMEOUT)
        for way_code in way_codes:
            await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
                app_id=app.app.app_id, way_code=way_code, if_code="sandbox",
                fee_rate=FEE_RATE), timeout=TIMEOUT)
    return Tenant(merchant.merchant.mch_no, app.app.app_id, app.app_secret)


async def route_through(config: MeshConfig, tenant: Tenant, if_code: str,
                        params: dict[str, object], way_codes: tuple[str, ...]) -> None:
    """Sends ``way_codes`` of the tenant through a real channel config, ahead of the sandbox."""
    async with grpc.aio.insecure_channel(config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        await stub.PutChannelConfig(merchant_pb2.PutChannelConfigRequest(
            app_id=tenant.app_id, if_code=if_code, params_json=json.dumps(params)),
            timeout=TIMEOUT)
        for way_code in way_codes:
            await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
                app_id=tenant.app_id, way_code=way_code, if_code=if_code, fee_rate=FEE_RATE,
                priority=10), timeout=TIMEOUT)
