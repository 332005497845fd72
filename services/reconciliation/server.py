"""Wiring and lifecycle of the reconciliation service process."""

from __future__ import annotations

from paymesh.reconciliation.v1 import reconciliation_pb2, reconciliation_pb2_grpc
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.common.grpcserver import RunningServer, build_server, run_service, start
from paymesh.services.reconciliation.handling import MistakeHandling
from paymesh.services.reconciliation.peers import Peers
from paymesh.services.reconciliation.reports import Reports
from paymesh.services.reconciliation.service import BatchService
from paymesh.services.reconciliation.servicer import ReconciliationServicer

SERVICE_NAME = reconciliation_pb2.DESCRIPTOR.services_by_name["ReconciliationService"].full_name
# Partition and result files of runs in flight live here (removed when each run ends).
SPILL_FOLDER = "recon-spill"


async def create(config: MeshConfig, address: str, peers: Peers | None = None,
                 **batch_options: object) -> RunningServer:
    """Starts the reconciliation service on ``address`` (port 0 picks a free one).

    ``peers`` replaces the stubs of the merchant, channel, gateway and account services (tests
    pass fakes); by default they are opened on the configured addresses. The database must be
    migrated already (``paymesh up`` / ``paymesh migrate`` do it).
    """
    engine = open_engine(config.db_urls["reconciliation"])
    factory = sessions(engine)
    channels = []
    if peers is None:
        channels = [open_channel(config.addrs[name])
                    for name in ("merchant", "channel", "gateway", "account")]
        peers = Peers.over(*channels)
    batches = BatchService(factory, peers, tmp_root=config.data_dir / SPILL_FOLDER,
                           **batch_options)  # type: ignore[arg-type]
    server, health = build_server([SERVICE_NAME])
    servicer = ReconciliationServicer(batches, MistakeHandling(factory, peers),
                                      Reports(factory, peers), config.admin_token)
    reconciliation_pb2_grpc.add_ReconciliationServiceServicer_to_server(servicer, server)

    async def close_channels() -> None:
        for channel in channels:
            await channel.close()

    return await start(server, health, address, [SERVICE_NAME],
                       cleanups=[engine.dispose, close_channels, batches.close])


def main() -> None:
    """Entry point of ``python -m paymesh.services.reconciliation``."""
    run_service("reconciliation", create)
