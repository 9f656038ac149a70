"""Retention: when each young person was last active, and removing what identifies them.

Only identifying data goes: the chat id, label (also on the invite), language, time zone, free
text (comments and the words of safeguarding alerts) and "please get in touch" requests; and the
labels of invites that expired unused. Scale answers stay, tied to a
new random pseudonym, for anonymous trends (as ``/forgetme`` with "keep my answers").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import enrolments
from storage.schema import UTCDateTime, alerts, answers, checkins, contact_requests, invites
from storage.schema import enrolments as enrolments_table


@dataclass(frozen=True, slots=True)
class Activity:
    """One young person's exit and the last time they did anything the database records."""

    enrolment_id: int
    exit_at: datetime | None
    last_active: datetime


@dataclass(frozen=True, slots=True)
class Removed:
    """What the removal of one or more young people's identifying data took away (counts)."""

    people: int = 0
    comments: int = 0
    alert_texts: int = 0
    contact_requests: int = 0
    invite_labels: int = 0

    def __add__(self, other: Removed) -> Removed:
        return Removed(
            self.people + other.people,
            self.comments + other.comments,
            self.alert_texts + other.alert_texts,
            self.contact_requests + other.contact_requests,
            self.invite_labels + other.invite_labels,
        )


async def activities(conn: AsyncConnection) -> list[Activity]:
    """Every young person not yet forgotten, with their exit and their last activity.

    Activity is joining, agreeing, /stop, answering, finishing a check-in, asking to be contacted
    and writing something that raised an alert: things the young person did, not prompts sent.
    """
    last_answer = (
        select(checkins.c.enrolment_id, func.max(answers.c.answered_at).label("at"))
        .select_from(answers.join(checkins, answers.c.checkin_id == checkins.c.id))
        .group_by(checkins.c.enrolment_id)
        .subquery()
    )
    last_finish = (
        select(checkins.c.enrolment_id, func.max(checkins.c.finished_at).label("at"))
        .group_by(checkins.c.enrolment_id)
        .subquery()
    )
    last_request = (
        select(contact_requests.c.enrolment_id, func.max(contact_requests.c.created_at).label("at"))
        .group_by(contact_requests.c.enrolment_id)
        .subquery()
    )
    last_alert = (
        select(alerts.c.enrolment_id, func.max(alerts.c.created_at).label("at"))
        .group_by(alerts.c.enrolment_id)
        .subquery()
    )
    e = enrolments_table
    joined: Any = e
    for sub in (last_answer, last_finish, last_request, last_alert):
        joined = joined.outerjoin(sub, sub.c.enrolment_id == e.c.id)
    rows = await conn.execute(
        select(
            e.c.id,
            e.c.exit_at,
            e.c.created_at,
            e.c.enrolled_at,
            e.c.stopped_at,
            last_answer.c.at.label("answer"),
            last_finish.c.at.label("finish"),
            last_request.c.at.label("request"),
            last_alert.c.at.label("alert"),
        )
        .select_from(joined)
        .where(e.c.status != enrolments.FORGOTTEN)
        .order_by(e.c.id)
    )
    found = []
    for row in rows:
        moments = [row.created_at, row.enrolled_at, row.stopped_at]
        moments += [_utc(row.answer), _utc(row.finish), _utc(row.request), _utc(row.alert)]
        last = max(m for m in moments if m is not None)
        found.append(Activity(row.id, row.exit_at, last))
    return found


def _utc(value: object) -> datetime | None:
    """``max()`` over a UTCDateTime column comes back untyped: read it as UTC."""
    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


async def remove_identifying(conn: AsyncConnection, enrolment_id: int, now: datetime) -> Removed:
    """Remove one young person's identifying data, keeping their answers anonymously."""
    comments = await conn.scalar(
        select(func.count())
        .select_from(checkins)
        .where(checkins.c.enrolment_id == enrolment_id, checkins.c.comment.is_not(None))
    )
    requests = await conn.scalar(
        select(func.count())
        .select_from(contact_requests)
        .where(contact_requests.c.enrolment_id == enrolment_id)
    )
    texts = await conn.scalar(
        select(func.count())
        .select_from(alerts)
        .where(alerts.c.enrolment_id == enrolment_id, alerts.c.text.is_not(None))
    )
    await enrolments.forget(conn, enrolment_id, keep_answers=True, now=now)
    return Removed(1, int(comments or 0), int(texts or 0), int(requests or 0))


async def clear_expired_invite_labels(conn: AsyncConnection, now: datetime) -> Removed:
    """Labels on invites nobody used before they expired: they can never be used now."""
    result = await conn.execute(
        update(invites)
        .where(
            invites.c.used_at.is_(None), invites.c.expires_at < now, invites.c.label.is_not(None)
        )
        .values(label=None)
    )
    return Removed(invite_labels=result.rowcount)
