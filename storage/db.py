"""The database connection: engine creation, SQLite pragmas, transactions and their errors.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so one writer and many readers
work side by side and a briefly locked database waits rather than fails. A write transaction that
still finds the database locked (another process holding it) is retried a few times with back-off
before it gives up; a database that stays locked, or a full disk, ends the transaction with a
:class:`core.errors.StorageError` whose message says which, after rolling back everything the
transaction did. Migrations (``storage/migrating.py``) are applied by :meth:`Database.migrate`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from core.errors import DatabaseUnavailable, StorageError
from storage.loop_sqlite import LoopConnection
from storage.migrating import migrate
from storage.problems import describe, is_transient

log = logging.getLogger(__name__)


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT with ``on_conflict_do_*`` for the connection's dialect (SQLite, PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


BUSY_TIMEOUT_MS = 5000
LOCK_ATTEMPTS = 3  # tries at taking the write lock, each waiting up to the busy timeout
LOCK_BACKOFF_S = 0.2  # then 0.4, 0.8, ... between tries


def create_engine(url: str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    Every transaction ends in an explicit commit or rollback (:class:`_Transaction`), so the pool
    does not roll back again when a connection is returned (one round trip to SQLite's thread
    fewer per transaction); a connection whose commit or rollback failed is discarded instead.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": busy_timeout_ms / 1000, "isolation_level": None},
            pool_reset_on_return=None,
        )

        def pragmas(dbapi_connection: Any, record: Any) -> None:
            _sqlite_pragmas(dbapi_connection, record, busy_timeout_ms)

        event.listen(engine.sync_engine, "connect", pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(
    dbapi_connection: Any, _record: Any, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN, so two writers queue instead of failing mid-transaction.

    Reads opened with ``execution_options(read_only=True)`` begin deferred and never wait.
    """
    if connection.get_execution_options().get("read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_path(url: str) -> Path | None:
    """The SQLite file a URL names, or None (another database, or in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def describe_url(url: str) -> str:
    """The database as an operator names it: a SQLite file's path, or host and database name
    (never a password)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "not a URL"
    if parsed.get_backend_name() == "sqlite":
        return str(Path(parsed.database or ":memory:").resolve()) if parsed.database else ":memory:"
    host = parsed.host or "localhost"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


def storage_problem(exc: BaseException) -> str | None:
    """What an operator should read for a database error we know, or None for any other."""
    return describe(exc)


def connection_problem(exc: BaseException, url: str) -> str | None:
    """One line for an operator when a PostgreSQL server cannot be reached or refuses us
    (naming ``CHECKIN_DATABASE_URL``, the server and the reason, never the password), or None
    for any other error."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return None
    where = (
        f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}, "
        f"database {parsed.database or '(default)'}, user {parsed.username or '(default)'}"
    )
    if isinstance(exc, ConnectionRefusedError):
        reason = "connection refused (is the server running, and is the port right?)"
    elif isinstance(exc, socket.gaierror):
        reason = "unknown host name"
    elif isinstance(exc, (TimeoutError, OSError)):
        reason = f"cannot reach the server ({exc.strerror or type(exc).__name__})"
    elif isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        if "password" in text:
            reason = "password authentication failed (check the user and password)"
        elif "database" in text and "does not exist" in text:
            reason = "the database does not exist (create it first: createdb)"
        elif "role" in text and "does not exist" in text:
            reason = "the user does not exist on the server"
        elif "permission denied" in text:
            reason = "the user may not create tables here (make it the database's owner)"
        elif exc.connection_invalidated or _disconnected(text):
            reason = "the connection to the server was lost"
        else:
            return None
    else:
        return None
    return f"CHECKIN_DATABASE_URL: {where}: {reason}"


def _disconnected(text: str) -> bool:
    return any(
        words in text
        for words in (
            "connection is closed",
            "connection was closed",
            "connection does not exist",
            "terminating connection",
            "shutting down",
            "starting up",
            "connection refused",
        )
    )


def _is_locked(exc: BaseException) -> bool:
    return is_transient(exc)


class Database:
    """The one handle on the database: write transactions and read-only snapshots."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int | None = None,
        lock_attempts: int | None = None,
        lock_backoff_s: float | None = None,
        presses_on_loop: bool = True,
        presses_on_driver: bool = True,
    ) -> None:
        self.url = url
        self.where = describe_url(url)
        try:
            self.engine = create_engine(url, busy_timeout_ms=busy_timeout_ms or BUSY_TIMEOUT_MS)
        except Exception as exc:
            problem = describe(exc)
            if problem is None:
                raise
            raise self.start_up_error(problem) from None
        self.lock_attempts = max(1, lock_attempts or LOCK_ATTEMPTS)
        self.lock_backoff_s = LOCK_BACKOFF_S if lock_backoff_s is None else lock_backoff_s
        path = sqlite_path(url) if presses_on_loop else None
        self.loop = None if path is None else LoopConnection(path)
        """The event loop's own connection to a SQLite file, for button presses
        (:mod:`storage.press_store`); None on PostgreSQL, in memory, or when turned off."""
        self.presses_on_driver = presses_on_driver and self.engine.dialect.driver == "asyncpg"
        """Button presses run as fixed SQL text on the pool's asyncpg connection
        (:mod:`storage.press_pg`); False on SQLite, another driver, or when turned off."""
        self.handovers = 0
        """Presses handed from there to an ordinary transaction because they finish a
        check-in (``storage.press_sql.HandOver``)."""

    def start_up_error(self, problem: str) -> StorageError:
        """A problem met while opening the database, as the one line an operator reads."""
        return StorageError(f"CHECKIN_DATABASE_URL ({self.where}): {problem}")

    async def migrate(self, target: str = "head") -> None:
        """Bring the database up to date; a problem is one :class:`StorageError` line naming
        the setting, the database and the cause."""
        problem = await asyncio.to_thread(self.open_problem)
        if problem is not None:
            raise self.start_up_error(problem)
        try:
            await migrate(self.engine, target)
        except StorageError as exc:  # migrated by a newer version
            raise self.start_up_error(str(exc)) from None
        except (DBAPIError, OSError) as exc:
            unreachable = connection_problem(exc, self.url)
            if unreachable is not None:
                raise DatabaseUnavailable(unreachable) from None
            problem = describe(exc)
            if problem is None:
                raise
            raise self.start_up_error(problem) from None

    def open_problem(self) -> str | None:
        """Why a SQLite file cannot be opened and read, found with the standard library first.

        A connection that fails while aiosqlite opens it leaves aiosqlite's worker thread to
        stop on its own, after the event loop may have closed (it then prints a traceback); this
        finds the same problems (a file that is not a database, a folder that cannot be written)
        without starting that thread. Creates the file where it may, as opening it would.
        """
        path = sqlite_path(self.url)
        if path is None:
            return None
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("PRAGMA schema_version").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            return describe(exc)
        return None

    def transaction(self) -> _Transaction:
        """``async with db.transaction() as conn``: one atomic unit of work (commits on success).

        Raises :class:`StorageError` (after rolling back) when the database stays locked by
        another writer through every retry, or the disk is full.
        """
        return _Transaction(self, read_only=False)

    def read(self) -> _Transaction:
        """``async with db.read() as conn``: a consistent read that never blocks writers."""
        return _Transaction(self, read_only=True)

    async def close(self) -> None:
        if self.loop is not None:
            await self.loop.close()
        await self.engine.dispose()


