"""Named leases shared by the bot processes of one service (the ``leases`` table).

A lease is held by one process (``holder``) until ``expires_at``; the holder renews it while it
works, and any other process may take it once it has expired (its holder died or hung). One
upsert does both, atomically on SQLite and PostgreSQL, so two processes never both hold it.
``fan_out`` is the one in use: its holder alone sends checkpoint prompts, so the whole service
keeps to one send budget.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import upsert
from storage.schema import leases

FAN_OUT = "fan_out"


async def take(
    conn: AsyncConnection, name: str, *, holder: str, now: datetime, ttl: timedelta
) -> Literal["taken", "renewed"] | None:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``: ``"renewed"`` when
    ``holder`` already held it, ``"taken"`` when it was free, expired or released, and None when
    another process holds it."""
    before = (
        await conn.execute(select(leases.c.holder).where(leases.c.name == name))
    ).scalar_one_or_none()
    statement = upsert(conn, leases).values(name=name, holder=holder[:64], expires_at=now + ttl)
    result = await conn.execute(
        statement.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": holder[:64], "expires_at": now + ttl},
            where=or_(leases.c.holder == holder[:64], leases.c.expires_at <= now),
        )
    )
    if result.rowcount != 1:
        return None
    return "renewed" if before == holder[:64] else "taken"


async def release(conn: AsyncConnection, name: str, *, holder: str) -> None:
    """Give the lease up (a clean shutdown), so another process takes it at once."""
    await conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder[:64]))


async def holder_of(conn: AsyncConnection, name: str, now: datetime) -> str | None:
    """Who holds the lease now (None: nobody, or it has expired)."""
    row = (
        await conn.execute(
            select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at > now)
        )
    ).first()
    return None if row is None else str(row[0])
