"""The test suite's pool of migrated databases: a set handed to a later test is empty, its
auto-increments start again, and it is still at the migrations' head."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from paymesh.services.common import db
from tests.conftest import MigratedDatabases


def _rows(url: str, query: str) -> list[tuple[object, ...]]:
    engine = create_engine(db._sync_url(url))
    try:
        with engine.begin() as conn:
            result = conn.execute(text(query))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def test_a_set_comes_back_empty_with_its_counters_reset(tmp_path: Path) -> None:
    for name in ("migrated", "one", "two"):
        (tmp_path / name).mkdir()
    pool = MigratedDatabases(tmp_path / "migrated")
    try:
        first = pool.take(tmp_path / "one")
        gateway = first.db_urls["gateway"]
        _rows(gateway, "INSERT INTO outbox_event (topic, order_id, attempts, next_attempt_at, "
                       "created_at) VALUES ('pay.succeeded', 'P1', 0, '2026-11-22 00:00:00', "
                       "'2026-11-22 00:00:00')")
        assert _rows(gateway, "SELECT event_id, order_id FROM outbox_event") == [(1, "P1")]
        _rows(gateway, "DELETE FROM outbox_event")  # empty, but its counter has moved on
        pool.give_back(first)

        second = pool.take(tmp_path / "two")
        gateway = second.db_urls["gateway"]
        assert _rows(gateway, "SELECT count(*) FROM outbox_event") == [(0,)]
        _rows(gateway, "INSERT INTO outbox_event (topic, order_id, attempts, next_attempt_at, "
                       "created_at) VALUES ('pay.failed', 'P2', 0, '2026-11-22 00:00:00', "
                       "'2026-11-22 00:00:00')")
        assert _rows(gateway, "SELECT event_id, order_id FROM outbox_event") == [(1, "P2")]
        versions = _rows(gateway, "SELECT version_num FROM alembic_version")
        assert len(versions) == 1 and versions[0][0]  # the schema is still at its head
        pool.give_back(second)
    finally:
        pool.close()
