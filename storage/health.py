"""What ``/healthz`` and ``/metrics`` read: is the database reachable and migrated, and how many
prompts are in each status."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import alembic_config, current_revision
from storage.schema import prompts


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
