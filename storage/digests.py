"""What digests and exports read: answers, population and comments, as plain records.

Only pseudonyms leave this module: never a chat id, never a label. Answers come from finished or
closed check-ins only, so an open check-in never moves a figure while it is being answered.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import reach
from storage.records import AnswerRecord, CommentRecord, PopulationRecord
from storage.schema import (
    answer_firsts,
    answers,
    checkins,
    enrolments,
    prompts,
    staff,
    teams,
)

_DONE = ("finished", "closed")
NO_TEAM = "(no team)"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def counted_answers() -> Select[tuple[Any, ...]]:
    """Answers in finished or closed check-ins, with what an :class:`AnswerRecord` holds; callers
    narrow it (by time for digests, by young person for the release ledger)."""
    return (
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
        .where(checkins.c.status.in_(_DONE))
    )


async def read_answers(conn: AsyncConnection, query: Select[tuple[Any, ...]]) -> list[AnswerRecord]:
    """Run a narrowed :func:`counted_answers` query."""
    result = await conn.execute(query)
    return [
        AnswerRecord(pseudonym, team or NO_TEAM, str(worker), checkpoint, item, value, at, counted)
        for pseudonym, team, worker, checkpoint, item, value, at, counted in result
    ]


async def answer_records(
    conn: AsyncConnection, until: datetime, since: datetime | None = None
) -> list[AnswerRecord]:
    """Every answer given in [since, until) in a finished or closed check-in, service-wide."""
    query = counted_answers().where(answers.c.answered_at < until)
    if since is not None:
        query = query.where(answers.c.answered_at >= since)
    return await read_answers(conn, query)


async def first_answers(conn: AsyncConnection, since: datetime) -> list[AnswerRecord]:
    """Who answered each checkpoint in the quarter starting at *since*: per young person and
    checkpoint their first answer (skips too) and when its check-in was counted (value, team
    and key worker left out), from the answer tallies (``answer_firsts``): one row per young
    person and checkpoint, not per answer."""
    f = answer_firsts.c
    query = (
        select(enrolments.c.pseudonym, f.checkpoint, f.answered_at, f.counted_at)
        .select_from(answer_firsts.join(enrolments, enrolments.c.id == f.enrolment_id))
        .where(f.quarter == since)
    )
    return [
        AnswerRecord(p, "", "", checkpoint, "", None, at, counted)
        for p, checkpoint, at, counted in await conn.execute(query)
    ]


async def population_records(
    conn: AsyncConnection, since: datetime, until: datetime, enrolment_id: int | None = None
) -> list[PopulationRecord]:
    """Everyone enrolled at some time in [since, until) (or only *enrolment_id*), with the
    checkpoints they were sent and their reach history (``storage/reach.py``)."""
    sent = (
        select(prompts.c.enrolment_id, prompts.c.checkpoint, prompts.c.sent_at)
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
            sent.c.sent_at,
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
    if enrolment_id is not None:
        query = query.where(enrolments.c.id == enrolment_id)
    people: dict[int, tuple[str, str, str, bool, set[str]]] = {}
    sent_at: dict[int, dict[str, datetime]] = {}
    for eid, pseudonym, team, worker, reachable, status, checkpoint, at in await conn.execute(
        query
    ):
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
            first = sent_at.setdefault(eid, {})
            if at is not None and (checkpoint not in first or at < first[checkpoint]):
                first[checkpoint] = at
    history = await reach.histories(conn, until)
    return [
        PopulationRecord(
            p,
            team,
            worker,
            reachable,
            frozenset(points),
            tuple(sorted(sent_at.get(e, {}).items())),
            tuple(history.get(e, ())),
        )
        for e, (p, team, worker, reachable, points) in people.items()
    ]


async def population_of(
    conn: AsyncConnection, enrolment_id: int, now: datetime
) -> PopulationRecord | None:
    """One young person as digests count them (read before ``/forgetme`` deletes their
    answers and when they were sent each check-in, to record where releases counted them)."""
    found = await population_records(conn, _EPOCH, now + timedelta(microseconds=1), enrolment_id)
    return found[0] if found else None


async def _comments(conn: AsyncConnection, *where: ColumnElement[bool]) -> list[CommentRecord]:
    """Free-text comments of finished check-ins that meet *where*."""
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
        .where(checkins.c.comment.is_not(None), checkins.c.status == "finished", *where)
    )
    return [
        CommentRecord(p, team or NO_TEAM, str(worker), text, bool(shared), at)
        for p, team, worker, text, shared, at in (await conn.execute(query))
    ]


async def comment_records(conn: AsyncConnection, until: datetime) -> list[CommentRecord]:
    """Free-text comments of finished check-ins (shared or not: the digest decides)."""
    return await _comments(conn, checkins.c.finished_at < until)


async def shared_comment_records(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[CommentRecord]:
    """The comments a digest of [since, until) may show: shared ones written in the window
    (what :func:`conversations.comments.shared_comments_released` keeps of
    :func:`comment_records`), by an index on (shared, finished_at), not every comment ever."""
    return await _comments(
        conn,
        checkins.c.shared.is_(True),
        checkins.c.finished_at >= since,
        checkins.c.finished_at < until,
    )


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
