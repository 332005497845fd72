"""The one-trip aiosqlite adapter: the same results as the stock driver, one trip to SQLite's
thread per statement, and no trip for a pool reset with nothing to roll back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from paymesh.services.common import sqlite_driver
from paymesh.services.common.db import open_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = open_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, "
                                      "name TEXT NOT NULL UNIQUE, qty INTEGER NOT NULL)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to SQLite's thread."""
    seen: list[str] = []
    stock = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await stock(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_an_engine_for_an_aiosqlite_url_uses_the_adapter(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, sqlite_driver.OneTripConnection)


async def test_rows_counts_and_ids_are_those_of_the_statement(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        first = await connection.execute(text("INSERT INTO item (name, qty) VALUES ('a', 1)"))
        assert first.lastrowid == 1
        await connection.execute(text("INSERT INTO item (name, qty) VALUES (:n, :q)"),
                                 [{"n": "b", "q": 2}, {"n": "c", "q": 3}])
        moved = await connection.execute(text("UPDATE item SET qty = qty + 10 WHERE qty > 1"))
        assert moved.rowcount == 2
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT name, qty FROM item ORDER BY id"))).all()
        assert [tuple(row) for row in rows] == [("a", 1), ("b", 12), ("c", 13)]
        assert (await connection.execute(text("SELECT name FROM item WHERE qty > 99"))).all() == []
        one = await connection.execute(text("SELECT name FROM item WHERE id = 2"))
        assert one.scalar_one() == "b"


async def test_a_statement_is_one_trip_and_a_reset_with_nothing_open_is_none(
        engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.connect() as connection:  # warm: the pool's first connect
        await connection.execute(text("SELECT 1"))
    trips.clear()
    async with engine.connect() as connection:
        await connection.execute(text("SELECT count(*) FROM item"))
    assert trips == ["_run"]  # no cursor to open or close, no rollback on the way back
    trips.clear()
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name, qty) VALUES ('d', 4)"))
    assert trips == ["_run", "commit"]


async def test_errors_and_rollbacks_behave_as_the_drivers(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name, qty) VALUES ('x', 1)"))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO item (name, qty) VALUES ('y', 1)"))
            await connection.execute(text("INSERT INTO item (name, qty) VALUES ('x', 2)"))
    async with engine.connect() as connection:
        await connection.execute(text("INSERT INTO item (name, qty) VALUES ('z', 1)"))
        # returned to the pool with the insert uncommitted: the reset rolls it back
    async with engine.connect() as connection:
        names = (await connection.execute(text("SELECT name FROM item ORDER BY id"))).scalars()
        assert list(names) == ["x"]
