"""Prompts: the scheduler's durable state, one row per (young person, checkpoint).

The unique (enrolment, checkpoint) pair means each checkpoint is prompted at most once, across
restarts and processes. ``next_check_at`` says when the scheduler should look at a row again;
it is NULL once nothing is left to do. Claiming a batch moves ``next_check_at`` past a lease in
the same write transaction, so two bot processes never claim the same row; on PostgreSQL the
claim skips rows another transaction has locked (``FOR UPDATE SKIP LOCKED``), so a second
process takes the next rows at once instead of waiting for the first and then finding nothing.
A row is marked ``sending`` only by the process that still holds its claim (:func:`change_claimed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.prompt_status import ACTIVE_STATUSES, PromptStatus
from storage import part_tallies
from storage.db import upsert
from storage.records import EXIT
from storage.schema import prompts


@dataclass(frozen=True, slots=True)
class Prompt:
    id: int
    enrolment_id: int
    checkpoint: str
    questionnaire_id: str
    due_at: datetime
    status: str
    next_check_at: datetime | None
    sent_at: datetime | None
    reminded_at: datetime | None
    checkin_id: int | None
    attempts: int


def _prompt(m: RowMapping) -> Prompt:
    return Prompt(
        id=m["id"],
        enrolment_id=m["enrolment_id"],
        checkpoint=m["checkpoint"],
        questionnaire_id=m["questionnaire_id"],
        due_at=m["due_at"],
        status=m["status"],
        next_check_at=m["next_check_at"],
        sent_at=m["sent_at"],
        reminded_at=m["reminded_at"],
        checkin_id=m["checkin_id"],
        attempts=m["attempts"],
    )


async def plan(
    conn: AsyncConnection,
    *,
    enrolment_id: int,
    checkpoint: str,
    questionnaire_id: str,
    due_at: datetime,
    now: datetime,
    status: str = PromptStatus.DUE,
    sent_at: datetime | None = None,
    checkin_id: int | None = None,
) -> bool:
    """Record a checkpoint for this young person unless it is already recorded."""
    statement = upsert(conn, prompts).values(
        enrolment_id=enrolment_id,
        checkpoint=checkpoint,
        questionnaire_id=questionnaire_id,
        due_at=due_at,
        status=status,
        next_check_at=now if status in (PromptStatus.DUE, PromptStatus.SENT) else None,
        sent_at=sent_at,
        checkin_id=checkin_id,
        attempts=0,
        updated_at=now,
    )
    result = await conn.execute(
        statement.on_conflict_do_nothing(
            index_elements=[prompts.c.enrolment_id, prompts.c.checkpoint]
        )
    )
    if sent_at is not None and result.rowcount == 1:  # sent: "not yet answered" from then
        await part_tallies.refresh(conn, enrolment_id)
    return result.rowcount == 1


async def claim(
    conn: AsyncConnection, *, now: datetime, lease: timedelta, limit: int, worker: str
) -> list[Prompt]:
    """Take up to ``limit`` rows whose time has come, hiding them from others for ``lease``."""
    due = (
        select(prompts.c.id)
        .where(prompts.c.next_check_at <= now)
        .order_by(prompts.c.next_check_at)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = await conn.execute(
        update(prompts)
        .where(prompts.c.id.in_(due.scalar_subquery()), prompts.c.next_check_at <= now)
        .values(next_check_at=now + lease, claimed_by=worker[:64], updated_at=now)
        .returning(*prompts.c)
    )
    return sorted((_prompt(row._mapping) for row in rows), key=lambda p: p.id)


async def renew_claims(
    conn: AsyncConnection, ids: list[int], *, worker: str, until: datetime, now: datetime
) -> None:
    """Keep the claim on rows this worker is still working on until ``until``."""
    if ids:
        await conn.execute(
            update(prompts)
            .where(prompts.c.id.in_(ids), prompts.c.claimed_by == worker[:64])
            .values(next_check_at=until, updated_at=now)
        )


async def reclaim(conn: AsyncConnection, *, worker: str, now: datetime) -> int:
    """Rows claimed by another process, which is gone (it lost the fan-out lease): due now,
    and no longer its to send (:func:`change_claimed` checks the claim)."""
    result = await conn.execute(
        update(prompts)
        .where(
            prompts.c.next_check_at > now,
            prompts.c.claimed_by.is_not(None),
            prompts.c.claimed_by != worker[:64],
        )
        .values(next_check_at=now, claimed_by=None, updated_at=now)
    )
    return result.rowcount


async def change_claimed(
    conn: AsyncConnection, prompt_id: int, *, worker: str, now: datetime, **values: Any
) -> bool:
    """Update a row only if this worker still holds its claim. Just before its request goes to
    Telegram this marks it ``sending`` (or, with ``reminded_at``, its reminder). False: another
    process took the row over, and this one must not touch or send it."""
    result = await conn.execute(
        update(prompts)
        .where(prompts.c.id == prompt_id, prompts.c.claimed_by == worker[:64])
        .values(updated_at=now, **values)
    )
    return result.rowcount == 1


async def peek(conn: AsyncConnection, at: datetime, limit: int = 1000) -> list[Prompt]:
    """Rows the scheduler would look at by ``at``, without claiming them (dry run)."""
    rows = await conn.execute(
        select(prompts)
        .where(prompts.c.next_check_at <= at)
        .order_by(prompts.c.next_check_at)
        .limit(limit)
    )
    return [_prompt(row._mapping) for row in rows]


async def change(conn: AsyncConnection, prompt_id: int, now: datetime, **values: Any) -> None:
    """Update one prompt (status, next_check_at, sent_at, ...); the scheduler is done with it
    for now, so its claim ends (unless ``claimed_by`` is given)."""
    values.setdefault("claimed_by", None)
    await conn.execute(
        update(prompts).where(prompts.c.id == prompt_id).values(updated_at=now, **values)
    )
    if values.get("sent_at") is not None:  # sent: "not yet answered" from then
        await part_tallies.refresh_prompt(conn, prompt_id)


async def by_checkin(conn: AsyncConnection, checkin_id: int) -> Prompt | None:
    row = (await conn.execute(select(prompts).where(prompts.c.checkin_id == checkin_id))).first()
    return None if row is None else _prompt(row._mapping)


async def of_enrolment(conn: AsyncConnection, enrolment_id: int) -> list[Prompt]:
    rows = await conn.execute(
        select(prompts).where(prompts.c.enrolment_id == enrolment_id).order_by(prompts.c.due_at)
    )
    return [_prompt(row._mapping) for row in rows]


async def mark_answered(conn: AsyncConnection, checkin_id: int, now: datetime) -> None:
    """The check-in of this prompt was finished."""
    await conn.execute(
        update(prompts)
        .where(prompts.c.checkin_id == checkin_id)
        .values(status=PromptStatus.ANSWERED, next_check_at=None, updated_at=now)
    )


async def drop_unsent_from(conn: AsyncConnection, enrolment_id: int, when: datetime) -> None:
    """Support ended at ``when``: checkpoints that would fall due later are not asked."""
    await conn.execute(
        delete(prompts).where(
            prompts.c.enrolment_id == enrolment_id,
            prompts.c.status == PromptStatus.DUE,
            prompts.c.due_at >= when,
            prompts.c.checkpoint != EXIT,
        )
    )


async def bring_forward_exit(
    conn: AsyncConnection, enrolment_id: int, questionnaire_id: str, now: datetime
) -> None:
    """The exit checkpoint falls due now (planned earlier, or new)."""
    result = await conn.execute(
        update(prompts)
        .where(
            prompts.c.enrolment_id == enrolment_id,
            prompts.c.checkpoint == EXIT,
            prompts.c.status == PromptStatus.DUE,
        )
        .values(due_at=now, next_check_at=now, updated_at=now)
    )
    if result.rowcount == 0:
        await plan(
            conn,
            enrolment_id=enrolment_id,
            checkpoint=EXIT,
            questionnaire_id=questionnaire_id,
            due_at=now,
            now=now,
        )


async def stop_all(conn: AsyncConnection, enrolment_id: int, now: datetime) -> None:
    """The young person is unreachable (blocked the bot, or /stop): nothing more goes out."""
    await conn.execute(
        update(prompts)
        .where(prompts.c.enrolment_id == enrolment_id, prompts.c.status.in_(ACTIVE_STATUSES))
        .values(status=PromptStatus.UNREACHABLE, next_check_at=None, updated_at=now)
    )
