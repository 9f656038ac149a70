"""Everything stored about one young person, read in one snapshot (for ``/mydata``).

Reads only rows tied to one enrolment id; nothing of anyone else can come back from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import alerts, checkins, enrolments, prompts
from storage.alerts import Alert
from storage.prompts import Prompt
from storage.records import Checkin, Enrolment
from storage.schema import checkins as checkins_table
from storage.schema import contact_requests, teams, update_recipients
from storage.schema import enrolments as enrolments_table


@dataclass(frozen=True, slots=True)
class CheckinData:
    checkin: Checkin
    answers: dict[str, int | None]


@dataclass(frozen=True, slots=True)
class PersonalData:
    """One young person's rows: enrolment, check-ins with answers, requests, alerts, prompts."""

    enrolment: Enrolment
    opened_at: datetime
    stopped_at: datetime | None
    team_name: str | None
    checkins: list[CheckinData]
    contact_requests: list[datetime]
    alerts: list[Alert]
    prompts: list[Prompt]
    updates_sent: list[datetime] = field(default_factory=list)
    """When each "you said, we did" update was sent to them."""


async def everything_about(conn: AsyncConnection, enrolment_id: int) -> PersonalData | None:
    """All stored data about this enrolment, or None when there is no such enrolment."""
    enrolment = await enrolments.by_id(conn, enrolment_id)
    if enrolment is None:
        return None
    row = (
        await conn.execute(
            select(enrolments_table.c.created_at, enrolments_table.c.stopped_at, teams.c.name)
            .select_from(
                enrolments_table.outerjoin(teams, enrolments_table.c.team_id == teams.c.id)
            )
            .where(enrolments_table.c.id == enrolment_id)
        )
    ).one()
    ids = await conn.scalars(
        select(checkins_table.c.id)
        .where(checkins_table.c.enrolment_id == enrolment_id)
        .order_by(checkins_table.c.id)
    )
    found: list[CheckinData] = []
    for checkin_id in list(ids):
        checkin = await checkins.by_id(conn, checkin_id)
        if checkin is not None:
            found.append(CheckinData(checkin, await checkins.answers_of(conn, checkin_id)))
    requests = await conn.scalars(
        select(contact_requests.c.created_at)
        .where(contact_requests.c.enrolment_id == enrolment_id)
        .order_by(contact_requests.c.id)
    )
    return PersonalData(
        enrolment=enrolment,
        opened_at=row.created_at,
        stopped_at=row.stopped_at,
        team_name=row.name,
        checkins=found,
        contact_requests=list(requests),
        alerts=await alerts.of_enrolment(conn, enrolment_id),
        prompts=await prompts.of_enrolment(conn, enrolment_id),
        updates_sent=list(
            await conn.scalars(
                select(update_recipients.c.sent_at)
                .where(
                    update_recipients.c.enrolment_id == enrolment_id,
                    update_recipients.c.sent_at.is_not(None),
                )
                .order_by(update_recipients.c.sent_at)
            )
        ),
    )