class _Transaction:
    def __init__(self, db: Database, *, read_only: bool) -> None:
        self._db = db
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        db = self._db
        for attempt in range(db.lock_attempts):
            connection = await _connect(db)
            try:
                if self._read_only:
                    connection = await connection.execution_options(read_only=True)
                await connection.begin()
            except (DBAPIError, OSError) as exc:
                await _discard(connection)
                if _is_locked(exc) and attempt + 1 < db.lock_attempts:
                    log.warning(
                        "the database is locked by another writer; retrying (%d of %d)",
                        attempt + 2,
                        db.lock_attempts,
                    )
                    await asyncio.sleep(db.lock_backoff_s * 2**attempt)
                    continue
                raise_mapped(exc, db.url)
                raise
            self._connection = connection
            return connection
        raise AssertionError("unreachable")  # pragma: no cover

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        connection = self._connection
        assert connection is not None
        self._connection = None
        try:
            if exc_type is None and not self._read_only:
                await connection.commit()
            else:
                await connection.rollback()
        except (DBAPIError, OSError) as failure:
            await _discard(connection)
            raise_mapped(failure, self._db.url)
            raise
        except BaseException:
            await _discard(connection)
            raise
        await connection.close()
        if isinstance(exc, BaseException):
            raise_mapped(exc, self._db.url)


async def _connect(db: Database) -> AsyncConnection:
    try:
        return await db.engine.connect()
    except (DBAPIError, OSError) as exc:
        raise_mapped(exc, db.url)
        raise


async def _discard(connection: AsyncConnection) -> None:
    """Drop a connection whose state is unknown (its transaction may still be open)."""
    try:
        await connection.invalidate()
    finally:
        await connection.close()


def raise_mapped(exc: BaseException, url: str = "") -> None:
    """Raise a :class:`StorageError` with an operator's message for a known problem
    (:class:`DatabaseUnavailable` when a PostgreSQL server cannot be reached)."""
    unreachable = connection_problem(exc, url) if url else None
    if unreachable is not None:  # whoever catches it says so once (the CLI, the polling loop)
        raise DatabaseUnavailable(unreachable) from exc
    problem = storage_problem(exc)
    if problem is not None:
        log.error("database problem: %s", problem)
        raise StorageError(problem) from exc
