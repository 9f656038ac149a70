"""Handled updates: a Telegram update's id, recorded in the same transaction as its effect.

Telegram delivers an update again when it got no 200 (a webhook process died, or answered too
late), possibly to another process, possibly while the first is still handling it. A handler that
creates or sends something calls :func:`first_time` inside the transaction that makes the effect:
only the first delivery records the id and goes on; every other delivery finds it and does
nothing. The insert conflicts on the primary key, so two deliveries racing in two processes
serialise on it (SQLite's write lock; PostgreSQL's unique index waits for the first to commit).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.schema import handled_updates

KEEP_DAYS = 7
"""Telegram keeps an unconfirmed update for 24 hours; ids are kept a week, then forgotten."""


async def first_time(conn: AsyncConnection, update_id: int | None, now: datetime) -> bool:
    """Record ``update_id`` as handled in this transaction; False when it already was (a
    redelivery: do nothing). An update without an id (a job, a test) is always the first."""
    if update_id is None:
        return True
    statement = (
        upsert(conn, handled_updates)
        .values(update_id=update_id, handled_at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
    result = await conn.execute(statement)
    return bool(result.rowcount == 1)


async def forget_before(conn: AsyncConnection, cutoff: datetime) -> int:
    """Forget ids handled before ``cutoff``; how many."""
    result = await conn.execute(
        delete(handled_updates).where(handled_updates.c.handled_at < cutoff)
    )
    return int(result.rowcount or 0)
