"""Migration 0003 on a ledger that already has transfers: value dates are backfilled with the
China Standard Time day of each transfer's recording, and the journal stays immutable."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from paymesh.services.common import db
from paymesh.services.common.config import MeshConfig
from tests.conftest import BACKEND, mesh_env


def _alembic(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(db.SERVICES_DIR / "account" / "migrations"))
    config.attributes["sync_url"] = db._sync_url(url)
    return config


@pytest.fixture
def account_url(tmp_path: Path) -> Iterator[str]:
    url = MeshConfig.from_env(mesh_env(tmp_path)).db_urls["account"]
    db.ensure_database(url)
    yield url
    if BACKEND == "mariadb":
        db.drop_database(url)


def _engine(url: str) -> Engine:
    return create_engine(db._sync_url(url))


def test_existing_transfers_get_the_china_day_of_their_recording(account_url: str) -> None:
    config = _alembic(account_url)
    command.upgrade(config, "0002")
    engine = _engine(account_url)
    recorded = [datetime(2024, 3, 1, 15, 59, 59, 999999),  # 23:59:59.999999 in China
                datetime(2024, 3, 1, 16, 0, 0),  # midnight in China: the next day
                datetime(2024, 12, 31, 23, 30, 0)]  # 07:30 on New Year's Day in China
    with engine.begin() as conn:
        for account_id, kind in ((1, "CHANNEL_CLEARING"), (2, "PENDING")):
            conn.execute(text(
                "INSERT INTO account (id, owner, currency, kind, may_go_negative, balance, "
                "created_at, updated_at) VALUES (:i, :o, 'CNY', :k, :n, :b, :t, :t)"),
                {"i": account_id, "o": f"o{account_id}", "k": kind, "n": account_id == 1,
                 "b": -3 if account_id == 1 else 3, "t": recorded[0]})
        for position, moment in enumerate(recorded):
            conn.execute(text(
                "INSERT INTO posting (posting_id, fingerprint, status, created_at) "
                "VALUES (:p, 'f', 'POSTED', :t)"), {"p": f"p{position}", "t": moment})
            conn.execute(text(
                "INSERT INTO ledger_transfer (posting_id, position, debit_account_id, "
                "credit_account_id, amount, code, memo, debit_balance_after, "
                "credit_balance_after, created_at) VALUES (:p, 0, 1, 2, 1, 'PAY', '', :d, :c, "
                ":t)"), {"p": f"p{position}", "d": -position - 1, "c": position + 1,
                         "t": moment})
    command.upgrade(config, "head")
    with engine.connect() as conn:
        days = conn.execute(text("SELECT value_date FROM ledger_transfer ORDER BY id")).scalars()
        assert list(days) == ["2024-03-01", "2024-03-02", "2025-01-01"]
    for statement in ("UPDATE ledger_transfer SET value_date = '2000-01-01'",
                      "DELETE FROM ledger_transfer"):
        with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
            conn.execute(text(statement))
    command.downgrade(config, "0002")  # and back: the journal is still immutable
    with pytest.raises(DBAPIError, match="immutable"), engine.begin() as conn:
        conn.execute(text("UPDATE ledger_transfer SET amount = 2"))
    command.upgrade(config, "head")
    engine.dispose()
