"""One SQLite connection on the event-loop thread, for the few statements of a button press.

aiosqlite runs every statement in its own thread: a press's handful of statements cost a few
dozen hand-overs between threads, and SQLAlchemy builds and reads each one. A press's statements
take microseconds in SQLite itself, so :mod:`storage.press_store` runs them here instead,
synchronously, on a dedicated :mod:`sqlite3` connection of the event loop's own, with SQL text
that SQLite prepares once and caches.

Three rules keep the event loop from ever waiting on the database:

- **no busy timeout**: ``BEGIN IMMEDIATE`` fails at once when another connection (another
  process, a ``checkin-bot`` command, the bot's own worker-thread connections) holds the write
  lock; :class:`Busy` is raised and the caller runs the same transaction on the worker thread
  (the ordinary :meth:`storage.db.Database.transaction`, which waits and retries there);
- **no checkpoint inside a commit**: ``wal_autocheckpoint=0`` here; every
  :data:`CHECKPOINT_EVERY` commits a ``PRAGMA wal_checkpoint(PASSIVE)`` runs on a worker thread
  with a connection of its own (a passive checkpoint never takes the write lock);
- **no transaction spans an await**: the caller runs the whole transaction body without
  suspending (:func:`storage.press_store.run_press` refuses a body that would).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 250
"""Commits between two background checkpoints (a press writes about four pages: SQLite's own
automatic checkpoint comes every 1000 pages)."""

CHECKPOINT_BUSY_MS = 5000
"""The checkpointing thread's busy timeout (it may wait: it is not the event loop)."""


class Busy(Exception):
    """Another connection holds SQLite's write lock (or the file is briefly unreadable): run the
    transaction on the worker thread instead."""


def is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED: another connection is in the way."""
    said = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in said or "busy" in said)


class LoopConnection:
    """The event loop's own connection to one SQLite file (opened at first use)."""

    def __init__(self, path: Path, *, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.path = path
        self.checkpoint_every = max(1, checkpoint_every)
        self._connection: sqlite3.Connection | None = None
        self._commits = 0
        self._checkpointing: asyncio.Future[Any] | None = None
        self.fallbacks = 0
        """Transactions handed to the worker thread because the database was busy."""
        self.handovers = 0
        """Presses handed to the worker thread because they finish a check-in (the answer
        tallies are counted there, ``storage.press_store.HandOver``)."""
        self.checkpoints = 0
        """Background checkpoints finished."""

    def connection(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
            try:
                connection.execute("PRAGMA busy_timeout=0")
                connection.execute("PRAGMA journal_mode=WAL")  # as the engine's connections
                connection.execute("PRAGMA foreign_keys=ON")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("PRAGMA wal_autocheckpoint=0")
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def begin(self) -> sqlite3.Connection:
        """Take the write lock now, or raise :class:`Busy` without waiting."""
        try:
            connection = self.connection()
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if is_busy(exc):
                raise Busy(str(exc)) from exc
            raise
        return connection

    def commit(self) -> None:
        assert self._connection is not None
        self._connection.execute("COMMIT")
        self._commits += 1
        if self._commits % self.checkpoint_every == 0:
            self._start_checkpoint()

    def rollback(self) -> None:
        """End a failed transaction; a connection that cannot even roll back is closed (SQLite
        rolls it back) and a new one opened for the next press."""
        connection = self._connection
        if connection is None or not connection.in_transaction:
            return
        try:
            connection.execute("ROLLBACK")
        except sqlite3.Error:
            self._connection = None
            connection.close()

    def _start_checkpoint(self) -> None:
        if self._checkpointing is not None and not self._checkpointing.done():
            return  # the last one is still running: the next commits catch up
        loop = asyncio.get_running_loop()
        self._checkpointing = loop.run_in_executor(None, self._checkpoint)
        self._checkpointing.add_done_callback(self._checkpointed)

    def _checkpoint(self) -> None:
        """On a worker thread: copy the WAL into the database file (PASSIVE: without taking
        the write lock, so writers carry on)."""
        connection = sqlite3.connect(self.path, timeout=CHECKPOINT_BUSY_MS / 1000)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()

    def _checkpointed(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        failure = future.exception()
        if failure is None:
            self.checkpoints += 1
        else:  # the next one tries again; SQLite's other connections checkpoint too
            log.warning("a background WAL checkpoint failed: %s", type(failure).__name__)

    async def close(self) -> None:
        """Wait for a running checkpoint, then close the connection."""
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
            self._checkpointing = None
        if self._connection is not None:
            self.rollback()
            self._connection.close()
            self._connection = None
