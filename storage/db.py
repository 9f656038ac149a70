"""The database connection: engine creation, SQLite pragmas, and migrations.

SQLite runs in WAL mode with foreign keys on and a busy timeout, so one writer and many readers
work side by side and a briefly locked database waits rather than fails. Migrations are Alembic's,
numbered in ``storage/migrations/versions``, and applied by :meth:`Database.migrate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def upsert(conn: AsyncConnection, table: Table) -> Any:
    """An INSERT with ``on_conflict_do_*`` for the connection's dialect (SQLite, PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
            pool_reset_on_return=None,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the database up to the newest migration."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
        await connection.commit()


def _upgrade(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def current_revision(connection: AsyncConnection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _read(sync: Connection) -> str | None:
        return MigrationContext.configure(sync).get_current_revision()

    return await connection.run_sync(_read)


class Database:
    """The one handle on the database: write transactions and read-only snapshots."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)

    async def migrate(self) -> None:
        await migrate(self.engine)

    def transaction(self) -> _Transaction:
        """``async with db.transaction() as conn``: one atomic unit of work (commits on success)."""
        return _Transaction(self.engine, read_only=False)

    def read(self) -> _Transaction:
        """``async with db.read() as conn``: a consistent read that never blocks writers."""
        return _Transaction(self.engine, read_only=True)

    async def close(self) -> None:
        await self.engine.dispose()


class _Transaction:
    def __init__(self, engine: AsyncEngine, *, read_only: bool) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        connection = await self._engine.connect()
        if self._read_only:
            connection = await connection.execution_options(read_only=True)
        await connection.begin()
        self._connection = connection
        return connection

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._connection is not None
        try:
            if exc_type is None and not self._read_only:
                await self._connection.commit()
            else:
                await self._connection.rollback()
        finally:
            await self._connection.close()
