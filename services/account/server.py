"""Wiring and lifecycle of the account service process."""

from __future__ import annotations

from paymesh.account.v1 import account_pb2, account_pb2_grpc
from paymesh.services.account.audit import PostingAudit
from paymesh.services.account.controls import AccountControls
from paymesh.services.account.service import AccountService
from paymesh.services.account.servicer import AccountServicer
from paymesh.services.account.settings import AccountSettings
from paymesh.services.account.settlement import SettlementService
from paymesh.services.account.statement import StatementService
from paymesh.services.account.withdrawals import WithdrawalService
from paymesh.services.common.config import MeshConfig
from paymesh.services.common.db import open_engine, sessions
from paymesh.services.common.grpcserver import RunningServer, build_server, run_service, start

SERVICE_NAME = account_pb2.DESCRIPTOR.services_by_name["AccountService"].full_name


async def create(config: MeshConfig, address: str,
                 settings: AccountSettings | None = None) -> RunningServer:
    """Starts the account service on ``address`` (port 0 picks a free one).

    The database must be migrated already (``paymesh up`` / ``paymesh migrate`` do it).
    ``settings`` default to the environment's (PAYMESH_SETTLEMENT_DAYS).
    """
    settings = settings or AccountSettings.from_env()
    engine = open_engine(config.db_urls["account"])
    server, health = build_server([SERVICE_NAME])
    factory = sessions(engine)
    ledger = AccountService(factory)
    servicer = AccountServicer(
        ledger, AccountControls(ledger, factory), WithdrawalService(ledger, factory),
        SettlementService(ledger, factory, settings.default_settle_days),
        StatementService(factory), config.admin_token, PostingAudit(factory))
    account_pb2_grpc.add_AccountServiceServicer_to_server(servicer, server)
    return await start(server, health, address, [SERVICE_NAME], cleanups=[engine.dispose])


def main() -> None:
    """Entry point of ``python -m paymesh.services.account``."""
    run_service("account", create)
