"""The database's health: for ``checkin-bot check`` (reachable, writable, migration state) and
for ``/healthz`` and ``/metrics`` (migrated to the newest revision, prompts in each status).

Nothing is changed: a SQLite file that does not exist yet is not created (only whether it could
be is looked at), migrations are not run, and the write test is a table created inside a
transaction that is rolled back.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database, sqlite_path
from storage.migrating import (
    MigrationState,
    alembic_config,
    current_revision,
    read_migration_state,
)
from storage.problems import describe
from storage.schema import prompts

MIN_FREE_BYTES = 1024 * 1024  # less than this free beside a SQLite file: it will soon fail


@dataclass(frozen=True)
class Health:
    """What ``check`` says about the database; ``problem`` is None when all is well."""

    problem: str | None
    state: MigrationState | None = None
    note: str | None = None


async def inspect(db: Database) -> Health:
    """Reachable, writable, and where it stands against the migrations."""
    path = sqlite_path(db.url)
    if path is not None:
        room = _room_for(path)
        if room is not None:
            return Health(room)
        if not path.exists():
            return Health(None, note="no database yet; 'checkin-bot run' creates it here")
        problem = db.open_problem()
        if problem is not None:
            return Health(problem)
    try:
        async with db.engine.connect() as conn:
            state = await conn.run_sync(read_migration_state)
            try:
                await conn.execute(text("CREATE TABLE checkin_write_test (x INTEGER)"))
            except DBAPIError as exc:
                return Health(f"cannot be written: {describe(exc) or type(exc).__name__}", state)
            finally:
                await conn.rollback()
    except DBAPIError as exc:
        return Health(describe(exc) or f"cannot be opened ({type(exc).__name__})")
    return Health(None, state)


def _room_for(path: Path) -> str | None:
    """Why a SQLite file there cannot be written, judged from its folder, or None."""
    folder = path.resolve().parent
    while not folder.exists():
        folder = folder.parent
    if not os.access(folder, os.W_OK) and not path.exists():
        return f"its folder {folder} cannot be written"
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        return f"the disk is full ({free // 1024} KiB free where it is kept)"
    return None


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migrations_current(conn: AsyncConnection) -> bool:
    """True when the database is at the newest migration."""
    return await current_revision(conn) == head_revision()


async def prompt_counts(conn: AsyncConnection) -> dict[str, int]:
    """How many prompts are in each status."""
    rows = await conn.execute(select(prompts.c.status, func.count()).group_by(prompts.c.status))
    return {str(status): int(count) for status, count in rows}
