"""The demo merchant of ``paymesh up --demo``: sandbox passages for every wayCode.

Written once to ``<data dir>/demo.json`` (the app secret is shown only at creation), and reused by
later runs on the same data directory while the app still exists.
"""

from __future__ import annotations

import json
import os

import grpc

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.waycodes import WAY_CODES
from paymesh.services.mesh.simulators import SIMULATED, RunningSimulator

DEMO_FEE_RATE = "0.006"


async def wire_simulators(config: MeshConfig, app_id: str,
                          simulators: list[RunningSimulator]) -> None:
    """Routes the demo app's wayCodes through the simulated channels, ahead of the sandbox."""
    async with grpc.aio.insecure_channel(config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        for sim in simulators:
            await stub.PutChannelConfig(merchant_pb2.PutChannelConfigRequest(
                app_id=app_id, if_code=sim.if_code, params_json=json.dumps(sim.params)),
                timeout=10)
            for way_code in SIMULATED[sim.if_code][1]:
                await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
                    app_id=app_id, way_code=way_code, if_code=sim.if_code,
                    fee_rate=DEMO_FEE_RATE, priority=10), timeout=10)


async def ensure_demo(config: MeshConfig) -> dict[str, str]:
    path = config.data_dir / "demo.json"
    async with grpc.aio.insecure_channel(config.addrs["merchant"]) as channel:
        stub = merchant_pb2_grpc.MerchantServiceStub(channel)
        if path.exists():
            demo: dict[str, str] = json.loads(path.read_text())
            try:
                await stub.GetApp(merchant_pb2.GetAppRequest(app_id=demo["appId"]), timeout=5)
                demo["restUrl"] = config.public_url
                demo["adminToken"] = config.admin_token or ""
                _write(path, demo)
                return demo
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
        merchant = await stub.CreateMerchant(merchant_pb2.CreateMerchantRequest(
            name="Demo Shop", contact="demo@example.com"), timeout=10)
        app = await stub.CreateApp(merchant_pb2.CreateAppRequest(
            mch_no=merchant.merchant.mch_no, name="demo", allow_private_notify_url=True),
            timeout=10)
        for way_code in sorted(WAY_CODES):
            await stub.PutPayPassage(merchant_pb2.PutPayPassageRequest(
                app_id=app.app.app_id, way_code=way_code, if_code="sandbox",
                fee_rate=DEMO_FEE_RATE), timeout=10)
    demo = {"mchNo": merchant.merchant.mch_no, "appId": app.app.app_id,
            "appSecret": app.app_secret, "restUrl": config.public_url,
            "adminToken": config.admin_token or ""}
    _write(path, demo)
    return demo


def _write(path: os.PathLike[str], demo: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(demo, out, indent=2)
        out.write("\n")
