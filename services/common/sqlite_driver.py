"""SQLAlchemy's aiosqlite driver with fewer trips to SQLite's thread.

aiosqlite runs every call on a thread of its own, and each call is a round trip: the event
loop queues it, the thread runs it and wakes the loop through its self-pipe. SQLAlchemy's stock
adapter makes three such trips per statement (open a cursor, execute, close the cursor; a fourth
to fetch rows) and one more when a connection goes back to the pool (a rollback, even when no
transaction is open). A one-statement transaction took five trips, and in a unified order the
trips cost more CPU than SQLite's own work.

This adapter makes one trip per statement (execute, fetch every row and close, all on SQLite's
thread) and skips the pool's rollback when the connection has no transaction open. Results are
the same: the stock adapter also reads every row of a statement at once. Server-side cursors
(``stream``) keep the stock behaviour.

Built on aiosqlite's ``Connection._execute`` (queue a function for its thread), which every
aiosqlite method uses; ``open_engine`` passes ``dbapi()`` as the engine's ``module``.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Result = tuple[Any, int, int | None, list[Any] | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any,
         many: bool) -> _Result:
    """On SQLite's thread: the statement, its rows if it has any, and its counters."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement is one trip to SQLite's thread; it holds no sqlite3 cursor."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._trip(operation, seq_of_parameters, many=True)

    async def _trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            result = await connection._execute(_run, connection._conn, operation, parameters,
                                               many)
        self._description, self._rowcount, self._lastrowid, rows = result
        self._rows = collections.deque(rows or ())

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    """Opens one-trip cursors; a rollback with no transaction open makes no trip."""

    __slots__ = ()

    _cursor_cls = OneTripCursor

    def rollback(self) -> None:
        driver = self._connection._connection
        if driver is not None and not driver.in_transaction:
            return
        super().rollback()


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock._connection)


def dbapi() -> OneTripDbapi:
    """The ``module`` argument of ``create_async_engine`` for an aiosqlite URL."""
    return OneTripDbapi(aiosqlite, sqlite3)
