"""Safeguarding alerts and safeguarding leads.

An alert is raised when a young person's free text matches a risk phrase and the service's policy
is ``alert_lead``. It keeps the words (the lead needs them) until the young person uses /forgetme
or the retention job runs; acknowledging and escalating are compare-and-sets, so two leads
pressing at once, or two bot processes escalating at once, record it only once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import StaffMember
from storage.schema import alerts, staff
from storage.staff import staff_by_id

FIRST, SECOND = 1, 2  # staff.safeguarding_lead


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    enrolment_id: int
    category: str
    source: str
    text: str | None
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    escalated_at: datetime | None
    rule: str | None = None  # the risk rule's id (conversations/safeguarding.py), no words


def _alert(m: RowMapping) -> Alert:
    return Alert(
        id=m["id"],
        enrolment_id=m["enrolment_id"],
        category=m["category"],
        source=m["source"],
        text=m["text"],
        created_at=m["created_at"],
        acknowledged_at=m["acknowledged_at"],
        acknowledged_by=m["acknowledged_by"],
        escalated_at=m["escalated_at"],
        rule=m["rule"],
    )


async def set_lead(conn: AsyncConnection, staff_id: int, rank: int | None) -> bool:
    """Make a staff member the (first or second) safeguarding lead, or neither; False if unknown."""
    if rank not in (FIRST, SECOND, None):
        raise ValueError("rank must be 1, 2 or None")
    result = await conn.execute(
        update(staff).where(staff.c.id == staff_id).values(safeguarding_lead=rank)
    )
    return result.rowcount == 1


async def lead_rank(conn: AsyncConnection, staff_id: int) -> int | None:
    rank = await conn.scalar(select(staff.c.safeguarding_lead).where(staff.c.id == staff_id))
    return None if rank is None else int(rank)


async def leads(conn: AsyncConnection, rank: int) -> list[StaffMember]:
    """The active staff who are leads of this rank (joined or not), in the order they were added."""
    ids = await conn.scalars(
        select(staff.c.id)
        .where(staff.c.safeguarding_lead == rank, staff.c.active.is_(True))
        .order_by(staff.c.id)
    )
    found = [await staff_by_id(conn, staff_id) for staff_id in ids]
    return [member for member in found if member is not None]


async def all_leads(conn: AsyncConnection) -> list[tuple[StaffMember, int]]:
    """Every active lead with their rank."""
    return [(m, FIRST) for m in await leads(conn, FIRST)] + [
        (m, SECOND) for m in await leads(conn, SECOND)
    ]


async def create(
    conn: AsyncConnection,
    *,
    enrolment_id: int,
    category: str,
    source: str,
    text: str,
    now: datetime,
    rule: str | None = None,
) -> int:
    result = await conn.execute(
        insert(alerts).values(
            enrolment_id=enrolment_id,
            category=category,
            source=source,
            text=text,
            created_at=now,
            rule=rule,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def by_id(conn: AsyncConnection, alert_id: int) -> Alert | None:
    row = (await conn.execute(select(alerts).where(alerts.c.id == alert_id))).first()
    return None if row is None else _alert(row._mapping)


async def acknowledge(conn: AsyncConnection, alert_id: int, staff_id: int, now: datetime) -> bool:
    """Record the first acknowledgement; False when it was already acknowledged."""
    result = await conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by=staff_id)
    )
    return result.rowcount == 1


async def due_for_escalation(conn: AsyncConnection, raised_before: datetime) -> list[Alert]:
    """Alerts raised before ``raised_before``, still unacknowledged and not yet escalated."""
    rows = await conn.execute(
        select(alerts)
        .where(
            alerts.c.acknowledged_at.is_(None),
            alerts.c.escalated_at.is_(None),
            alerts.c.created_at <= raised_before,
        )
        .order_by(alerts.c.id)
    )
    return [_alert(row._mapping) for row in rows]


async def mark_escalated(conn: AsyncConnection, alert_id: int, now: datetime) -> bool:
    """Claim an alert for escalation; False if another process (or an acknowledgement) won."""
    result = await conn.execute(
        update(alerts)
        .where(
            alerts.c.id == alert_id,
            alerts.c.escalated_at.is_(None),
            alerts.c.acknowledged_at.is_(None),
        )
        .values(escalated_at=now)
    )
    return result.rowcount == 1


async def of_enrolment(conn: AsyncConnection, enrolment_id: int) -> list[Alert]:
    rows = await conn.execute(
        select(alerts).where(alerts.c.enrolment_id == enrolment_id).order_by(alerts.c.id)
    )
    return [_alert(row._mapping) for row in rows]


async def remove_texts(conn: AsyncConnection, enrolment_id: int, *, delete_rows: bool) -> int:
    """Delete the words of a young person's alerts (or the alerts); returns how many had words."""
    with_text = await conn.scalar(
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.enrolment_id == enrolment_id, alerts.c.text.is_not(None))
    )
    if delete_rows:
        await conn.execute(delete(alerts).where(alerts.c.enrolment_id == enrolment_id))
    else:
        await conn.execute(
            update(alerts).where(alerts.c.enrolment_id == enrolment_id).values(text=None)
        )
    return int(with_text or 0)
