"""Wiring and lifecycle of the channel service.

Migrations are applied by ``paymesh up`` (``db.migrate("channel", url)``), not here.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from paymesh.channel.v1 import channel_pb2, channel_pb2_grpc
from paymesh.services.channel.adapters import AdapterRegistry
from paymesh.services.channel.adapters.alipay import AlipayAdapter
from paymesh.services.channel.adapters.sandbox import SandboxAdapter
from paymesh.services.channel.adapters.stripe_card import StripeAdapter
from paymesh.services.channel.adapters.wxpay import WxpayAdapter
from paymesh.services.channel.adapters.ysfpay import YsfpayAdapter
from paymesh.services.channel.delivery import RETRY_DELAYS, CallbackDelivery
from paymesh.services.channel.repository import SandboxBook
from paymesh.services.channel.servicer import ChannelServicer, SandboxPageServicer
from paymesh.services.common import db
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.grpcserver import (
    RunningServer,
    build_server,
    run_service,
    start,
)
from paymesh.services.common.secretbox import SecretBox

SERVICE_NAMES = [
    channel_pb2.DESCRIPTOR.services_by_name["ChannelService"].full_name,
    channel_pb2.DESCRIPTOR.services_by_name["SandboxPageService"].full_name,
]
CALLBACK_TIMEOUT_SECONDS = 10.0


async def create(config: MeshConfig, address: str, *,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> RunningServer:
    """Builds and starts the channel service on ``address`` (port 0 picks a free port).

    ``retry_delays`` are the pauses between callback attempts; tests shorten them.
    """
    engine = db.open_engine(config.db_urls["channel"])
    client = httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_SECONDS)
    delivery = CallbackDelivery(client, retry_delays)
    box = SecretBox(config.require_master_key())
    sandbox = SandboxAdapter(SandboxBook(engine), delivery, config.public_url, box)
    server, health = build_server(SERVICE_NAMES)
    adapters = AdapterRegistry([sandbox, WxpayAdapter(client), AlipayAdapter(client),
                                YsfpayAdapter(client), StripeAdapter(client)])
    channel_pb2_grpc.add_ChannelServiceServicer_to_server(ChannelServicer(adapters), server)
    channel_pb2_grpc.add_SandboxPageServiceServicer_to_server(SandboxPageServicer(sandbox), server)
    # Cleanups run in reverse: stop retries, then close the HTTP client, then the engine.
    return await start(server, health, address, SERVICE_NAMES,
                       cleanups=[engine.dispose, client.aclose, delivery.close])


def main() -> None:
    """Entry point of ``python -m paymesh.services.channel``."""
    run_service("channel", create)
