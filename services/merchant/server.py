"""Wiring and lifecycle of the merchant service process."""

from __future__ import annotations

from dataclasses import dataclass

from paymesh.merchant.v1 import merchant_pb2, merchant_pb2_grpc
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.common.grpcserver import (
    GRACE_SECONDS,
    RunningServer,
    build_server,
    run_service,
    start,
)
from paymesh.services.common.secretbox import SecretBox
from paymesh.services.common.sharedstate import open_shared_state
from paymesh.services.merchant.changes import ConfigChangeFeed
from paymesh.services.merchant.channel_configs import ChannelConfigDirectory
from paymesh.services.merchant.isv import IsvService
from paymesh.services.merchant.service import MerchantService
from paymesh.services.merchant.servicer import MerchantServicer

SERVICE_NAME = merchant_pb2.DESCRIPTOR.services_by_name["MerchantService"].full_name


@dataclass
class MerchantServer(RunningServer):
    """The running merchant service: stopping ends the change streams before the drain."""

    service: MerchantService | None = None

    async def stop(self, grace: float = GRACE_SECONDS) -> None:
        if self.service is not None:
            self.service.end_watches()
        await super().stop(grace)


async def create(config: MeshConfig, address: str) -> RunningServer:
    """Starts the merchant service on ``address`` (port 0 picks a free one).

    The database must be migrated already (``paymesh up`` / ``paymesh migrate`` do it).
    """
    box = SecretBox(config.require_master_key())
    engine = open_engine(config.db_urls["merchant"])
    shared = open_shared_state(config.shared_state_url, config.shared_state_prefix)
    changes = ConfigChangeFeed(shared)  # one per process: MerchantService and IsvService
    service = MerchantService(sessions(engine), box, changes)
    server, health = build_server([SERVICE_NAME])
    merchant_pb2_grpc.add_MerchantServiceServicer_to_server(
        MerchantServicer(service, IsvService(sessions(engine), box, changes),
                         ChannelConfigDirectory(sessions(engine), box), config.admin_token),
        server)
    running = await start(server, health, address, [SERVICE_NAME],
                          cleanups=[engine.dispose, shared.close])
    return MerchantServer(running.server, running.health, running.names, running.port,
                          running.cleanups, service)


def main() -> None:
    """Entry point of ``python -m paymesh.services.merchant``."""
    run_service("merchant", create)
