"""What digests and exports read: answers, population and comments, as plain records.

Only pseudonyms leave this module: never a chat id, never a label. Answers come from finished or
closed check-ins only, so an open check-in never moves a figure while it is being answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.records import AnswerRecord, CommentRecord, PopulationRecord
from storage.schema import answers, checkins, enrolments, prompts, staff, teams

_DONE = ("finished", "closed")
NO_TEAM = "(no team)"


async def answer_records(
    conn: AsyncConnection, until: datetime, since: datetime | None = None
) -> list[AnswerRecord]:
    """Every answer given in [since, until) in a finished or closed check-in, service-wide."""
    query = (
        select(
            enrolments.c.pseudonym,
            teams.c.name,
            checkins.c.key_worker_id,
            checkins.c.checkpoint,
            answers.c.item_id,
            answers.c.value,
            answers.c.answered_at,
            checkins.c.finished_at,
        )
        .select_from(
            answers.join(checkins, answers.c.checkin_id == checkins.c.id)
            .join(enrolments, checkins.c.enrolment_id == enrolments.c.id)
            .outerjoin(teams, checkins.c.team_id == teams.c.id)
        )
        .where(checkins.c.status.in_(_DONE), answers.c.answered_at < until)
    )
    if since is not None:
        query = query.where(answers.c.answered_at >= since)
    result = await conn.execute(query)
    return [
        AnswerRecord(pseudonym, team or NO_TEAM, str(worker), checkpoint, item, value, at, counted)
        for pseudonym, team, worker, checkpoint, item, value, at, counted in result
    ]


def _in_window(since: datetime, until: datetime) -> Any:
    return and_(
        enrolments.c.enrolled_at < until,
        or_(enrolments.c.exit_at.is_(None), enrolments.c.exit_at >= since),
        enrolments.c.status != "pending",
    )


async def reach_counts(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[tuple[str, str, int, int]]:
    """Per key worker: ``(team, key_worker, young people, unreachable)`` among everyone enrolled
    at some time in [since, until) (as :func:`population_records` counts them), counted by the
    database: one row per key worker."""
    unreachable = case(
        (and_(enrolments.c.reachable.is_(True), enrolments.c.status == "active"), 0), else_=1
    )
    query = (
        select(
            teams.c.name,
            enrolments.c.key_worker_id,
            func.count(),
            func.sum(unreachable),
        )
        .select_from(enrolments.outerjoin(teams, enrolments.c.team_id == teams.c.id))
        .where(_in_window(since, until))
        .group_by(enrolments.c.team_id, teams.c.name, enrolments.c.key_worker_id)
    )
    return [
        (team or NO_TEAM, str(worker), int(n), int(off or 0))
        for team, worker, n, off in await conn.execute(query)
    ]


async def response_counts(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[tuple[str, str, str, int, int]]:
    """Per key worker and checkpoint: ``(team, key_worker, checkpoint, prompted, answered)``:
    of those enrolled during [since, until) and prompted before *until*, how many answered
    something (a skip too) in the window in a finished or closed check-in. One row per key
    worker and checkpoint; each prompted young person costs an index look-up, never a scan of
    the answers."""
    answered = (
        select(literal(1))
        .select_from(answers.join(checkins, answers.c.checkin_id == checkins.c.id))
        .where(
            checkins.c.enrolment_id == enrolments.c.id,
            checkins.c.checkpoint == prompts.c.checkpoint,
            checkins.c.status.in_(_DONE),
            answers.c.answered_at >= since,
            answers.c.answered_at < until,
        )
        .exists()
    )
    query = (
        select(
            teams.c.name,
            enrolments.c.key_worker_id,
            prompts.c.checkpoint,
            func.count(),
            func.sum(case((answered, 1), else_=0)),
        )
        .select_from(
            enrolments.join(prompts, prompts.c.enrolment_id == enrolments.c.id).outerjoin(
                teams, enrolments.c.team_id == teams.c.id
            )
        )
        .where(_in_window(since, until), prompts.c.sent_at.is_not(None), prompts.c.sent_at < until)
        .group_by(
            enrolments.c.team_id, teams.c.name, enrolments.c.key_worker_id, prompts.c.checkpoint
        )
    )
    return [
        (team or NO_TEAM, str(worker), checkpoint, int(n), int(yes or 0))
        for team, worker, checkpoint, n, yes in await conn.execute(query)
    ]


async def population_records(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[PopulationRecord]:
    """Everyone enrolled at some time in [since, until), with the checkpoints they were sent."""
    sent = (
        select(prompts.c.enrolment_id, prompts.c.checkpoint)
        .where(prompts.c.sent_at.is_not(None), prompts.c.sent_at < until)
        .subquery()
    )
    query = (
        select(
            enrolments.c.id,
            enrolments.c.pseudonym,
            teams.c.name,
            enrolments.c.key_worker_id,
            enrolments.c.reachable,
            enrolments.c.status,
            sent.c.checkpoint,
        )
        .select_from(
            enrolments.outerjoin(teams, enrolments.c.team_id == teams.c.id).outerjoin(
                sent, sent.c.enrolment_id == enrolments.c.id
            )
        )
        .where(
            enrolments.c.enrolled_at < until,
            or_(enrolments.c.exit_at.is_(None), enrolments.c.exit_at >= since),
            enrolments.c.status != "pending",
        )
    )
    people: dict[int, tuple[str, str, str, bool, set[str]]] = {}
    for eid, pseudonym, team, worker, reachable, status, checkpoint in await conn.execute(query):
        entry = people.setdefault(
            eid,
            (
                pseudonym,
                team or NO_TEAM,
                str(worker),
                bool(reachable) and status == "active",
                set(),
            ),
        )
        if checkpoint is not None:
            entry[4].add(checkpoint)
    return [
        PopulationRecord(p, team, worker, reachable, frozenset(points))
        for p, team, worker, reachable, points in people.values()
    ]


async def comment_records(
    conn: AsyncConnection,
    until: datetime,
    since: datetime | None = None,
    *,
    shared_only: bool = False,
) -> list[CommentRecord]:
    """Free-text comments of check-ins finished in [since, until) (shared or not: the digest
    decides; *shared_only*: only those shared, the only ones a digest can show)."""
    query = (
        select(
            enrolments.c.pseudonym,
            teams.c.name,
            checkins.c.key_worker_id,
            checkins.c.comment,
            checkins.c.shared,
            checkins.c.finished_at,
        )
        .select_from(
            checkins.join(enrolments, checkins.c.enrolment_id == enrolments.c.id).outerjoin(
                teams, checkins.c.team_id == teams.c.id
            )
        )
        .where(
            checkins.c.comment.is_not(None),
            checkins.c.status == "finished",
            checkins.c.finished_at < until,
            checkins.c.finished_at >= since if since is not None else true(),
            checkins.c.shared.is_(True) if shared_only else true(),
        )
    )
    return [
        CommentRecord(p, team or NO_TEAM, str(worker), text, bool(shared), at)
        for p, team, worker, text, shared, at in (await conn.execute(query))
    ]


async def team_names(conn: AsyncConnection) -> list[str]:
    return list((await conn.scalars(select(teams.c.name).order_by(teams.c.name))).all())


async def digest_recipients(conn: AsyncConnection, frequency: str) -> list[tuple[int, str | None]]:
    """Active, joined staff who get a digest at ``frequency``: (id, time zone)."""
    rows = await conn.execute(
        select(staff.c.id, staff.c.timezone).where(
            staff.c.active.is_(True),
            staff.c.chat_id.is_not(None),
            staff.c.digest_frequency == frequency,
        )
    )
    return [(i, tz) for i, tz in rows]


async def last_digest_at(conn: AsyncConnection, staff_id: int) -> datetime | None:
    value = await conn.scalar(select(staff.c.last_digest_at).where(staff.c.id == staff_id))
    return value if isinstance(value, datetime) else None


async def mark_digest_sent(
    conn: AsyncConnection, staff_id: int, at: datetime, previous: datetime | None
) -> bool:
    """Record a scheduled digest; False if another process recorded it first."""
    condition = (
        staff.c.last_digest_at.is_(None) if previous is None else staff.c.last_digest_at == previous
    )
    result = await conn.execute(
        update(staff).where(and_(staff.c.id == staff_id, condition)).values(last_digest_at=at)
    )
    return result.rowcount == 1


async def set_digest_frequency(conn: AsyncConnection, staff_id: int, frequency: str) -> None:
    await conn.execute(
        update(staff).where(staff.c.id == staff_id).values(digest_frequency=frequency)
    )


async def digest_frequency(conn: AsyncConnection, staff_id: int) -> str:
    value = await conn.scalar(select(staff.c.digest_frequency).where(staff.c.id == staff_id))
    return str(value or "weekly")
