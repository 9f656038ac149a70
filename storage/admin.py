"""What admins change from Telegram: the staff list, ending staff access, and moving a young
person to another key worker. Reads and writes here never touch answers or free text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import part_tallies, reach
from storage.enrolments import ACTIVE, STOPPED
from storage.schema import enrolments, invites

# Young people an admin can move: enrolled, whether or not they paused their check-ins.
MOVABLE = (ACTIVE, STOPPED)


async def void_staff_invites(conn: AsyncConnection, staff_id: int, now: datetime) -> int:
    """Let every unused staff invite of this staff member expire now; how many there were."""
    result = await conn.execute(
        update(invites)
        .where(
            invites.c.staff_id == staff_id,
            invites.c.used_at.is_(None),
            invites.c.expires_at > now,
        )
        .values(expires_at=now)
    )
    return int(result.rowcount)


async def caseload_size(conn: AsyncConnection, key_worker_id: int) -> int:
    """How many enrolled (active or stopped) young people have this key worker now."""
    found = await conn.scalar(
        select(func.count())
        .select_from(enrolments)
        .where(enrolments.c.key_worker_id == key_worker_id, enrolments.c.status.in_(MOVABLE))
    )
    return int(found or 0)


async def movable_by_label(conn: AsyncConnection, label: str) -> list[int]:
    """Ids of the enrolled young people in the whole service with this label (any case)."""
    rows = await conn.execute(
        select(enrolments.c.id)
        .where(
            func.lower(enrolments.c.label) == label.lower(),
            enrolments.c.status.in_(MOVABLE),
        )
        .order_by(enrolments.c.id)
    )
    return [int(r.id) for r in rows]


async def movable_by_id(conn: AsyncConnection, enrolment_id: int) -> int | None:
    """``enrolment_id`` when that young person is enrolled (active or stopped), else None."""
    found = await conn.scalar(
        select(enrolments.c.id).where(
            enrolments.c.id == enrolment_id, enrolments.c.status.in_(MOVABLE)
        )
    )
    return None if found is None else int(found)


async def move_enrolment(
    conn: AsyncConnection,
    enrolment_id: int,
    key_worker_id: int,
    team_id: int | None,
    now: datetime | None = None,
) -> bool:
    """Give an enrolled young person a new key worker (and that key worker's team).

    Only the enrolment changes: each check-in keeps the key worker and team it was given when
    it started, so digests keep earlier answers with the earlier key worker. False when the
    young person is no longer enrolled.
    """
    result = await conn.execute(
        update(enrolments)
        .where(enrolments.c.id == enrolment_id, enrolments.c.status.in_(MOVABLE))
        .values(key_worker_id=key_worker_id, team_id=team_id)
    )
    if now is not None:  # the move in the reach history from now; the taking-part tallies follow
        await reach.note(conn, enrolment_id, now)
    else:  # recorded by the next reach catch-up
        await part_tallies.refresh(conn, enrolment_id)
    return result.rowcount == 1
