"""Databases: async engines for the services, synchronous Alembic migrations per service.

SQLite (aiosqlite) is the embedded default, MariaDB/MySQL (aiomysql) production; the same models
and migrations serve both.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Insert, create_engine, event, insert, inspect, text
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from paymesh.services.common import sqlite_driver
from paymesh.services.common.telemetry import instrument_engine

T = TypeVar("T")

SERVICES_DIR = Path(__file__).resolve().parent.parent


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database, microseconds kept on MySQL too."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


_RETRYABLE = {1213, 1205}  # MySQL/MariaDB: deadlock, lock wait timeout


def is_retryable(error: OperationalError) -> bool:
    """A transaction the database aborted to break a deadlock: safe to run again."""
    code = getattr(error.orig, "args", (None,))[0]
    return code in _RETRYABLE or "database is locked" in str(error.orig)


async def run_transaction(work: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Runs ``work`` (one whole transaction), again after a deadlock, with a short backoff."""
    for attempt in range(attempts):
        try:
            return await work()
        except OperationalError as error:
            if attempt + 1 == attempts or not is_retryable(error):
                raise
            await asyncio.sleep(0.01 * (2 ** attempt) * (1 + random.random()))
    raise AssertionError("unreachable")


def utc_now() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def open_engine(url: str) -> AsyncEngine:
    """An async engine with the pragmas or pool settings its backend needs, traced."""
    if is_sqlite(url):
        Path(make_url(url).database or "").parent.mkdir(parents=True, exist_ok=True)
        # One connection per process: SQLite has one writer at a time anyway, and queueing in
        # the pool is cheaper than the busy handler's sleeps when writers collide.
        # aiosqlite through an adapter that makes one trip to SQLite's thread per statement.
        driver = {"module": sqlite_driver.dbapi()} if (
            make_url(url).get_driver_name() == "aiosqlite") else {}
        engine = create_async_engine(url, connect_args={"timeout": 15}, pool_size=1,
                                     max_overflow=0, pool_timeout=30, **driver)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_recycle=3600,
                                     pool_pre_ping=True, isolation_level="READ COMMITTED")
    instrument_engine(engine)
    return engine


def sessions(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


@functools.cache
def _insert_plan(cls: type) -> tuple[Insert, tuple[tuple[str, str], ...], tuple[str, ...]]:
    """A mapped class's INSERT, its (attribute, column) pairs and its primary key columns."""
    mapper = inspect(cls)
    pairs = tuple((prop.key, prop.columns[0].key) for prop in mapper.column_attrs)
    return (insert(mapper.local_table), pairs,
            tuple(column.key for column in mapper.local_table.primary_key))


async def insert_new(connection: AsyncConnection, instance: Any) -> None:
    """INSERTs a new ORM object as one Core statement, without a session's unit of work (a
    third of the cost, for hot paths), then puts the column defaults the insert applied and the
    generated primary key on the object, as a flush would. The object stays transient."""
    statement, pairs, primary_key = _insert_plan(type(instance))
    given = instance.__dict__  # a transient object's attribute values, as they were set
    values = {column: value for attribute, column in pairs
              if (value := given.get(attribute)) is not None}
    result = await connection.execute(statement, values)
    applied = {**result.last_inserted_params(),
               **dict(zip(primary_key, result.inserted_primary_key or (), strict=False))}
    for attribute, column in pairs:
        if given.get(attribute) is None and applied.get(column) is not None:
            setattr(instance, attribute, applied[column])


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    driver = {"sqlite": "sqlite", "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
    return parsed.set(drivername=driver[parsed.get_backend_name()]).render_as_string(
        hide_password=False)


def _server_url(url: URL) -> URL:
    """The same server with no database selected."""
    return URL.create(url.drivername, url.username, url.password, url.host, url.port,
                      query=url.query)


def ensure_database(url: str) -> None:
    """Creates the MySQL database named in ``url`` when missing (SQLite creates its own file)."""
    parsed = make_url(_sync_url(url))
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    server = create_engine(_server_url(parsed))
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` "
                          "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
    server.dispose()


def drop_database(url: str) -> None:
    """Drops a MySQL database (tests use throw-away ones); removes a SQLite file."""
    parsed = make_url(_sync_url(url))
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return
    server = create_engine(_server_url(parsed))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{parsed.database}`"))
    server.dispose()


def migrate(service: str, url: str) -> None:
    """Applies the service's Alembic migrations up to head."""
    ensure_database(url)
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.attributes["sync_url"] = _sync_url(url)
    command.upgrade(config, "head")


def run_migrations_online(context: Any) -> None:
    """The body of every service's ``migrations/env.py``."""
    engine = create_engine(context.config.attributes["sync_url"])
    with engine.connect() as connection:
        context.configure(connection=connection, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
