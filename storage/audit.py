"""The audit log: every staff action that reads or changes data, with who, when and what scope."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import audit_log


async def record(
    conn: AsyncConnection, *, actor: str, action: str, scope: str, now: datetime
) -> None:
    """Append one line to the audit log (never message text, never a chat id)."""
    await conn.execute(
        insert(audit_log).values(at=now, actor=actor[:64], action=action[:32], scope=scope[:128])
    )


async def by_staff(
    conn: AsyncConnection, staff_id: int, *, action: str, scope: str, now: datetime
) -> None:
    """Append what staff member ``staff_id`` did (actor ``staff:<id>``)."""
    await record(conn, actor=f"staff:{staff_id}", action=action, scope=scope, now=now)


async def by_system(conn: AsyncConnection, *, action: str, scope: str, now: datetime) -> None:
    """Append what the bot did by itself (actor ``system``): a scheduled send, retention."""
    await record(conn, actor="system", action=action, scope=scope, now=now)


async def entries(conn: AsyncConnection, limit: int = 100) -> list[tuple[datetime, str, str, str]]:
    rows = await conn.execute(
        select(audit_log.c.at, audit_log.c.actor, audit_log.c.action, audit_log.c.scope)
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    return [(r.at, r.actor, r.action, r.scope) for r in rows]


async def last_time(conn: AsyncConnection, *, actor: str, action: str) -> datetime | None:
    """When ``actor`` last did ``action`` (None if never)."""
    found = await conn.scalar(
        select(audit_log.c.at)
        .where(audit_log.c.actor == actor[:64], audit_log.c.action == action[:32])
        .order_by(audit_log.c.id.desc())
        .limit(1)
    )
    return found if isinstance(found, datetime) else None
