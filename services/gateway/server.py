"""Wiring and lifecycle of the gateway process."""

from __future__ import annotations

from paymesh.account.v1 import account_pb2_grpc
from paymesh.channel.v1 import channel_pb2_grpc
from paymesh.gateway.v1 import gateway_pb2, gateway_pb2_grpc
from paymesh.merchant.v1 import merchant_pb2_grpc
from paymesh.services.common.clients import open_channel
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import is_sqlite, open_engine
from paymesh.services.common.grpcserver import (
    RunningServer,
    build_server,
    run_service,
    start,
)
from paymesh.services.common.secretbox import SecretBox
from paymesh.services.common.sharedstate import open_shared_state
from paymesh.services.gateway.authentication import RequestAuthenticator
from paymesh.services.gateway.callbacks import CallbackIntake
from paymesh.services.gateway.cashier import Cashier
from paymesh.services.gateway.cashier_links import CashierLinks
from paymesh.services.gateway.channel_calls import ChannelCalls
from paymesh.services.gateway.dispatch import ChannelDispatch
from paymesh.services.gateway.ledger_audit import LedgerAudit
from paymesh.services.gateway.ledger_events import LEDGER_CONSUMER, LedgerEvents
from paymesh.services.gateway.ledger_events import TOPICS as LEDGER_TOPICS
from paymesh.services.gateway.notifications import TOPICS as NOTIFY_TOPICS
from paymesh.services.gateway.notifications import Notifications
from paymesh.services.gateway.notify_repository import NotifyRepository
from paymesh.services.gateway.notify_servicer import NotificationServicer
from paymesh.services.gateway.orders import PayOrders
from paymesh.services.gateway.outbox import OutboxDispatcher, Subscription
from paymesh.services.gateway.pay_context import PayContextCache
from paymesh.services.gateway.reconciliation_servicer import ReconciliationSourceServicer
from paymesh.services.gateway.reconciliation_source import ReconciliationSource
from paymesh.services.gateway.refund_holds import RefundHolds
from paymesh.services.gateway.refund_repository import RefundRepository
from paymesh.services.gateway.refunds import Refunds
from paymesh.services.gateway.repository import PassageUsage, PayOrderRepository
from paymesh.services.gateway.servicer import (
    CashierServicer,
    ChannelCallbackServicer,
    MerchantApiServicer,
    PayOrderServicer,
)
from paymesh.services.gateway.sweep_servicer import OrderSweepServicer
from paymesh.services.gateway.sweeps import OrderSweeps

SERVICE_NAMES = [
    s.full_name for s in gateway_pb2.DESCRIPTOR.services_by_name.values()
]


async def create(config: MeshConfig, address: str) -> RunningServer:
    """Builds and starts the gateway on ``address`` (port 0 picks one)."""
    engine = open_engine(config.db_urls["gateway"])
    # A reconciliation day stream holds its connection to the end; SQLite's pool has one, so
    # streams read through an engine of their own there (WAL: readers never block the writer).
    stream_engine = (open_engine(config.db_urls["gateway"])
                     if is_sqlite(config.db_urls["gateway"]) else engine)
    shared = open_shared_state(config.shared_state_url, config.shared_state_prefix)
    merchant_channel = open_channel(config.addrs["merchant"])
    channel_channel = open_channel(config.addrs["channel"])
    account_channel = open_channel(config.addrs["account"])
    contexts = PayContextCache(merchant_pb2_grpc.MerchantServiceStub(merchant_channel))
    channels = ChannelCalls(channel_pb2_grpc.ChannelServiceStub(channel_channel))
    # Notifications only read orders, so they get repositories of their own (no outbox poke).
    notify_records = NotifyRepository(engine)
    notifications = Notifications(notify_records, PayOrderRepository(engine),
                                  RefundRepository(engine), contexts,
                                  schedule_scale=config.notify_schedule_scale)
    # The ledger posts money events behind the outbox: a payment's answer never waits on it
    # (a refund's does, for its hold: refund_holds).
    account_stub = account_pb2_grpc.AccountServiceStub(account_channel)
    ledger = LedgerEvents(account_stub, PayOrderRepository(engine), RefundRepository(engine))
    outbox = OutboxDispatcher(engine, [
        Subscription.of("notifications", NOTIFY_TOPICS, notifications.on_event),
        Subscription.of(LEDGER_CONSUMER, LEDGER_TOPICS, ledger.on_event)])
    repository = PayOrderRepository(engine, on_event=outbox.poke)
    refund_repository = RefundRepository(engine, on_event=outbox.poke)
    usage = PassageUsage(engine)
    dispatch = ChannelDispatch(repository, usage, channels, config.public_url)
    links = CashierLinks(SecretBox(config.require_master_key()).derive("cashier-links"),
                         config.public_url)
    orders = PayOrders(repository, usage, channels, dispatch, links)
    cashier = Cashier(repository, contexts, channels, dispatch, links, config.public_url)
    authenticator = RequestAuthenticator(contexts, shared, config.req_time_window)

    server, health = build_server(SERVICE_NAMES)
    refunds = Refunds(refund_repository, repository, channels, config.public_url,
                      holds=RefundHolds(account_stub, ledger))
    gateway_pb2_grpc.add_MerchantApiServiceServicer_to_server(
        MerchantApiServicer(authenticator, orders, refunds), server)
    gateway_pb2_grpc.add_ChannelCallbackServiceServicer_to_server(
        ChannelCallbackServicer(CallbackIntake(repository, contexts, channels)), server)
    gateway_pb2_grpc.add_PayOrderServiceServicer_to_server(
        PayOrderServicer(repository, LedgerAudit(engine)), server)
    gateway_pb2_grpc.add_CashierServiceServicer_to_server(CashierServicer(cashier), server)
    gateway_pb2_grpc.add_ReconciliationSourceServiceServicer_to_server(
        ReconciliationSourceServicer(ReconciliationSource(engine, stream_engine, outbox.poke)),
        server)
    gateway_pb2_grpc.add_OrderSweepServiceServicer_to_server(OrderSweepServicer(OrderSweeps(
        repository, usage, refund_repository, contexts, channels, resumer=refunds)), server)
    gateway_pb2_grpc.add_NotificationServiceServicer_to_server(
        NotificationServicer(notifications, notify_records, config.admin_token), server)
    contexts.start()
    outbox.start()
    notifications.start()

    async def close_all() -> None:
        await outbox.stop()
        await notifications.stop()
        await contexts.stop()
        await merchant_channel.close()
        await channel_channel.close()
        await account_channel.close()
        await shared.close()
        await engine.dispose()
        if stream_engine is not engine:
            await stream_engine.dispose()

    return await start(server, health, address, SERVICE_NAMES, [close_all])


def main() -> None:
    """Entry point of ``python -m paymesh.services.gateway``."""
    run_service("gateway", create)
